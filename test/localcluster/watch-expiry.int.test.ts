// The 410 recipe for the reflector tests: with the watch cache off, forceWatchExpiry makes any
// earlier resourceVersion too old, and the apiserver answers a watch from it with an ERROR
// event carrying 410 Expired.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forceWatchExpiry, type LocalCluster, LocalClusterError, startLocalCluster } from '../../src/localcluster/index.ts';
import { apiCallOk } from '../../src/localcluster/rest.ts';
import { openWatch } from './watch-stream.ts';

let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster({ apiserverOnly: true, watchCache: false, crds: false });
});

afterAll(async () => {
  await cluster?.stop();
});

const listRv = async (ns: string): Promise<string> => {
  const list = (await apiCallOk(cluster.api(), 'list', 'GET', `/api/v1/namespaces/${ns}/configmaps`)) as { metadata: { resourceVersion: string } };
  return list.metadata.resourceVersion;
};

describe('forcing 410 Gone', () => {
  it('a watch from an RV taken before forceWatchExpiry gets the 410 ERROR event', async () => {
    const ns = 'expiry';
    await apiCallOk(cluster.api(), 'setup', 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
    const rv0 = await listRv(ns);
    await apiCallOk(cluster.api(), 'setup', 'POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'a' } });

    // Control: before compaction the same RV replays history (ADDED a), no error.
    const before = openWatch(cluster, `/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=${rv0}`);
    try {
      const added = await before.waitFor((e) => e.type === 'ADDED' || e.type === 'ERROR', 15_000);
      expect(added.type).toBe('ADDED');
      expect(added.object.metadata?.name).toBe('a');
    } finally {
      before.close();
    }

    const { compactedRevision } = await forceWatchExpiry(cluster, ns);
    expect(compactedRevision).toBeGreaterThan(Number(rv0));

    const after = openWatch(cluster, `/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=${rv0}`);
    try {
      expect(await after.status).toBe(200);
      const event = await after.waitFor(() => true, 15_000);
      expect(event.type).toBe('ERROR');
      expect(event.object.code).toBe(410);
      expect(event.object.reason).toBe('Expired');
      await after.ended;
    } finally {
      after.close();
    }

    // A fresh RV still watches fine afterwards.
    const rv1 = await listRv(ns);
    const fresh = openWatch(cluster, `/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=${rv1}`);
    try {
      await apiCallOk(cluster.api(), 'setup', 'POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'b' } });
      const added = await fresh.waitFor((e) => e.type === 'ADDED' || e.type === 'ERROR', 15_000);
      expect(added.type).toBe('ADDED');
      expect(added.object.metadata?.name).toBe('b');
    } finally {
      fresh.close();
    }
  });

  it('refuses a cluster with the watch cache on, where the recipe cannot work', async () => {
    const cached = { ...cluster, options: { ...cluster.options, watchCache: true } };
    await expect(forceWatchExpiry(cached)).rejects.toSatisfy((e) => e instanceof LocalClusterError && e.code === 'WATCH_CACHE_ENABLED');
  });
});
