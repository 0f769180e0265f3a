// Event recorder against a real etcd + kube-apiserver: events are read back through the API.
import { KubeConfig, type EventsV1Event } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeConfigFor, startLocalCluster, type LocalCluster } from '../../src/localcluster/index.ts';
import { makeKubeClients, type KubeClients, type KubeLogger } from '../../src/kube/client.ts';
import { EventRecorder, type RegardingRef } from '../../src/kube/events.ts';

let cluster: LocalCluster;
let clients: KubeClients;
const quietLogger: KubeLogger = { error: () => {}, warn: () => {}, info: () => {} };

async function eventsAbout(namespace: string, name: string): Promise<EventsV1Event[]> {
  const list = await clients.events.listNamespacedEvent({ namespace });
  return list.items.filter((e) => e.regarding?.name === name);
}

async function makeObject(namespace: string, name: string): Promise<RegardingRef> {
  const cm = await clients.core.createNamespacedConfigMap({ namespace, body: { metadata: { name } } });
  return { apiVersion: 'v1', kind: 'ConfigMap', namespace, name, uid: cm.metadata!.uid! };
}

function newRecorder(extra: Partial<ConstructorParameters<typeof EventRecorder>[0]> = {}) {
  return new EventRecorder({ clients, reportingController: 'ovnkit.io/controller', reportingInstance: 'ovnkit-test-0', logger: quietLogger, ...extra });
}

beforeAll(async () => {
  cluster = await startLocalCluster({ apiserverOnly: true, progress: false });
  clients = makeKubeClients(kubeConfigFor(cluster));
  await clients.core.createNamespace({ body: { metadata: { name: 'ev' } } });
});

afterAll(async () => {
  await cluster?.stop();
});

