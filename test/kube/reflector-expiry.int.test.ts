// 410 Gone on a real apiserver. The watch cache never answers 410 on demand, so this cluster runs
// with --watch-cache=false and etcd is compacted by hand (local-control-plane.md §6).
// The informer's connection is frozen by a proxy while changes are made and etcd is compacted;
// when the connection comes back the watch's resourceVersion is gone, the server answers with an
// ERROR 410 event, and the relist must report exactly the changes that were missed.
import { CoreV1Api } from '@kubernetes/client-node';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resources, SharedInformer } from '../../src/kube/informer.ts';
import type { ReflectorEvent } from '../../src/kube/reflector.ts';
import { HttpKubeTransport } from '../../src/kube/watch-transport.ts';
import { silentLogger } from '../../src/kube/watch-types.ts';
import { forceWatchExpiry, kubeConfigFor, startLocalCluster } from '../../src/localcluster/index.ts';
import type { LocalCluster } from '../../src/localcluster/index.ts';
import {
  apiserverPort,
  cacheVersions,
  FreezableProxy,
  freshList,
  kubeConfigVia,
  recordHandlers,
  versionDiff,
  waitUntil,
} from './informer-fixtures.ts';

let cluster: LocalCluster;
let core: CoreV1Api;

beforeAll(async () => {
  cluster = await startLocalCluster({ apiserverOnly: true, watchCache: false, progress: false });
  core = kubeConfigFor(cluster).makeApiClient(CoreV1Api);
});

afterAll(async () => {
  await cluster?.stop();
});

describe('410 Gone', () => {
  it('a watch from a compacted resourceVersion gets ERROR 410 and the relist emits exactly the missed changes', async () => {
    const ns = 'expiry';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    const make = (name: string, v: string) => core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name }, data: { v } } });
    for (const name of ['keep', 'edit', 'edit-twice', 'remove']) await make(name, '0');

    const proxy = new FreezableProxy(apiserverPort(cluster));
    const port = await proxy.start();
    const transport = new HttpKubeTransport(kubeConfigVia(cluster, port));
    const informer = new SharedInformer({
      transport,
      resource: { ...Resources.configMaps, namespace: ns },
      log: silentLogger,
      quietTimeoutMs: 1_500,
      backoff: { initialMs: 100, maxMs: 500 },
    });
    const log = recordHandlers(informer);
    const events: ReflectorEvent[] = [];
    informer.onReflectorEvent((e) => events.push(e));
    informer.start();
    try {
      await informer.waitForSync(30_000);
      expect(log.filter((l) => l.startsWith('add '))).toHaveLength(4);
      const rvBeforeGap = informer.lastSyncResourceVersion();

      proxy.freeze();
      const startOfGap = log.length;
      const edit = await core.readNamespacedConfigMap({ name: 'edit', namespace: ns });
      const edited = await core.replaceNamespacedConfigMap({ name: 'edit', namespace: ns, body: { ...edit, data: { v: '1' } } as V1ConfigMap });
      let twice = await core.readNamespacedConfigMap({ name: 'edit-twice', namespace: ns });
      const twiceBefore = twice.metadata!.resourceVersion!;
      twice = await core.replaceNamespacedConfigMap({ name: 'edit-twice', namespace: ns, body: { ...twice, data: { v: '1' } } as V1ConfigMap });
      twice = await core.replaceNamespacedConfigMap({ name: 'edit-twice', namespace: ns, body: { ...twice, data: { v: '2' } } as V1ConfigMap });
      await core.deleteNamespacedConfigMap({ name: 'remove', namespace: ns });
      const born = await make('born', '0');
      await make('ephemeral', '0'); // created and deleted inside the gap: must produce nothing
      await core.deleteNamespacedConfigMap({ name: 'ephemeral', namespace: ns });
      const compactedAt = await cluster.compactEtcd();
      expect(compactedAt).toBeGreaterThan(Number(rvBeforeGap));
      expect(log.length).toBe(startOfGap); // nothing leaked through the frozen connection
      proxy.thaw();

      await waitUntil(() => informer.reflector.stats.expired >= 1 && informer.reflector.stats.relists >= 1, 'watch expiry and relist', 60_000);
      const missed = log.slice(startOfGap);
      expect(missed.sort()).toEqual(
        [
          `add born@${born.metadata!.resourceVersion}`,
          `update edit@${edit.metadata!.resourceVersion}->${edited.metadata!.resourceVersion}`,
          `update edit-twice@${twiceBefore}->${twice.metadata!.resourceVersion}`,
          'delete-unknown remove',
        ].sort(),
      );
      // The expiry was the server's 410 (on this apiserver: an ERROR event on a 200 stream), not a local timeout.
      const expiredEnd = events.find((e) => e.type === 'watch-ended' && e.reason === 'expired');
      expect(expiredEnd).toBeDefined();
      if (expiredEnd?.type === 'watch-ended') {
        expect(expiredEnd.error?.code).toBe('EXPIRED');
        expect(expiredEnd.error?.status).toBe(410);
      }
      expect(events.filter((e) => e.type === 'listed').map((e) => (e as { relist: boolean }).relist)).toEqual([false, true]);
      expect(versionDiff(await freshList(cluster, `/api/v1/namespaces/${ns}/configmaps`), cacheVersions(informer))).toBe('');

      // And the informer carries on watching after the relist.
      await make('later', '0');
      await waitUntil(() => log.some((l) => l.startsWith('add later@')), 'an event after the relist');
    } finally {
      await informer.stop();
      transport.close();
      await proxy.stop();
    }
  });

  it('a LIST at a compacted resourceVersion answers HTTP 410, which the transport reports as expired', async () => {
    const transport = new HttpKubeTransport(kubeConfigFor(cluster));
    try {
      const old = '2';
      await forceWatchExpiry(cluster);
      const err = await transport
        .getJson('/api/v1/namespaces/default/configmaps', { resourceVersion: old, resourceVersionMatch: 'Exact' }, AbortSignal.timeout(30_000))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toMatchObject({ code: 'EXPIRED', status: 410, expired: true });
    } finally {
      transport.close();
    }
  });
});
