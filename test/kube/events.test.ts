// Recorder logic that does not depend on the server: coalescing while a write is in flight,
// the series patch interval, the bounded buffer. The server side is covered by events.int.test.ts.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/kube/clock.ts';
import type { KubeClients, KubeLogger } from '../../src/kube/client.ts';
import { EventRecorder, formatNote, regardingFor, type RegardingRef } from '../../src/kube/events.ts';

const quiet: KubeLogger = { error: () => {}, warn: () => {}, info: () => {} };
const obj: RegardingRef = { kind: 'Pod', namespace: 'ns', name: 'p' };

/** An in-memory stand-in for EventsV1Api whose calls can be held open. */
function heldEventsApi() {
  const calls: Array<{ op: string; body: any }> = [];
  let release: (() => void) | undefined;
  let hold = false;
  const wait = () => (hold ? new Promise<void>((r) => (release = r)) : Promise.resolve());
  const api = {
    createNamespacedEvent: async (p: { body: any }) => { calls.push({ op: 'create', body: JSON.parse(JSON.stringify(p.body)) }); await wait(); return p.body; },
    patchNamespacedEvent: async (p: { body: any }) => { calls.push({ op: 'patch', body: p.body }); await wait(); return p.body; },
  };
  return {
    clients: { events: api } as unknown as Pick<KubeClients, 'events'>,
    calls,
    setHold: (h: boolean) => (hold = h),
    release: () => release?.(),
  };
}

describe('EventRecorder (writer logic)', () => {
  it('formatNote renders Kube-OVN key=value notes in order, skipping undefined', () => {
    expect(formatNote({ stage: 'allocate', subnet: 'ovn-default', skipped: undefined, error: 'no ip' })).toBe('stage=allocate subnet=ovn-default error=no ip');
  });

  it('repeats during an in-flight create are folded into one later series patch', async () => {
    const clock = new FakeClock();
    const fake = heldEventsApi();
    const rec = new EventRecorder({ clients: fake.clients, reportingController: 'c', reportingInstance: 'i', clock, logger: quiet, seriesPatchIntervalMs: 1000 });
    fake.setHold(true);
    rec.record({ regarding: obj, type: 'Warning', reason: 'R', action: 'A', note: 'n' });
    await clock.advance(0);
    expect(fake.calls.map((c) => c.op)).toEqual(['create']);
    for (let i = 0; i < 9; i++) rec.record({ regarding: obj, type: 'Warning', reason: 'R', action: 'A', note: 'n' });
    fake.setHold(false);
    fake.release();
    await clock.advance(999);
    expect(fake.calls.map((c) => c.op)).toEqual(['create']); // interval not yet over
    await clock.advance(1);
    expect(fake.calls.map((c) => c.op)).toEqual(['create', 'patch']);
    expect(fake.calls[1]!.body.series.count).toBe(10);
    expect(fake.calls[1]!.body.series.lastObservedTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await rec.flush();
    expect(fake.calls).toHaveLength(2);
  });

  it('a repeat queued before the create is sent goes out with the create as series count 2', async () => {
    const fake = heldEventsApi();
    const rec = new EventRecorder({ clients: fake.clients, reportingController: 'c', reportingInstance: 'i', clock: new FakeClock(), logger: quiet });
    rec.record({ regarding: obj, type: 'Normal', reason: 'R', action: 'A', note: 'n' });
    rec.record({ regarding: obj, type: 'Normal', reason: 'R', action: 'A', note: 'n' });
    await rec.flush();
    expect(fake.calls.map((c) => c.op)).toEqual(['create']);
    expect(fake.calls[0]!.body.series.count).toBe(2);
  });

  it('the buffer is bounded: with the writer stuck, new events beyond maxBuffered are dropped and counted', async () => {
    const fake = heldEventsApi();
    fake.setHold(true);
    const rec = new EventRecorder({ clients: fake.clients, reportingController: 'c', reportingInstance: 'i', clock: new FakeClock(), logger: quiet, maxBuffered: 5, perObjectBurst: 1000 });
    for (let i = 0; i < 20; i++) rec.record({ regarding: obj, type: 'Normal', reason: 'R', action: 'A', note: `n${i}` });
    // The writer starts on a microtask: five wait in the buffer, the other fifteen are dropped.
    expect(rec.stats().droppedBufferFull).toBe(15);
    fake.setHold(false);
    fake.release();
    await rec.flush();
    expect(fake.calls).toHaveLength(5);
    expect(rec.stats().created).toBe(5);
  });

  it('a repeat after the series window starts a new Event', async () => {
    const clock = new FakeClock();
    const fake = heldEventsApi();
    const rec = new EventRecorder({ clients: fake.clients, reportingController: 'c', reportingInstance: 'i', clock, logger: quiet, seriesWindowMs: 60_000 });
    rec.record({ regarding: obj, type: 'Normal', reason: 'R', action: 'A', note: 'n' });
    await rec.flush();
    await clock.advance(60_001);
    rec.record({ regarding: obj, type: 'Normal', reason: 'R', action: 'A', note: 'n' });
    await rec.flush();
    expect(fake.calls.map((c) => c.op)).toEqual(['create', 'create']);
    expect(fake.calls[0]!.body.metadata.name).not.toBe(fake.calls[1]!.body.metadata.name);
  });

  it('regardingFor builds the reference from an object, with a fallback kind for list items', () => {
    expect(regardingFor({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u1', resourceVersion: '7' } })).toEqual({
      apiVersion: 'v1', kind: 'Pod', name: 'p', namespace: 'ns', uid: 'u1', resourceVersion: '7',
    });
    expect(regardingFor({ metadata: { name: 'ovn-default', namespace: '' } }, 'Subnet')).toEqual({ kind: 'Subnet', name: 'ovn-default' });
  });

  it('an event whose reference lacks a kind (regardingFor without fallback) is dropped and counted, not thrown', async () => {
    const fake = heldEventsApi();
    const rec = new EventRecorder({ clients: fake.clients, reportingController: 'c', reportingInstance: 'i', clock: new FakeClock(), logger: quiet });
    rec.record({ regarding: regardingFor({ metadata: { name: 'x' } }), type: 'Normal', reason: 'R', action: 'A', note: 'n' });
    await rec.flush();
    expect(rec.stats().droppedInvalid).toBe(1);
    expect(fake.calls).toHaveLength(0);
  });

  it('rejects a recorder without reporting identity at construction', () => {
    expect(() => new EventRecorder({ clients: heldEventsApi().clients, reportingController: '', reportingInstance: 'i' })).toThrow(/reportingController/);
  });
});