describe('EventRecorder on events.k8s.io/v1', () => {
  it('writes reason, note (Kube-OVN form), type, action, regarding and reporting fields', async () => {
    const obj = await makeObject('ev', 'cm-fields');
    const recorder = newRecorder();
    recorder.warning(obj, 'AcquireAddressFailed', 'Allocate', 'allocate', new Error('no available ip in subnet ovn-default'));
    await recorder.flush();
    const events = await eventsAbout('ev', 'cm-fields');
    expect(events).toHaveLength(1);
    const e = events[0]!;
    expect(e.reason).toBe('AcquireAddressFailed');
    expect(e.note).toBe('stage=allocate error=no available ip in subnet ovn-default');
    expect(e.type).toBe('Warning');
    expect(e.action).toBe('Allocate');
    expect(e.reportingController).toBe('ovnkit.io/controller');
    expect(e.reportingInstance).toBe('ovnkit-test-0');
    expect(e.regarding).toMatchObject({ kind: 'ConfigMap', namespace: 'ev', name: 'cm-fields', uid: obj.uid });
    expect(e.series).toBeUndefined();
    expect(e.eventTime).toBeTruthy();
  });

  it('aggregates repeats into one Event with a series (count, lastObservedTime), patched in place', async () => {
    const obj = await makeObject('ev', 'cm-series');
    const recorder = newRecorder();
    const note = 'stage=allocate error=subnet ovn-default is full';
    for (let i = 0; i < 5; i++) recorder.record({ regarding: obj, type: 'Warning', reason: 'AcquireAddressFailed', action: 'Allocate', note });
    await recorder.flush();
    let events = await eventsAbout('ev', 'cm-series');
    expect(events).toHaveLength(1);
    expect(events[0]!.series?.count).toBe(5);
    const firstLastObserved = new Date(events[0]!.series!.lastObservedTime as unknown as string).getTime();
    const name = events[0]!.metadata!.name;

    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 3; i++) recorder.record({ regarding: obj, type: 'Warning', reason: 'AcquireAddressFailed', action: 'Allocate', note });
    await recorder.flush();
    events = await eventsAbout('ev', 'cm-series');
    expect(events).toHaveLength(1);
    expect(events[0]!.metadata!.name).toBe(name); // same object, patched
    expect(events[0]!.series?.count).toBe(8);
    expect(new Date(events[0]!.series!.lastObservedTime as unknown as string).getTime()).toBeGreaterThan(firstLastObserved);
    const stats = recorder.stats();
    expect(stats.created).toBe(1);
    expect(stats.aggregated).toBe(7);
    expect(stats.seriesPatched).toBeGreaterThanOrEqual(1);
    expect(stats.seriesPatched).toBeLessThanOrEqual(2);
  });

  it('different notes, reasons or types are different Events', async () => {
    const obj = await makeObject('ev', 'cm-distinct');
    const recorder = newRecorder();
    recorder.record({ regarding: obj, type: 'Warning', reason: 'AcquireAddressFailed', action: 'Allocate', note: 'stage=allocate error=a' });
    recorder.record({ regarding: obj, type: 'Warning', reason: 'AcquireAddressFailed', action: 'Allocate', note: 'stage=allocate error=b' });
    recorder.record({ regarding: obj, type: 'Normal', reason: 'AddressAllocated', action: 'Allocate', note: 'ip=10.16.0.9' });
    recorder.record({ regarding: obj, type: 'Normal', reason: 'AddressAllocated', action: 'Allocate', note: 'ip=10.16.0.9' });
    await recorder.flush();
    const events = await eventsAbout('ev', 'cm-distinct');
    expect(events.map((e) => `${e.type}/${e.note}/${e.series?.count ?? 1}`).sort()).toEqual(
      ['Normal/ip=10.16.0.9/2', 'Warning/stage=allocate error=a/1', 'Warning/stage=allocate error=b/1'],
    );
  });

  it('the per-object rate limit drops excess new Events and counts them; other objects are unaffected', async () => {
    const noisy = await makeObject('ev', 'cm-noisy');
    const quiet = await makeObject('ev', 'cm-quiet');
    const recorder = newRecorder({ perObjectBurst: 3, perObjectQps: 0.001 });
    for (let i = 0; i < 10; i++) recorder.record({ regarding: noisy, type: 'Warning', reason: 'Failed', action: 'Allocate', note: `stage=allocate error=attempt ${i}` });
    recorder.record({ regarding: quiet, type: 'Normal', reason: 'Ok', action: 'Allocate', note: 'fine' });
    await recorder.flush();
    expect((await eventsAbout('ev', 'cm-noisy')).length).toBe(3);
    expect((await eventsAbout('ev', 'cm-quiet')).length).toBe(1);
    expect(recorder.stats().droppedRateLimited).toBe(7);
    expect(recorder.stats().created).toBe(4);
  });

  it('cluster-scoped objects get their events in the default namespace', async () => {
    await clients.core.createNode({ body: { metadata: { name: 'ev-node' } } });
    const recorder = newRecorder();
    recorder.normal({ apiVersion: 'v1', kind: 'Node', name: 'ev-node' }, 'GatewayReady', 'Configure', 'stage=gateway');
    await recorder.flush();
    expect((await eventsAbout('default', 'ev-node')).map((e) => e.reason)).toEqual(['GatewayReady']);
  });

  it('record() never blocks or throws: an unreachable apiserver and invalid events are counted, not raised', async () => {
    const dead = new KubeConfig();
    dead.loadFromOptions({
      currentContext: 'dead',
      clusters: [{ name: 'dead', server: 'https://127.0.0.1:1', caData: Buffer.from(cluster.caPem).toString('base64'), skipTLSVerify: false }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'dead', cluster: 'dead', user: 'u' }],
    });
    const recorder = new EventRecorder({
      clients: makeKubeClients(dead), reportingController: 'ovnkit.io/controller', reportingInstance: 'i', logger: quietLogger, maxWriteAttempts: 1,
    });
    const obj: RegardingRef = { kind: 'ConfigMap', namespace: 'ev', name: 'whatever' };
    const start = performance.now();
    for (let i = 0; i < 200; i++) recorder.record({ regarding: obj, type: 'Warning', reason: 'Failed', action: 'Allocate', note: `n${i % 5}` });
    recorder.record({ regarding: obj, type: 'Bogus' as 'Normal', reason: 'X', action: 'Y', note: '' });
    recorder.record(undefined as unknown as Parameters<EventRecorder['record']>[0]);
    const elapsed = performance.now() - start;
    expect(elapsed).toBeLessThan(200); // 202 calls, no I/O awaited
    await recorder.flush();
    const stats = recorder.stats();
    expect(stats.droppedInvalid).toBe(2);
    expect(stats.created).toBe(0);
    expect(stats.writeFailures).toBe(5); // 5 distinct events, each write failed once
    expect(stats.aggregated).toBe(195);
  });
});
