// OvsdbClient against a real ovsdb-server (OVN Northbound): transact, monitor, errors, schema.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NB_SCHEMA, type NbServer, startNbServer } from '../../src/localcluster/nb-server.ts';
import { waitFor } from '../../src/localcluster/process.ts';
import { type MonitorEvent, OvsdbClient, OvsdbConnectionError, OvsdbError } from '../../src/ovsdb/index.ts';
import type { Operation, Row, Uuid } from '../../src/ovsdb/protocol.ts';
import { NB, insertSwitch } from './harness.ts';

let server: NbServer;

beforeAll(async () => {
  server = await startNbServer();
});
afterAll(async () => {
  await server?.stop();
});

function nbctl(...args: string[]): string {
  return execFileSync('ovn-nbctl', [`--db=${server.remote}`, ...args], { encoding: 'utf8' });
}

function lspInsert(name: string, lsUuid: string, uuidName = 'lsp'): Operation[] {
  return [
    { op: 'insert', table: 'Logical_Switch_Port', 'uuid-name': uuidName, row: { name, addresses: '00:00:00:AA:BB:CC 10.16.0.5' } },
    { op: 'mutate', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', lsUuid]]], mutations: [['ports', 'insert', ['named-uuid', uuidName]]] },
  ];
}

describe.each(['unix', 'tcp'] as const)('over %s', (transport) => {
  let client: OvsdbClient;
  const remote = (): string => (transport === 'unix' ? server.remote : (server.tcpRemote as string));

  beforeAll(async () => {
    client = await OvsdbClient.connect(remote());
  });
  afterAll(async () => {
    await client?.close();
  });

  it('reads the schema and guards columns the server lacks', () => {
    const schema = client.schema(NB);
    expect(schema.name).toBe(NB);
    expect(schema.version).toMatch(/^7\.\d+\.\d+$/);
    expect(client.hasColumn('Logical_Switch_Port', 'addresses')).toBe(true);
    expect(client.hasColumn('Logical_Switch_Port', 'no_such_column')).toBe(false);
    expect(client.hasColumn('No_Such_Table', 'name')).toBe(false);
    expect(client.currentRemote).toBe(remote());
  });

  it('transacts, and ovn-nbctl sees the rows', async () => {
    const name = `sw-${transport}`;
    const [res] = await client.transact(NB, [insertSwitch(name, { vendor: 'kube-ovn' })]);
    expect(res).toMatchObject({ uuid: ['uuid', expect.stringMatching(/^[0-9a-f-]{36}$/)] });
    const lsUuid = (res as { uuid: Uuid }).uuid[1];
    const results = await client.transact(NB, lspInsert(`pod-a.${transport}`, lsUuid));
    expect(results).toHaveLength(2);
    expect(results[1]).toEqual({ count: 1 });
    expect(nbctl('--bare', '--columns=name', 'find', 'Logical_Switch', `name=${name}`).trim()).toBe(name);
    expect(nbctl('lsp-list', name)).toContain(`pod-a.${transport}`);
  });

  it('delivers the monitor update before the transact reply resolves', async () => {
    const seen = new Map<string, string>();
    const order: string[] = [];
    const handle = await client.monitor(NB, `mon-order-${transport}`, { Logical_Switch: { columns: ['name'] } }, (e: MonitorEvent) => {
      for (const [uuid, change] of Object.entries(e.updates.Logical_Switch ?? {})) {
        const row = 'insert' in change ? change.insert : 'initial' in change ? change.initial : undefined;
        if (row) seen.set(uuid, row.name as string);
        if ('insert' in change) order.push(`update:${row?.name as string}`);
      }
    });
    for (let i = 0; i < 20; i++) {
      const name = `order-${transport}-${i}`;
      const [res] = await client.transact(NB, [insertSwitch(name)]);
      // The row must already be in the monitor's view when the reply resolves.
      expect(seen.get((res as { uuid: Uuid }).uuid[1])).toBe(name);
      order.push(`reply:${name}`);
    }
    for (let i = 0; i < 20; i++) {
      expect(order.indexOf(`update:order-${transport}-${i}`)).toBeLessThan(order.indexOf(`reply:order-${transport}-${i}`));
    }
    await handle.cancel();
  });

  it('maps a per-op error (later ops null) to OvsdbError with table and op index', async () => {
    const ops: Operation[] = [
      insertSwitch(`per-op-${transport}`),
      { op: 'insert', table: 'Logical_Router_Policy', row: { priority: 10, match: 'ip4', action: 'forward' } },
      { op: 'select', table: 'Logical_Switch', where: [], columns: ['name'] },
    ];
    const err = await client.transact(NB, ops).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OvsdbError);
    const e = err as OvsdbError;
    expect(e.code).toBe('constraint violation');
    expect(e.stage).toBe('transact');
    expect(e.opIndex).toBe(1);
    expect(e.table).toBe('Logical_Router_Policy');
    expect(e.details).toMatch(/forward is not one of the allowed values/);
    expect(e.results?.[2]).toBeNull();
    // The whole transaction was rolled back.
    expect(nbctl('--bare', '--columns=name', 'find', 'Logical_Switch', `name=per-op-${transport}`).trim()).toBe('');
  });

  it('maps a commit-time duplicate LSP name to OvsdbError (extra element past the op count)', async () => {
    const [res] = await client.transact(NB, [insertSwitch(`dup-${transport}`)]);
    const lsUuid = (res as { uuid: Uuid }).uuid[1];
    await client.transact(NB, lspInsert(`dup-port.${transport}`, lsUuid));
    const ops = lspInsert(`dup-port.${transport}`, lsUuid);
    const err = (await client.transact(NB, ops).catch((e: unknown) => e)) as OvsdbError;
    expect(err).toBeInstanceOf(OvsdbError);
    expect(err.code).toBe('constraint violation');
    expect(err.stage).toBe('commit');
    expect(err.commit).toBe(true);
    expect(err.opIndex).toBe(ops.length);
    expect(err.table).toBe('Logical_Switch_Port');
    expect(err.details).toContain(`dup-port.${transport}`);
    expect(err.results).toHaveLength(ops.length + 1);
  });

  it('maps a referential integrity violation at commit', async () => {
    const [res] = await client.transact(NB, [insertSwitch(`ref-${transport}`)]);
    const lsUuid = (res as { uuid: Uuid }).uuid[1];
    const [lspRes] = await client.transact(NB, lspInsert(`ref-port.${transport}`, lsUuid));
    const lspUuid = (lspRes as { uuid: Uuid }).uuid[1];
    const err = (await client
      .transact(NB, [{ op: 'delete', table: 'Logical_Switch_Port', where: [['_uuid', '==', ['uuid', lspUuid]]] }])
      .catch((e: unknown) => e)) as OvsdbError;
    expect(err).toBeInstanceOf(OvsdbError);
    expect(err.code).toBe('referential integrity violation');
    expect(err.stage).toBe('commit');
    expect(err.opIndex).toBe(1);
    expect(err.table).toBe('Logical_Switch_Port');
    expect(err.details).toMatch(/remaining reference/);
  });

  it('refuses an unknown column before sending, with the server error code', async () => {
    const err = (await client
      .transact(NB, [{ op: 'insert', table: 'Logical_Switch', row: { name: 'x', no_such_column: 'y' } }])
      .catch((e: unknown) => e)) as OvsdbError;
    expect(err).toBeInstanceOf(OvsdbError);
    expect(err.code).toBe('unknown column');
    expect(err.stage).toBe('schema');
    expect(err.table).toBe('Logical_Switch');
  });

  it('the server itself rejects an unknown column the same way when the guard is off', async () => {
    const raw = await OvsdbClient.connect(remote(), { validateColumns: false });
    try {
      const err = (await raw
        .transact(NB, [{ op: 'insert', table: 'Logical_Switch', row: { name: 'x', no_such_column: 'y' } }])
        .catch((e: unknown) => e)) as OvsdbError;
      expect(err).toBeInstanceOf(OvsdbError);
      expect(err.code).toBe('unknown column');
      expect(err.stage).toBe('transact');
    } finally {
      await raw.close();
    }
  });

  it('rejects an unknown method with OvsdbError and keeps the connection', async () => {
    const err = (await client.call('no_such_method', []).catch((e: unknown) => e)) as OvsdbError;
    expect(err).toBeInstanceOf(OvsdbError);
    expect(err.code).toBe('unknown method');
    expect(err.stage).toBe('rpc');
    expect(err.method).toBe('no_such_method');
    expect(await client.call('echo', ['still', 'here'])).toEqual(['still', 'here']);
  });

  it('transactMany sends several transactions in one write; each settles on its own', async () => {
    const txns: Operation[][] = Array.from({ length: 50 }, (_, i) => [insertSwitch(`many-${transport}-${i}`)]);
    // One of them fails its own op; the others must still commit.
    txns[7] = [{ op: 'insert', table: 'Logical_Router_Policy', row: { priority: 1, match: 'ip4', action: 'bogus' } }];
    const settled = await Promise.allSettled(client.transactMany(NB, txns));
    settled.forEach((r, i) => {
      if (i === 7) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'constraint violation', opIndex: 0, table: 'Logical_Router_Policy' } });
      else expect(r.status).toBe('fulfilled');
    });
    const names = nbctl('--bare', '--columns=name', 'list', 'Logical_Switch');
    for (let i = 0; i < 50; i++) if (i !== 7) expect(names).toContain(`many-${transport}-${i}\n`);
    // The schema guard refuses the whole set before anything is sent.
    const guarded = await Promise.allSettled(
      client.transactMany(NB, [[insertSwitch(`guard-${transport}`)], [{ op: 'insert', table: 'Logical_Switch', row: { nope: 1 } }]]),
    );
    expect(guarded.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(nbctl('--bare', '--columns=name', 'find', 'Logical_Switch', `name=guard-${transport}`).trim()).toBe('');
  });

  it('pipelines many transactions and matches every reply to its request', async () => {
    const names = Array.from({ length: 300 }, (_, i) => `pipe-${transport}-${i}`);
    const results = await Promise.all(names.map((n) => client.transact(NB, [insertSwitch(n), { op: 'select', table: 'Logical_Switch', where: [['name', '==', n]], columns: ['name'] }])));
    results.forEach((r, i) => expect((r[1] as { rows: { name: string }[] }).rows).toEqual([{ name: names[i] }]));
  });
});

