// 5k pods listed (paginated) and watched through a real apiserver; the cache must end equal to a
// fresh LIST, with its indexes consistent. Pods only need to exist as objects: nothing schedules
// or runs them (no controller-manager, so the namespace's default ServiceAccount is made by hand).
import type { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resources, SharedInformer } from '../../src/kube/informer.ts';
import type { ReflectorEvent } from '../../src/kube/reflector.ts';
import { NODE_INDEX } from '../../src/kube/store.ts';
import { HttpKubeTransport } from '../../src/kube/watch-transport.ts';
import { trimPod } from '../../src/kube/watch-transforms.ts';
import type { TrimmedPod } from '../../src/kube/watch-transforms.ts';
import { silentLogger } from '../../src/kube/watch-types.ts';
import { kubeConfigFor, startLocalCluster } from '../../src/localcluster/index.ts';
import type { LocalCluster } from '../../src/localcluster/index.ts';
import {
  cacheVersions,
  coreApi,
  createNamespaceWithServiceAccount,
  createPods,
  freshList,
  inPool,
  versionDiff,
  waitUntil,
} from './informer-fixtures.ts';

let cluster: LocalCluster;
let core: CoreV1Api;

beforeAll(async () => {
  cluster = await startLocalCluster({ apiserverOnly: true, progress: false });
  core = coreApi(cluster);
});

afterAll(async () => {
  await cluster?.stop();
});

const NODES = 10;
const progress = (what: string) => (done: number) => process.stderr.write(`[informer-scale] ${what}: ${done}\n`);

describe('5k pods', () => {
  it('lists 2.5k in pages, watches 2.5k more plus updates and deletes, and ends equal to a fresh LIST', { timeout: 600_000 }, async () => {
    const ns = 'scale';
    await createNamespaceWithServiceAccount(core, ns);
    await createPods(core, ns, 'pre-', 0, 2500, { nodes: NODES, progress: progress('created before start') });

    const transport = new HttpKubeTransport(kubeConfigFor(cluster));
    const informer = new SharedInformer<TrimmedPod>({
      transport,
      resource: { ...Resources.pods, namespace: ns },
      transform: trimPod,
      log: silentLogger,
      backoff: { initialMs: 200, maxMs: 2_000 },
    });
    const events: ReflectorEvent[] = [];
    informer.onReflectorEvent((e) => events.push(e));
    let adds = 0;
    let updates = 0;
    let deletes = 0;
    informer.addEventHandler({ onAdd: () => adds++, onUpdate: () => updates++, onDelete: () => deletes++ });
    informer.start();
    try {
      await informer.waitForSync(120_000);
      expect(informer.store.size).toBe(2500);
      const listed = events.find((e) => e.type === 'listed');
      expect(listed).toMatchObject({ items: 2500, relist: false });
      expect((listed as { pages: number }).pages).toBeGreaterThanOrEqual(5); // 500 per page
      // The transform really trimmed: no container spec kept.
      expect(Object.keys(informer.store.get(`${ns}/pre-0`)!.spec)).toEqual(['nodeName']);

      await createPods(core, ns, 'live-', 2500, 5000, { nodes: NODES, progress: progress('created while watching') });
      await inPool(Array.from({ length: 500 }, (_, k) => k), 32, async (k) => {
        await core.patchNamespacedPod(
          { name: `pre-${k}`, namespace: ns, body: [{ op: 'add', path: '/metadata/labels/touched', value: 'yes' }] },
        );
      });
      await inPool(Array.from({ length: 500 }, (_, k) => 1000 + k), 32, async (k) => {
        await core.deleteNamespacedPod({ name: `pre-${k}`, namespace: ns, gracePeriodSeconds: 0 });
      });

      const truth = await freshList(cluster, `/api/v1/namespaces/${ns}/pods`);
      expect(truth.size).toBe(4500);
      await waitUntil(() => versionDiff(truth, cacheVersions(informer)) === '', 'cache equal to a fresh LIST', 120_000, 200);
      expect(adds).toBe(5000);
      expect(updates).toBeGreaterThanOrEqual(500);
      expect(deletes).toBe(500);
      expect(informer.store.get(`${ns}/pre-0`)!.metadata.labels?.touched).toBe('yes');
      expect(informer.store.get(`${ns}/pre-1000`)).toBeUndefined();
      // Node index agrees with a recount from the cache.
      let indexed = 0;
      for (let n = 0; n < NODES; n++) {
        const keys = informer.store.indexKeys(NODE_INDEX, `node-${n}`);
        indexed += keys.length;
        for (const key of keys) expect(informer.store.get(key)!.spec.nodeName).toBe(`node-${n}`);
      }
      expect(indexed).toBe(4500);
      expect(informer.reflector.stats.skipped).toBe(0);
    } finally {
      await informer.stop();
      transport.close();
    }
  });
});
