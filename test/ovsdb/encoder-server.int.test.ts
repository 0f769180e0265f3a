// The real ovsdb-server accepts what both encoders write: every method, every op kind, awkward
// strings and JS numbers, single and batched. Talks over a raw unix socket through our framer,
// not through the client, so only the encoder and framer are under test.
import { writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNbServer } from '../../src/localcluster/nb-server.ts';
import type { NbServer } from '../../src/localcluster/nb-server.ts';
import { createEncoder, EncodeError } from '../../src/ovsdb/encoder.ts';
import type { OvsdbEncoder } from '../../src/ovsdb/encoder.ts';
import { JsonStreamFramer } from '../../src/ovsdb/framer.ts';
import type { Operation, OperationResult, RpcId } from '../../src/ovsdb/protocol.ts';

interface Reply {
  id: RpcId;
  result?: unknown;
  error?: unknown;
}

/** Just enough JSON-RPC to send encoded bytes and match replies by id. */
class RawConnection {
  readonly #socket: Socket;
  readonly #framer = new JsonStreamFramer();
  readonly #waiting = new Map<RpcId, (reply: Reply) => void>();
  readonly notifications: unknown[] = [];
  #failure: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('close', () => {
      this.#failure ??= new Error('server closed the connection');
      for (const waiter of this.#waiting.values()) waiter({ id: null, error: this.#failure.message });
      this.#waiting.clear();
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const msg of this.#framer.push(chunk) as Reply[]) {
          const waiter = this.#waiting.get(msg.id);
          if (waiter) {
            this.#waiting.delete(msg.id);
            waiter(msg);
          } else this.notifications.push(msg);
        }
      } catch (err) {
        this.#failure = err as Error;
        socket.destroy();
      }
    });
  }

  static async open(path: string): Promise<RawConnection> {
    const socket = createConnection({ path });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawConnection(socket);
  }

  /** Sends `bytes` (one or several requests) and waits for a reply to each id. */
  async send(bytes: Buffer, ids: RpcId[]): Promise<Reply[]> {
    if (this.#failure) throw this.#failure;
    const replies = ids.map(
      (id) =>
        new Promise<Reply>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no reply to id ${String(id)} within 20 s`)), 20_000);
          this.#waiting.set(id, (r) => {
            clearTimeout(timer);
            resolve(r);
          });
        }),
    );
    this.#socket.write(bytes);
    return Promise.all(replies);
  }

  async call(bytes: Buffer, id: RpcId): Promise<unknown> {
    const [reply] = await this.send(bytes, [id]);
    if (reply?.error !== null && reply?.error !== undefined) throw new Error(`id ${String(id)}: server error ${JSON.stringify(reply.error)}`);
    return reply?.result;
  }

  close(): void {
    this.#socket.destroy();
  }
}

function opErrors(results: unknown): OperationResult[] {
  return (results as OperationResult[]).filter((r) => r !== null && typeof r === 'object' && 'error' in r);
}

// A small schema with every atomic type, so reals, sets and maps of them reach a real server.
const ATOMS_SCHEMA = {
  name: 'Encoder_Test',
  version: '1.0.0',
  tables: {
    Atoms: {
      columns: {
        name: { type: 'string' },
        i: { type: { key: 'integer', min: 0, max: 1 } },
        r: { type: { key: 'real', min: 0, max: 1 } },
        b: { type: { key: 'boolean', min: 0, max: 1 } },
        reals: { type: { key: 'real', min: 0, max: 'unlimited' } },
        ints: { type: { key: 'integer', min: 0, max: 'unlimited' } },
        strings: { type: { key: 'string', value: 'string', min: 0, max: 'unlimited' } },
        children: { type: { key: { type: 'uuid', refTable: 'Child' }, min: 0, max: 'unlimited' } },
      },
      isRoot: true,
    },
    Child: { columns: { tag: { type: 'string' } } },
  },
};

const AWKWARD = [
  'quote " and backslash \\ and both \\"',
  'controls \u0001\b\t\n\f\r\u001f and DEL \u007f',
  'separators \u2028 \u2029 nbsp \u00a0 bom \ufeff',
  'braces {}[] ,: inside',
  'emoji 😀 🇩🇪 clef 𝄞 han 中 accents é ß',
];

// Integers that survive both JS (exactly representable) and OVSDB's int64.
const INTS = [0, -1, 42, 2 ** 53 - 1, -(2 ** 53), 2 ** 62, -(2 ** 62)];
const REALS = [0.1, -2.5, 1e21, 1.5e-7, 2.2250738585072014e-308, 1.5e300, 0.1 + 0.2];

describe.each(['ts', 'native'] as const)('real ovsdb-server accepts the %s encoder', (impl) => {
  let nb: NbServer;
  let atoms: NbServer;
  let conn: RawConnection;
  let atomsConn: RawConnection;
  let enc: OvsdbEncoder;
  let nextId = 1;
  const id = () => nextId++;

  beforeAll(async () => {
    enc = createEncoder(impl);
    expect(enc.impl).toBe(impl);
    nb = await startNbServer({ tcp: false });
    const schemaFile = join(nb.dir, 'atoms.ovsschema');
    writeFileSync(schemaFile, JSON.stringify(ATOMS_SCHEMA));
    atoms = await startNbServer({ tcp: false, schema: schemaFile, name: 'atoms', dir: join(nb.dir, 'atoms') });
    conn = await RawConnection.open(nb.unixSocket);
    atomsConn = await RawConnection.open(atoms.unixSocket);
  });

  afterAll(async () => {
    conn?.close();
    atomsConn?.close();
    await atoms?.stop();
    await nb?.stop();
  });

  async function transact(ops: Operation[], c = conn, db = 'OVN_Northbound'): Promise<OperationResult[]> {
    const n = id();
    return (await c.call(enc.transact(n, db, ops), n)) as OperationResult[];
  }

  it('answers every non-transact method', async () => {
    let n = id();
    expect(await conn.call(enc.listDbs(n), n)).toEqual(['OVN_Northbound', '_Server']);
    n = id();
    expect(await conn.call(enc.getSchema(n, 'OVN_Northbound'), n)).toMatchObject({ name: 'OVN_Northbound' });
    n = id();
    expect(await conn.call(enc.echo(n, ['ping', 42, AWKWARD[1]]), n)).toEqual(['ping', 42, AWKWARD[1]]);
    n = id();
    expect(await conn.call(enc.setDbChangeAware(n, true), n)).toEqual({});
    const requests = { Logical_Switch: { columns: ['name'], select: { initial: true, insert: true, delete: true, modify: true } } };
    n = id();
    expect(await conn.call(enc.monitorCond(n, 'OVN_Northbound', 'm1', requests), n)).toEqual({});
    n = id();
    expect(await conn.call(enc.monitorCondSince(n, 'OVN_Northbound', 'm2', requests, '00000000-0000-0000-0000-000000000000'), n)).toEqual([
      false,
      '00000000-0000-0000-0000-000000000000',
      {},
    ]);
    for (const m of ['m1', 'm2']) {
      n = id();
      expect(await conn.call(enc.monitorCancel(n, m), n)).toEqual({});
    }
    n = id();
    expect(await conn.call(enc.lock(n, 'ovnkit_test'), n)).toEqual({ locked: true });
    n = id();
    expect(await conn.call(enc.unlock(n, 'ovnkit_test'), n)).toEqual({});
    n = id();
    expect(await conn.call(enc.steal(n, 'ovnkit_test'), n)).toEqual({ locked: true });
    // The lock is held again for the assert op below.
    n = id();
    const [unknown] = await conn.send(enc.request('no_such_method', [], n), [n]);
    expect(unknown?.error).toBe('unknown method');
  });

  it('accepts every op kind (insert with uuid-name, select, update, mutate, delete, wait, comment, assert, commit, abort)', async () => {
    const created = await transact([
      {
        op: 'insert',
        table: 'Logical_Switch',
        'uuid-name': 'ls0',
        row: { name: `sw-${impl}`, external_ids: ['map', [['vendor', 'kube-ovn']]], other_config: ['map', [['subnet', '10.16.0.0/16']]] },
      },
      {
        op: 'insert',
        table: 'Logical_Switch_Port',
        'uuid-name': 'u0000000001',
        row: { name: `p1-${impl}`, addresses: ['set', ['00:00:00:AA:BB:CC 10.16.0.5']], external_ids: ['map', [['pod', 'default/p1']]] },
      },
      { op: 'mutate', table: 'Logical_Switch', where: [['_uuid', '==', ['named-uuid', 'ls0']]], mutations: [['ports', 'insert', ['set', [['named-uuid', 'u0000000001']]]]] },
      { op: 'comment', comment: `ovnkit ${impl} "encoder" test` },
      { op: 'assert', lock: 'ovnkit_test' },
      { op: 'commit', durable: false },
    ]);
    expect(opErrors(created)).toEqual([]);
    expect(created).toHaveLength(6);
    const lsUuid = (created[0] as { uuid: [string, string] }).uuid[1];
    const lspUuid = (created[1] as { uuid: [string, string] }).uuid[1];

    const checked = await transact([
      { op: 'wait', table: 'Logical_Switch_Port', timeout: 0, where: [['name', '==', `p1-${impl}`]], columns: ['addresses'], until: '==', rows: [{ addresses: '00:00:00:AA:BB:CC 10.16.0.5' }] },
      { op: 'update', table: 'Logical_Switch_Port', where: [['_uuid', '==', ['uuid', lspUuid]]], row: { port_security: ['set', ['00:00:00:AA:BB:CC 10.16.0.5']], enabled: true } },
      { op: 'mutate', table: 'Logical_Switch_Port', where: [['name', '==', `p1-${impl}`]], mutations: [['external_ids', 'insert', ['map', [['ls', `sw-${impl}`]]]]] },
      { op: 'select', table: 'Logical_Switch_Port', where: [['external_ids', 'includes', ['map', [['pod', 'default/p1']]]]], columns: ['name', 'external_ids', 'enabled'] },
    ]);
    expect(opErrors(checked)).toEqual([]);
    expect((checked[3] as { rows: unknown[] }).rows).toEqual([
      { name: `p1-${impl}`, enabled: true, external_ids: ['map', [['ls', `sw-${impl}`], ['pod', 'default/p1']]] },
    ]);

    const aborted = await transact([{ op: 'delete', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', lsUuid]]] }, { op: 'abort' }]);
    expect(aborted[1]).toMatchObject({ error: 'aborted' });

    const deleted = await transact([
      { op: 'mutate', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', lsUuid]]], mutations: [['ports', 'delete', ['set', [['uuid', lspUuid]]]]] },
      { op: 'delete', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', lsUuid]]] },
    ]);
    expect(deleted).toEqual([{ count: 1 }, { count: 1 }]);
    // The port lost its only reference, so the server garbage-collected it at commit.
    expect(await transact([{ op: 'select', table: 'Logical_Switch_Port', where: [['_uuid', '==', ['uuid', lspUuid]]] }])).toEqual([{ rows: [] }]);
  });

  it('stores awkward strings exactly as sent', async () => {
    const ops: Operation[] = AWKWARD.map((s, i) => ({
      op: 'insert',
      table: 'Logical_Switch',
      row: { name: `${impl}-${i}-${s}`, external_ids: ['map', [[s, s]]] },
    }));
    expect(opErrors(await transact(ops))).toEqual([]);
    for (let i = 0; i < AWKWARD.length; i++) {
      const s = AWKWARD[i] as string;
      const [sel] = await transact([{ op: 'select', table: 'Logical_Switch', where: [['name', '==', `${impl}-${i}-${s}`]], columns: ['name', 'external_ids'] }]);
      expect((sel as { rows: unknown[] }).rows).toEqual([{ name: `${impl}-${i}-${s}`, external_ids: ['map', [[s, s]]] }]);
    }
  });

  it.each([
    ['U+0000', { name: 'nul \u0000' }],
    ['a lone high surrogate', { name: 'lone \ud800 high' }],
    ['a subnormal number', { name: 'tiny', nb_cfg: 5e-324 }],
  ])('refuses %s, and the server indeed drops a connection that sends it', async (_what, row) => {
    const ops: Operation[] = [{ op: 'insert', table: 'NB_Global', row }];
    expect(() => enc.transact(1, 'OVN_Northbound', ops)).toThrow(EncodeError);
    // JSON.stringify writes it anyway; the server's reaction is what justifies refusing.
    const probe = await RawConnection.open(nb.unixSocket);
    try {
      const [reply] = await probe.send(Buffer.from(JSON.stringify({ method: 'transact', params: ['OVN_Northbound', ...ops], id: 1 })), [1]);
      expect(reply?.error).toBe('server closed the connection');
    } finally {
      probe.close();
    }
  });

  it('stores a lone low surrogate escape as invalid UTF-8 (why the encoders refuse it too)', async () => {
    expect(() => enc.transact(1, 'OVN_Northbound', [{ op: 'comment', comment: '\udc00' }])).toThrow(/lone surrogate/);
    const probe = await RawConnection.open(nb.unixSocket);
    try {
      const [reply] = await probe.send(Buffer.from('{"method":"echo","params":["a\\udc00b"],"id":1}'), [1]);
      // The framer decodes the server's invalid bytes ED B0 80 as U+FFFD.
      expect(reply?.result).toEqual(['a\ufffd\ufffd\ufffdb']);
    } finally {
      probe.close();
    }
  });

  it('keeps integers and reals (sets of them too) through the real server', async () => {
    const created = await transact(
      [
        { op: 'insert', table: 'Child', 'uuid-name': 'c1', row: { tag: 'one' } },
        {
          op: 'insert',
          table: 'Atoms',
          'uuid-name': 'a1',
          row: {
            name: `nums-${impl}`,
            i: INTS[3] as number,
            r: 0.1,
            b: false,
            reals: ['set', REALS],
            ints: ['set', INTS],
            strings: ['map', AWKWARD.map((s) => [s, s] as [string, string])],
            children: ['set', [['named-uuid', 'c1']]],
          },
        },
      ],
      atomsConn,
      'Encoder_Test',
    );
    expect(opErrors(created)).toEqual([]);
    const [sel] = await transact([{ op: 'select', table: 'Atoms', where: [['name', '==', `nums-${impl}`]], columns: ['i', 'r', 'b', 'reals', 'ints', 'strings'] }], atomsConn, 'Encoder_Test');
    const row = (sel as { rows: Record<string, unknown>[] }).rows[0] as Record<string, [string, unknown[]] | unknown>;
    expect(row.i).toBe(INTS[3]);
    expect(row.r).toBe(0.1);
    expect(row.b).toBe(false);
    // ovsdb-server prints reals with 15 significant digits (%.15g): 0.1 + 0.2 comes back as 0.3.
    const to15 = (x: number) => Number(x.toPrecision(15));
    expect([...((row.reals as [string, number[]])[1])].map(to15).sort((a, b) => a - b)).toEqual(REALS.map(to15).sort((a, b) => a - b));
    expect([...((row.ints as [string, number[]])[1])].sort((a, b) => a - b)).toEqual([...INTS].sort((a, b) => a - b));
    expect(new Map((row.strings as [string, [string, string][]])[1])).toEqual(new Map(AWKWARD.map((s) => [s, s])));
  });

  it('accepts a pipelined batch of 100 LSP-create transactions in one write', async () => {
    const sw = `batch-${impl}`;
    const [made] = await transact([{ op: 'insert', table: 'Logical_Switch', row: { name: sw } }]);
    const lsUuid = (made as { uuid: [string, string] }).uuid[1];
    const items = Array.from({ length: 100 }, (_, i) => {
      const name = `u${String(i).padStart(10, '0')}`;
      return {
        id: id(),
        database: 'OVN_Northbound',
        ops: [
          {
            op: 'insert',
            table: 'Logical_Switch_Port',
            'uuid-name': name,
            row: {
              name: `pod-${i}.${impl}`,
              addresses: `00:00:00:00:${String(Math.floor(i / 100)).padStart(2, '0')}:${String(i % 100).padStart(2, '0')} 10.17.0.${i + 2}`,
              external_ids: ['map', [['ls', sw], ['pod', `${impl}/pod-${i}`], ['vendor', 'kube-ovn']]],
            },
          },
          { op: 'mutate', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', lsUuid]]], mutations: [['ports', 'insert', ['set', [['named-uuid', name]]]]] },
        ] as Operation[],
      };
    });
    const replies = await conn.send(enc.transactBatch(items), items.map((it) => it.id));
    for (const r of replies) {
      expect(r.error).toBeNull();
      expect(opErrors(r.result)).toEqual([]);
    }
    const [sel] = await transact([{ op: 'select', table: 'Logical_Switch', where: [['name', '==', sw]], columns: ['ports'] }]);
    const ports = ((sel as { rows: { ports: [string, unknown[]] }[] }).rows[0] as { ports: [string, unknown[]] }).ports;
    expect(ports[0]).toBe('set');
    expect(ports[1]).toHaveLength(100);
  });
});