describe('monitor', () => {
  it('returns existing rows as the initial state with reset, then inserts, modifies and deletes', async () => {
    const client = await OvsdbClient.connect(server.remote);
    try {
      const [res] = await client.transact(NB, [insertSwitch('mon-existing')]);
      const uuid = (res as { uuid: Uuid }).uuid[1];
      const events: MonitorEvent[] = [];
      await client.monitor(NB, 'mon-lifecycle', { Logical_Switch: { columns: ['name', 'external_ids'], where: [['name', '==', 'mon-existing']] } }, (e) => events.push(e));
      expect(events[0]?.kind).toBe('initial');
      expect(events[0]?.reset).toBe(true);
      // update2 leaves out columns that hold their default (here the empty external_ids map).
      expect(events[0]?.updates.Logical_Switch?.[uuid]).toEqual({ initial: { name: 'mon-existing' } });
      await client.transact(NB, [{ op: 'update', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', uuid]]], row: { external_ids: ['map', [['k', 'v']]] } }]);
      await client.transact(NB, [{ op: 'delete', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', uuid]]] }]);
      expect(events.slice(1).map((e) => e.updates.Logical_Switch?.[uuid])).toEqual([
        { modify: { external_ids: ['map', [['k', 'v']]] } },
        { delete: null },
      ]);
    } finally {
      await client.close();
    }
  });

  it('rejects a second monitor with the same id', async () => {
    const client = await OvsdbClient.connect(server.remote);
    try {
      await client.monitor(NB, 'twice', { NB_Global: { columns: ['nb_cfg'] } }, () => {});
      await expect(client.monitor(NB, 'twice', { NB_Global: { columns: ['nb_cfg'] } }, () => {})).rejects.toMatchObject({ code: 'duplicate monitor id' });
    } finally {
      await client.close();
    }
  });
});

describe('connect', () => {
  it('rejects within its timeout naming every remote when none is reachable', async () => {
    const remote = 'unix:/nonexistent/nb.sock,tcp:127.0.0.1:1';
    const t0 = Date.now();
    const err = (await OvsdbClient.connect(remote, { connectTimeoutMs: 1500 }).catch((e: unknown) => e)) as OvsdbConnectionError;
    const elapsed = Date.now() - t0;
    expect(err).toBeInstanceOf(OvsdbConnectionError);
    expect(err.code).toBe('ConnectFailed');
    expect(err.remote).toBe(remote);
    expect(err.message).toContain('unix:/nonexistent/nb.sock');
    expect(err.message).toContain('tcp:127.0.0.1:1');
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(6000);
  });

  it('defaults to a connect timeout of at most 10 s', async () => {
    const t0 = Date.now();
    await expect(OvsdbClient.connect('unix:/nonexistent/nb.sock')).rejects.toMatchObject({ code: 'ConnectFailed' });
    expect(Date.now() - t0).toBeLessThan(14_000);
  }, 30_000);

  it('falls through an unreachable remote in a list to a live one', async () => {
    const client = await OvsdbClient.connect(`unix:/nonexistent/nb.sock,${server.remote}`);
    expect(client.currentRemote).toBe(server.remote);
    await client.close();
  });

  it('names the database when the server does not serve it', async () => {
    const err = (await OvsdbClient.connect(server.remote, { database: 'OVN_Southbound', connectTimeoutMs: 500 }).catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ code: 'ConnectFailed' });
    expect(err.message).toMatch(/no database OVN_Southbound \(it serves OVN_Northbound, _Server/);
  });

  it('connects over IPv6 loopback (tcp:[::1]:PORT)', async () => {
    // A remote added at runtime through the server's unixctl, as an operator would.
    execFileSync('ovs-appctl', ['-t', server.ctlSocket, 'ovsdb-server/add-remote', 'ptcp:0:[::1]']);
    const port = await waitFor(() => /0:\[::1\]: listening on port (\d+)/.exec(readFileSync(server.logFile, 'utf8'))?.[1], {
      timeoutMs: 5000,
      what: 'IPv6 listener in the server log',
    });
    const client = await OvsdbClient.connect(`tcp:[::1]:${port}`);
    try {
      expect(client.currentRemote).toBe(`tcp:[::1]:${port}`);
      await client.transact(NB, [insertSwitch('over-ipv6')]);
    } finally {
      await client.close();
    }
  });

  it('rejects bad remote strings with BadRemote', async () => {
    for (const bad of ['', 'nb.sock', 'tcp:127.0.0.1', 'tcp:host:99999', 'udp:1.2.3.4:5']) {
      await expect(OvsdbClient.connect(bad)).rejects.toMatchObject({ code: 'BadRemote' });
    }
  });

  it('a closed client rejects requests at once with ClientClosed', async () => {
    const client = await OvsdbClient.connect(server.remote);
    await client.close();
    await expect(client.transact(NB, [])).rejects.toMatchObject({ code: 'ClientClosed' });
  });
});

describe('schema differences between servers', () => {
  it('hasColumn and the guard follow the schema the server actually runs', async () => {
    // An older NB schema stand-in: the stock 7.0.0 schema without Logical_Switch_Port.mirror_rules,
    // served by a real ovsdb-server. The same write is then accepted by one server and refused
    // (before sending) for the other.
    const dir = mkdtempSync(join(tmpdir(), 'ovnkit-schema-'));
    const schema = JSON.parse(readFileSync(NB_SCHEMA, 'utf8')) as { version: string; tables: Record<string, { columns: Record<string, unknown> }> };
    delete schema.tables.Logical_Switch_Port?.columns.mirror_rules;
    schema.version = '6.99.0';
    const schemaFile = join(dir, 'old-nb.ovsschema');
    writeFileSync(schemaFile, JSON.stringify(schema));
    const old = await startNbServer({ schema: schemaFile, tcp: false });
    const oldClient = await OvsdbClient.connect(old.remote);
    const newClient = await OvsdbClient.connect(server.remote);
    try {
      expect(oldClient.schema(NB).version).toBe('6.99.0');
      expect(oldClient.hasColumn('Logical_Switch_Port', 'mirror_rules')).toBe(false);
      expect(newClient.hasColumn('Logical_Switch_Port', 'mirror_rules')).toBe(true);
      const write = (lsName: string): Operation[] => [
        { op: 'insert', table: 'Logical_Switch_Port', 'uuid-name': 'p', row: { name: `${lsName}-p`, mirror_rules: ['set', []] } },
        { op: 'insert', table: 'Logical_Switch', row: { name: lsName, ports: ['named-uuid', 'p'] } },
      ];
      await newClient.transact(NB, write('schema-new'));
      await expect(oldClient.transact(NB, write('schema-old'))).rejects.toMatchObject({
        code: 'unknown column',
        stage: 'schema',
        table: 'Logical_Switch_Port',
        opIndex: 0,
      });
      // What a caller does instead: write the column only where it exists.
      const row: Row = { name: 'schema-old-p' };
      if (oldClient.hasColumn('Logical_Switch_Port', 'mirror_rules')) row.mirror_rules = ['set', []];
      await oldClient.transact(NB, [
        { op: 'insert', table: 'Logical_Switch_Port', 'uuid-name': 'p', row },
        { op: 'insert', table: 'Logical_Switch', row: { name: 'schema-old', ports: ['named-uuid', 'p'] } },
      ]);
    } finally {
      await oldClient.close();
      await newClient.close();
      await old.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
