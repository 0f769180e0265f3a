// Informers against a real etcd + kube-apiserver (watch cache on, as in production).
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { CoreV1Api, V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InformerFactory, Resources, SharedInformer } from '../../src/kube/informer.ts';
import type { ReflectorEvent } from '../../src/kube/reflector.ts';
import { HttpKubeTransport } from '../../src/kube/watch-transport.ts';
import { silentLogger } from '../../src/kube/watch-types.ts';
import { kubeConfigFor, startLocalCluster } from '../../src/localcluster/index.ts';
import type { LocalCluster } from '../../src/localcluster/index.ts';
import {
  apiserverPort,
  cacheVersions,
  coreApi,
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
  cluster = await startLocalCluster({ apiserverOnly: true, progress: false });
  core = coreApi(cluster);
});

afterAll(async () => {
  await cluster?.stop();
});

function configMaps(namespace: string) {
  return { ...Resources.configMaps, namespace };
}

async function newNamespace(name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
}

const fastRetry = { initialMs: 100, maxMs: 1_000 };

describe('informer on a real apiserver', () => {
  it('delivers adds, updates and deletes in order and keeps the store equal to the server', async () => {
    await newNamespace('basic');
    await core.createNamespacedConfigMap({ namespace: 'basic', body: { metadata: { name: 'pre' }, data: { a: '1' } } });
    const transport = new HttpKubeTransport(kubeConfigFor(cluster));
    const informer = new SharedInformer({ transport, resource: configMaps('basic'), log: silentLogger, backoff: fastRetry });
    const log = recordHandlers(informer);
    const events: ReflectorEvent[] = [];
    informer.onReflectorEvent((e) => events.push(e));
    informer.start();
    try {
      await informer.waitForSync(30_000);
      expect(log).toEqual([expect.stringMatching(/^add pre@\d+$/)]);

      const created = await core.createNamespacedConfigMap({ namespace: 'basic', body: { metadata: { name: 'x' }, data: { v: '1' } } });
      const updated = await core.replaceNamespacedConfigMap({ name: 'x', namespace: 'basic', body: { ...created, data: { v: '2' } } as V1ConfigMap });
      await core.deleteNamespacedConfigMap({ name: 'pre', namespace: 'basic' });
      await waitUntil(() => log.length >= 4, 'three watch events');
      const rvCreated = created.metadata!.resourceVersion!;
      const rvUpdated = updated.metadata!.resourceVersion!;
      expect(log.slice(1)).toEqual([`add x@${rvCreated}`, `update x@${rvCreated}->${rvUpdated}`, expect.stringMatching(/^delete pre@\d+$/)]);
      expect((informer.store.get('basic/x')?.data as Record<string, string>).v).toBe('2');
      expect(versionDiff(await freshList(cluster, '/api/v1/namespaces/basic/configmaps'), cacheVersions(informer))).toBe('');
      expect(events.find((e) => e.type === 'listed')).toMatchObject({ items: 1, relist: false });
      expect(informer.reflector.stats.expired).toBe(0);
    } finally {
      await informer.stop();
      transport.close();
    }
  });

  it('shares one watch per resource between callers (informerFor returns the same informer)', async () => {
    await newNamespace('shared');
    // A kubeconfig file path works as well as a KubeConfig object.
    const factory = new InformerFactory({ kubeConfig: cluster.kubeconfig, log: silentLogger, backoff: fastRetry });
    const a = factory.informerFor(configMaps('shared'));
    const b = factory.informerFor(configMaps('shared'), { indexers: { byData: (o) => Object.keys((o.data as object) ?? {}) } });
    expect(b).toBe(a);
    expect(factory.informerFor(configMaps('other'))).not.toBe(a);
    const seenA: string[] = [];
    const seenB: string[] = [];
    a.addEventHandler({ onAdd: (o) => seenA.push(o.metadata.name) });
    b.addEventHandler({ onAdd: (o) => seenB.push(o.metadata.name) });
    factory.start();
    try {
      await factory.waitForSync(30_000);
      await core.createNamespacedConfigMap({ namespace: 'shared', body: { metadata: { name: 'one' }, data: { k1: 'v' } } });
      await waitUntil(() => seenA.length === 1 && seenB.length === 1, 'both handlers');
      expect(a.reflector.stats.watches).toBe(1);
      expect(a.store.indexKeys('byData', 'k1')).toEqual(['shared/one']);
      // A different transform for an existing informer is a programming error, reported at once.
      expect(() => factory.informerFor(configMaps('shared'), { transform: (o) => o })).toThrow(/different transform/);
    } finally {
      await factory.stop();
    }
  });

  it('watches Kube-OVN custom resources (cluster-scoped Subnet) through the same machinery', async () => {
    const transport = new HttpKubeTransport(kubeConfigFor(cluster));
    const informer = new SharedInformer({ transport, resource: Resources.subnets, log: silentLogger, backoff: fastRetry });
    const log = recordHandlers(informer);
    informer.start();
    try {
      await informer.waitForSync(30_000);
      const body = { apiVersion: 'kubeovn.io/v1', kind: 'Subnet', metadata: { name: 'watched' }, spec: { protocol: 'IPv4', cidrBlock: '10.77.0.0/16', gateway: '10.77.0.1' } };
      await kubeConfigFor(cluster).makeApiClient(CustomObjectsApi).createClusterCustomObject({ group: 'kubeovn.io', version: 'v1', plural: 'subnets', body });
      await waitUntil(() => log.some((l) => l.startsWith('add watched@')), 'Subnet add');
      expect(informer.store.get('watched')?.spec).toMatchObject({ cidrBlock: '10.77.0.0/16' });
    } finally {
      await informer.stop();
      transport.close();
    }
  });

  it('recovers from an apiserver restart mid-watch: every write before, during and after is observed', async () => {
    await newNamespace('restart');
    const transport = new HttpKubeTransport(kubeConfigFor(cluster));
    const informer = new SharedInformer({ transport, resource: configMaps('restart'), log: silentLogger, backoff: { initialMs: 200, maxMs: 2_000 } });
    const log = recordHandlers(informer);
    informer.start();
    await informer.waitForSync(30_000);
    const written = new Set<string>();
    let writing = true;
    let i = 0;
    // A writer that keeps going through the restart, retrying while the apiserver is down.
    const writer = (async () => {
      while (writing) {
        const name = `w${i}`;
        try {
          await core.createNamespacedConfigMap({ namespace: 'restart', body: { metadata: { name }, data: { i: String(i) } } });
          written.add(name);
          i++;
        } catch (err) {
          const code = (err as { code?: number }).code;
          if (code === 409) {
            written.add(name); // the first attempt landed before the connection broke
            i++;
          } else {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await waitUntil(() => written.size >= 10, 'writes before the restart');
      await cluster.restartApiserver();
      const afterRestart = written.size;
      // Writes right after the restart, plus an update and a delete of pre-restart objects.
      await waitUntil(() => written.size >= afterRestart + 20, 'writes after the restart', 60_000);
      writing = false;
      await writer;
      const w0 = await core.readNamespacedConfigMap({ name: 'w0', namespace: 'restart' });
      await core.replaceNamespacedConfigMap({ name: 'w0', namespace: 'restart', body: { ...w0, data: { i: 'changed' } } as V1ConfigMap });
      await core.deleteNamespacedConfigMap({ name: 'w1', namespace: 'restart' });

      const truth = await freshList(cluster, '/api/v1/namespaces/restart/configmaps');
      await waitUntil(() => versionDiff(truth, cacheVersions(informer)) === '', 'cache equal to a fresh LIST', 60_000);
      for (const name of written) {
        expect(log.some((l) => l.startsWith(`add ${name}@`)), `add of ${name} observed`).toBe(true);
      }
      expect(log.some((l) => l.startsWith('delete w1@') || l === 'delete-unknown w1')).toBe(true);
      expect((informer.store.get('restart/w0')?.data as Record<string, string>).i).toBe('changed');
      // The watch really broke and was re-established (not a test that passes without a restart).
      const s = informer.reflector.stats;
      expect(s.watches).toBeGreaterThanOrEqual(2);
      expect(s.watchErrors + s.expired).toBeGreaterThanOrEqual(1);
    } finally {
      writing = false;
      await writer;
      await informer.stop();
      transport.close();
    }
  });

  it('restarts a watch whose connection went silent (half-open), and then sees the writes it missed', async () => {
    await newNamespace('silent');
    const proxy = new FreezableProxy(apiserverPort(cluster));
    const port = await proxy.start();
    const transport = new HttpKubeTransport(kubeConfigVia(cluster, port));
    // The server sends a bookmark about once a minute; a watch quiet for 3 s is declared dead here.
    const informer = new SharedInformer({ transport, resource: configMaps('silent'), log: silentLogger, quietTimeoutMs: 3_000, backoff: fastRetry });
    const log = recordHandlers(informer);
    const events: ReflectorEvent[] = [];
    informer.onReflectorEvent((e) => events.push(e));
    informer.start();
    try {
      await informer.waitForSync(30_000);
      await core.createNamespacedConfigMap({ namespace: 'silent', body: { metadata: { name: 'before' } } });
      await waitUntil(() => log.some((l) => l.startsWith('add before@')), 'event before the freeze');

      proxy.freeze(); // the open watch now receives nothing, like a connection a NAT forgot
      await core.createNamespacedConfigMap({ namespace: 'silent', body: { metadata: { name: 'during' } } });
      await new Promise((r) => setTimeout(r, 1_000));
      expect(log.some((l) => l.startsWith('add during@'))).toBe(false);
      proxy.thaw(); // new connections work again; the frozen one stays dead

      await waitUntil(() => log.some((l) => l.startsWith('add during@')), 'the write made while the watch was silent', 30_000);
      expect(informer.reflector.stats.watchdogRestarts).toBeGreaterThanOrEqual(1);
      expect(events.some((e) => e.type === 'watch-ended' && e.reason === 'watchdog')).toBe(true);
      await core.createNamespacedConfigMap({ namespace: 'silent', body: { metadata: { name: 'after' } } });
      await waitUntil(() => log.some((l) => l.startsWith('add after@')), 'a write after recovery');
      expect(informer.reflector.stats.lists).toBe(1); // resumed from its resourceVersion, no relist needed
    } finally {
      await informer.stop();
      transport.close();
      await proxy.stop();
    }
  });

  it('restarts a watch while the apiserver process is frozen (SIGSTOP), including attempts that never get headers, and catches up after SIGCONT', async () => {
    await newNamespace('sigstop');
    const transport = new HttpKubeTransport(kubeConfigFor(cluster));
    const informer = new SharedInformer({ transport, resource: configMaps('sigstop'), log: silentLogger, quietTimeoutMs: 2_000, backoff: fastRetry });
    const log = recordHandlers(informer);
    const events: ReflectorEvent[] = [];
    informer.onReflectorEvent((e) => events.push(e));
    informer.start();
    const pid = cluster.processes['kube-apiserver'];
    expect(pid).toBeGreaterThan(0);
    let stopped = false;
    try {
      await informer.waitForSync(30_000);
      await waitUntil(() => events.some((e) => e.type === 'watch-opened'), 'first watch open');
      process.kill(pid!, 'SIGSTOP');
      stopped = true;
      const mark = events.length;
      const watchdogEndsSinceMark = () => events.slice(mark).filter((e) => e.type === 'watch-ended' && e.reason === 'watchdog').length;
      // The open watch goes quiet (1st), and the reopened one never even gets response headers (2nd).
      await waitUntil(() => watchdogEndsSinceMark() >= 2, 'two watchdog restarts while the apiserver is frozen', 30_000);
      expect(events.slice(mark).some((e) => e.type === 'watch-opened')).toBe(false);
      expect(events.slice(mark).some((e) => e.type === 'watch-ended' && e.reason === 'watchdog' && !e.opened)).toBe(true);
      process.kill(pid!, 'SIGCONT');
      stopped = false;
      await core.createNamespacedConfigMap({ namespace: 'sigstop', body: { metadata: { name: 'thawed' } } });
      await waitUntil(() => log.some((l) => l.startsWith('add thawed@')), 'write after SIGCONT', 30_000);
      expect(events.slice(mark).some((e) => e.type === 'watch-opened')).toBe(true);
    } finally {
      if (stopped) process.kill(pid!, 'SIGCONT');
      await informer.stop();
      transport.close();
    }
  });
});
