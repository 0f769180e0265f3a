// The coalescer against the real server: concurrent transactions become one transact, each caller
// gets its own results, and one bad member fails alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NbServer, startNbServer } from '../../src/localcluster/nb-server.ts';
import { OvsdbClient } from '../../src/ovsdb/client.ts';
import { TransactionCoalescer } from '../../src/ovsdb/coalescer.ts';
import { OvsdbError } from '../../src/ovsdb/errors.ts';
import type { Operation } from '../../src/ovsdb/protocol.ts';
import { nbFind, nbctl } from './nb-helpers.ts';

let server: NbServer;
let client: OvsdbClient;
let transacts = 0;
const DB = 'OVN_Northbound';

function coalescer(): TransactionCoalescer {
  return new TransactionCoalescer((ops) => {
    transacts++;
    return client.transact(DB, ops);
  });
}

const pgInsert = (name: string): Operation[] => [{ op: 'insert', table: 'Port_Group', row: { name, external_ids: ['map', [['vendor', 'kube-ovn']]] } }];

beforeAll(async () => {
  server = await startNbServer();
  client = await OvsdbClient.connect(server.remote);
  await nbctl(server.remote, 'ls-add', 'sw');
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
});

describe('TransactionCoalescer on a real ovsdb-server', () => {
  it('merges 100 concurrent inserts into one transact and hands each caller its own uuid', async () => {
    const c = coalescer();
    transacts = 0;
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => c.submit(pgInsert(`pg-a-${i}`))));
    expect(transacts).toBe(1);
    const uuids = results.map((r) => (r[0] as { uuid: [string, string] }).uuid[1]);
    expect(new Set(uuids).size).toBe(100);
    // each caller's uuid really is the row with the name it inserted
    for (const i of [0, 42, 99]) expect(await nbctl(server.remote, 'get', 'Port_Group', `pg-a-${i}`, '_uuid')).toBe(uuids[i]);
  });

  it('isolates one duplicate name (a commit-time error) from 99 good members', async () => {
    await nbctl(server.remote, 'pg-add', 'pg-taken');
    const c = coalescer();
    transacts = 0;
    const names = Array.from({ length: 100 }, (_, i) => (i === 37 ? 'pg-taken' : `pg-b-${i}`));
    const out = await Promise.allSettled(names.map((n) => c.submit(pgInsert(n))));
    const rejected = out.flatMap((o, i) => (o.status === 'rejected' ? [i] : []));
    expect(rejected).toEqual([37]);
    const err = (out[37] as PromiseRejectedResult).reason as OvsdbError;
    expect(err).toBeInstanceOf(OvsdbError);
    expect(err.code).toBe('constraint violation');
    expect(err.details).toContain('pg-taken');
    expect((await nbFind(server.remote, 'Port_Group', 'name')).filter((n) => n.startsWith('pg-b-'))).toHaveLength(99);
    // bisection, not 100 separate retries
    expect(transacts).toBeLessThanOrEqual(1 + 2 * 7);
  });

  it('isolates an op error (bad enum value) to its member, with the op index relative to that member', async () => {
    const c = coalescer();
    transacts = 0;
    const bad: Operation[] = [
      { op: 'insert', table: 'Logical_Router', row: { name: 'r-ok-in-bad-member' } },
      { op: 'insert', table: 'Logical_Router_Policy', row: { priority: 1, match: 'ip4', action: 'forward' } },
    ];
    const members = [...Array.from({ length: 30 }, (_, i) => pgInsert(`pg-c-${i}`)), bad, ...Array.from({ length: 30 }, (_, i) => pgInsert(`pg-c-${30 + i}`))];
    const out = await Promise.allSettled(members.map((m) => c.submit(m)));
    expect(out.map((o) => o.status).filter((s) => s === 'rejected')).toHaveLength(1);
    const err = (out[30] as PromiseRejectedResult).reason as OvsdbError;
    expect(err.code).toBe('constraint violation');
    expect(err.opIndex).toBe(1);
    expect(transacts).toBe(2);
    expect((await nbFind(server.remote, 'Port_Group', 'name')).filter((n) => n.startsWith('pg-c-'))).toHaveLength(60);
    expect(await nbFind(server.remote, 'Logical_Router', 'name', 'name=r-ok-in-bad-member')).toEqual([]);
  });

  it('renames clashing uuid-names so 50 members using the same name all land on the switch', async () => {
    const c = coalescer();
    transacts = 0;
    const member = (i: number): Operation[] => [
      { op: 'insert', table: 'Logical_Switch_Port', 'uuid-name': 'newport', row: { name: `clash-${i}` } },
      { op: 'mutate', table: 'Logical_Switch', where: [['name', '==', 'sw']], mutations: [['ports', 'insert', ['named-uuid', 'newport']]] },
    ];
    await Promise.all(Array.from({ length: 50 }, (_, i) => c.submit(member(i))));
    expect(transacts).toBe(1);
    const listed = (await nbctl(server.remote, 'lsp-list', 'sw')).split('\n').filter((l) => l.includes('clash-'));
    expect(listed).toHaveLength(50);
  });

  it('keeps batches within maxOps', async () => {
    const c = new TransactionCoalescer(
      (ops) => {
        transacts++;
        expect(ops.length).toBeLessThanOrEqual(64);
        return client.transact(DB, ops);
      },
      { maxOps: 64 },
    );
    transacts = 0;
    await Promise.all(Array.from({ length: 200 }, (_, i) => c.submit(pgInsert(`pg-d-${i}`))));
    expect(transacts).toBeGreaterThanOrEqual(Math.ceil(200 / 64));
    expect((await nbFind(server.remote, 'Port_Group', 'name')).filter((n) => n.startsWith('pg-d-'))).toHaveLength(200);
  });
});
