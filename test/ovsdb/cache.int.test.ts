// The NB monitor cache on a real server: rows written by another client become visible, indexes
// follow, and after a reconnect the cache is resumed (RAFT) or replaced by a full resync that
// emits only what changed while we were away (standalone).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { type NbCluster, type NbServer, startNbCluster, startNbServer } from '../../src/localcluster/nb-server.ts';
import { type CacheChange, NbCache } from '../../src/ovsdb/cache.ts';
import { OvsdbClient } from '../../src/ovsdb/client.ts';
import { nbctl } from './nb-helpers.ts';

const run = promisify(execFile);
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => {});
});

async function connect(remote: string): Promise<{ client: OvsdbClient; cache: NbCache }> {
  const client = await OvsdbClient.connect(remote, { backoffInitialMs: 50, backoffMaxMs: 500 });
  cleanups.push(() => client.close());
  const cache = await NbCache.start(client);
  return { client, cache };
}

describe('NbCache', () => {
  it('sees rows another client writes, indexes them by name and external_ids:pod, and waits for them', async () => {
    const server = await startNbServer();
    cleanups.push(() => server.stop());
    await nbctl(server.remote, 'ls-add', 'pre-existing');
    const { cache } = await connect(server.remote);
    expect(cache.firstByName('Logical_Switch', 'pre-existing')).toBeDefined();

    const waiting = cache.waitFor('Logical_Switch_Port', (p) => p.external_ids.pod === 'ns1/web', 10_000);
    await nbctl(server.remote, 'ls-add', 'sw1', '--', 'lsp-add', 'sw1', 'web.ns1', '--', 'lsp-set-addresses', 'web.ns1', '00:00:00:00:00:01 10.0.0.2', '--', 'set', 'Logical_Switch_Port', 'web.ns1', 'external_ids:pod=ns1/web');
    const lsp = await waiting;
    expect(lsp.name).toBe('web.ns1');
    expect(lsp.addresses).toEqual(['00:00:00:00:00:01 10.0.0.2']);
    expect(cache.byExternalId('Logical_Switch_Port', 'pod', 'ns1/web').map((p) => p._uuid)).toEqual([lsp._uuid]);
    const sw = cache.firstByName('Logical_Switch', 'sw1')!;
    expect(sw.ports).toEqual([lsp._uuid]);
    expect(cache.parentsOf(lsp._uuid, 'Logical_Switch')).toEqual([{ table: 'Logical_Switch', column: 'ports', uuid: sw._uuid }]);

    const gone = cache.waitForAbsent('Logical_Switch_Port', (p) => p.name === 'web.ns1', 10_000);
    await nbctl(server.remote, 'lsp-del', 'web.ns1');
    await gone;
    expect(cache.byExternalId('Logical_Switch_Port', 'pod', 'ns1/web')).toEqual([]);

    await expect(cache.waitFor('Logical_Switch', (s) => s.name === 'never', 200)).rejects.toMatchObject({ code: 'CACHE_WAIT_TIMEOUT', table: 'Logical_Switch' });
  });

  it('after a standalone server restart, resyncs fully and emits only the rows changed while it was down', async () => {
    const server = await startNbServer();
    cleanups.push(() => server.stop());
    await nbctl(server.remote, 'ls-add', 'kept', '--', 'ls-add', 'doomed');
    const { client, cache } = await connect(server.remote);
    const seen: Array<{ kind: string; changes: readonly CacheChange[] }> = [];
    cache.onChange((changes, kind) => seen.push({ kind, changes }));
    const keptUuid = cache.firstByName('Logical_Switch', 'kept')!._uuid;

    await server.kill('SIGKILL');
    // change the database file while the server is down, as another writer would have
    const doomed = cache.firstByName('Logical_Switch', 'doomed')!._uuid;
    await run('ovsdb-tool', [
      'transact',
      server.dbFile,
      JSON.stringify(['OVN_Northbound', { op: 'insert', table: 'Logical_Switch', row: { name: 'added-offline' } }, { op: 'delete', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', doomed]]] }]),
    ]);
    await server.restart();
    await client.waitConnected(15_000);
    await cache.waitFor('Logical_Switch', (s) => s.name === 'added-offline', 15_000);

    const resync = seen.filter((s) => s.kind === 'resync');
    expect(resync).toHaveLength(1);
    const summary = resync[0]!.changes.map((c) => `${c.kind}:${(c.row ?? c.old)!.name}`).sort();
    expect(summary).toEqual(['delete:doomed', 'insert:added-offline']);
    expect(cache.resyncCount).toBe(1);
    expect(cache.firstByName('Logical_Switch', 'kept')!._uuid).toBe(keptUuid);
    expect(cache.firstByName('Logical_Switch', 'doomed')).toBeUndefined();
  });

  it('on a RAFT member restart, resumes from the last transaction id and keeps following changes', async () => {
    const cluster: NbCluster = await startNbCluster(1);
    cleanups.push(() => cluster.stop());
    const { client, cache } = await connect(cluster.remote);
    await nbctl(cluster.remote, 'ls-add', 'before');
    await cache.waitFor('Logical_Switch', (s) => s.name === 'before', 10_000);
    const kinds: string[] = [];
    cache.onChange((_c, kind) => kinds.push(kind));
    const events = cache.eventCount;

    await cluster.kill(0, 'SIGKILL');
    await cluster.restart(0);
    await cluster.waitForLeader(20_000);
    await client.waitConnected(20_000);
    await nbctl(cluster.remote, 'ls-add', 'after');
    await cache.waitFor('Logical_Switch', (s) => s.name === 'after', 15_000);
    expect(cache.eventCount).toBeGreaterThan(events);
    expect(cache.resyncCount).toBe(0);
    expect(kinds).not.toContain('resync');
    expect(cache.rows('Logical_Switch').map((s) => s.name).sort()).toEqual(['after', 'before']);
  });
});
