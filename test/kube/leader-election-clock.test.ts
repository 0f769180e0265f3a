// The elector's timing rules with a fake clock and an in-memory Lease store that enforces
// resourceVersion preconditions like the apiserver. The real apiserver runs in
// leader-election.int.test.ts; this file pins exact instants, which real time cannot.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiException, type ConfigurationOptions, type V1Lease } from '@kubernetes/client-node';
import { FakeClock } from '../../src/kube/clock.ts';
import type { KubeClients, KubeLogger } from '../../src/kube/client.ts';
import { LeaderElector } from '../../src/kube/leader-election.ts';

const quiet: KubeLogger = { error: () => {}, warn: () => {}, info: () => {} };
const TIMING = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };

function signalOf(options: ConfigurationOptions | undefined): AbortSignal | undefined {
  let signal: AbortSignal | undefined;
  const ctx = { setSignal: (s: AbortSignal) => (signal = s), setHeaderParam: () => {} };
  for (const m of (options?.middleware ?? []) as Array<{ pre(c: unknown): unknown }>) m.pre(ctx);
  return signal;
}

/** One Lease, optimistic concurrency by resourceVersion; a client can be "partitioned" (calls hang until aborted). */
class MemoryLeaseServer {
  lease: V1Lease | undefined;
  private rv = 0;
  readonly partitioned = new Set<string>();
  readonly failing = new Set<string>();

  clientFor(who: string): Pick<KubeClients, 'coordination'> {
    const gate = async <T>(options: ConfigurationOptions | undefined, op: () => T): Promise<T> => {
      await Promise.resolve();
      if (this.failing.has(who)) throw new ApiException(500, 'internal error', '{"reason":"InternalError"}', {});
      if (this.partitioned.has(who)) {
        const signal = signalOf(options);
        await new Promise<never>((_, reject) => signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
      }
      return op();
    };
    const coordination = {
      readNamespacedLease: (_p: unknown, o?: ConfigurationOptions) =>
        gate(o, () => {
          if (this.lease === undefined) throw new ApiException(404, 'not found', '{"reason":"NotFound"}', {});
          return structuredClone(this.lease);
        }),
      createNamespacedLease: (p: { body: V1Lease }, o?: ConfigurationOptions) =>
        gate(o, () => {
          if (this.lease !== undefined) throw new ApiException(409, 'exists', '{"reason":"AlreadyExists"}', {});
          this.lease = this.stored(p.body);
          return structuredClone(this.lease);
        }),
      replaceNamespacedLease: (p: { body: V1Lease }, o?: ConfigurationOptions) =>
        gate(o, () => {
          if (this.lease === undefined) throw new ApiException(404, 'not found', '{"reason":"NotFound"}', {});
          if (p.body.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion) {
            throw new ApiException(409, 'conflict', '{"reason":"Conflict"}', {});
          }
          this.lease = this.stored(p.body);
          return structuredClone(this.lease);
        }),
    };
    return { coordination } as unknown as Pick<KubeClients, 'coordination'>;
  }

  private stored(body: V1Lease): V1Lease {
    const json = JSON.parse(JSON.stringify(body)) as V1Lease; // times become strings, as on the wire
    json.metadata = { ...json.metadata, resourceVersion: String(++this.rv) };
    return json;
  }
}

function elector(server: MemoryLeaseServer, clock: FakeClock, identity: string, log: string[], extra: object = {}) {
  const e = new LeaderElector({
    clients: server.clientFor(identity), namespace: 'ns', name: 'lease', identity, ...TIMING, clock, logger: quiet,
    callbacks: {
      onStartedLeading: () => void log.push(`${clock.now()} ${identity} start`),
      onStoppedLeading: () => void log.push(`${clock.now()} ${identity} stop`),
    },
    ...extra,
  });
  return e;
}

beforeEach(() => {
  vi.spyOn(Math, 'random').mockReturnValue(0); // no jitter: standbys retry exactly every 500 ms
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function advanceChecking(clock: FakeClock, ms: number, a: LeaderElector, b: LeaderElector): Promise<void> {
  for (let t = 0; t < ms; t += 10) {
    await clock.advance(10);
    expect(a.isLeader() && b.isLeader()).toBe(false);
  }
}

describe('LeaderElector timing (fake clock, in-memory Lease)', () => {
  it('a partitioned leader stops exactly renewDeadline after its last successful renew started; the standby waits leaseDuration from its own observation', async () => {
    const clock = new FakeClock();
    const server = new MemoryLeaseServer();
    const log: string[] = [];
    const a = elector(server, clock, 'a', log);
    void a.run();
    await clock.advance(0);
    expect(a.isLeader()).toBe(true);
    const b = elector(server, clock, 'b', log);
    void b.run();
    await advanceChecking(clock, 1200, a, b); // a renews at 500 and 1000
    server.partitioned.add('a');
    await advanceChecking(clock, 5000, a, b);
    // a: last successful renew started at 1000 → stops at 3000.
    // b: polls every 500 ms; it first saw a's 1000 renewal at 1000 → takes over at its first poll ≥ 4000.
    expect(log).toEqual(['0 a start', '3000 a stop', '4000 b start']);
    expect(a.lastStopReason()).toBe('renew-deadline');
    expect(server.lease?.spec?.holderIdentity).toBe('b');
    expect(server.lease?.spec?.leaseTransitions).toBe(1);
    await b.stop();
    expect(server.lease?.spec?.holderIdentity).toBe('');
    expect(server.lease?.spec?.leaseDurationSeconds).toBe(1);
  });

  it('renewals that fail fast (HTTP 500, not hanging) also end leadership at the deadline', async () => {
    const clock = new FakeClock();
    const server = new MemoryLeaseServer();
    const log: string[] = [];
    const a = elector(server, clock, 'a', log);
    const done = a.run();
    await clock.advance(0);
    server.failing.add('a');
    for (let t = 0; t < 3000; t += 10) await clock.advance(10);
    expect(log).toEqual(['0 a start', '2000 a stop']);
    expect(a.lastStopReason()).toBe('renew-deadline');
    await done; // the release attempt failed too (500) and was given up, not retried forever
    expect(server.lease?.spec?.holderIdentity).toBe('a');
  });

  it('a released lease is taken at the standby\'s next poll', async () => {
    const clock = new FakeClock();
    const server = new MemoryLeaseServer();
    const log: string[] = [];
    const a = elector(server, clock, 'a', log);
    void a.run();
    await clock.advance(0);
    const b = elector(server, clock, 'b', log);
    void b.run();
    await advanceChecking(clock, 1020, a, b);
    const stopped = a.stop();
    await clock.advance(0);
    await stopped;
    await advanceChecking(clock, 1000, a, b);
    expect(log).toEqual(['0 a start', '1020 a stop', '1500 b start']);
    await b.stop();
  });
});
