// Leader election on a real Lease (etcd + kube-apiserver), with short timings:
// lease 3 s, renew deadline 2 s, retry 0.5 s (and a 10 s lease where release must beat expiry).
import { spawn } from 'node:child_process';
import net from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeConfigFor, startLocalCluster, type LocalCluster } from '../../src/localcluster/index.ts';
import { makeKubeClients, type KubeClients, type KubeLogger } from '../../src/kube/client.ts';
import { LeaderElector, type LeaderElectorOptions } from '../../src/kube/leader-election.ts';

let cluster: LocalCluster;
let clients: KubeClients;
const ns = 'le';
const quiet: KubeLogger = { error: () => {}, warn: () => {}, info: () => {} };
const SHORT = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };
const LONG = { leaseDurationMs: 10_000, renewDeadlineMs: 6000, retryPeriodMs: 500 };
// Worst-case wait of a standby between two attempts: retry × (1 + 1.2 jitter).
const maxRetryGap = (t: typeof SHORT) => t.retryPeriodMs * 2.2;
const SLACK_MS = 1500; // loaded 2-core machine

interface Candidate {
  elector: LeaderElector;
  started: number[];
  stopped: number[];
  newLeaders: string[];
  done: Promise<void>;
}

function candidate(identity: string, lease: string, timing: typeof SHORT, extra: Partial<LeaderElectorOptions> = {}, useClients = clients): Candidate {
  const c = { started: [] as number[], stopped: [] as number[], newLeaders: [] as string[] } as Candidate;
  c.elector = new LeaderElector({
    clients: useClients,
    namespace: ns,
    name: lease,
    identity,
    ...timing,
    logger: quiet,
    callbacks: {
      onStartedLeading: () => void c.started.push(performance.now()),
      onStoppedLeading: () => void c.stopped.push(performance.now()),
      onNewLeader: (id) => void c.newLeaders.push(id),
    },
    ...extra,
  });
  c.done = c.elector.run();
  return c;
}

async function until(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<number> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now();
}

/** Samples every few ms; records any instant where both candidates claim to lead. */
function overlapWatcher(a: () => boolean, b: () => boolean) {
  let samples = 0;
  let overlaps = 0;
  const timer = setInterval(() => {
    samples++;
    if (a() && b()) overlaps++;
  }, 2);
  return { stop: () => clearInterval(timer), result: () => ({ samples, overlaps }) };
}

/** A TCP relay to the apiserver that can be cut like a network partition (connections hang). */
async function partitionableProxy(target: URL) {
  const pairs = new Set<[net.Socket, net.Socket]>();
  const held = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    client.on('error', () => {});
    if (cut) {
      held.add(client);
      client.pause();
      return;
    }
    const upstream = net.connect(Number(target.port), target.hostname);
    upstream.on('error', () => {});
    client.pipe(upstream);
    upstream.pipe(client);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => pairs.delete(pair);
    client.on('close', drop);
    upstream.on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    cut() {
      cut = true;
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    close() {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      for (const s of held) s.destroy();
      server.close();
    },
  };
}

async function readLease(name: string) {
  return (await clients.coordination.readNamespacedLease({ name, namespace: ns })).spec!;
}

beforeAll(async () => {
  cluster = await startLocalCluster({ apiserverOnly: true, progress: false });
  clients = makeKubeClients(kubeConfigFor(cluster));
  await clients.core.createNamespace({ body: { metadata: { name: ns } } });
});

afterAll(async () => {
  await cluster?.stop();
});

describe('LeaderElector on a real coordination.k8s.io/v1 Lease', () => {
  it('exactly one leads; the standby learns who leads and stays standby', async () => {
    const a = candidate('a', 'one-leader', SHORT);
    await until('a leads', () => a.elector.isLeader());
    const b = candidate('b', 'one-leader', SHORT);
    const watcher = overlapWatcher(() => a.elector.isLeader(), () => b.elector.isLeader());
    await new Promise((r) => setTimeout(r, 2 * SHORT.leaseDurationMs));
    watcher.stop();
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.getLeader()).toBe('a');
    expect(b.newLeaders).toEqual(['a']);
    expect(watcher.result().overlaps).toBe(0);
    const lease = await readLease('one-leader');
    expect(lease.holderIdentity).toBe('a');
    expect(lease.leaseDurationSeconds).toBe(3);
    expect(lease.leaseTransitions).toBe(0);
    await b.elector.stop();
    await a.elector.stop();
    expect(b.started).toHaveLength(0);
    expect(b.stopped).toHaveLength(0); // never led, so never "stopped leading"
  });

  it('a partitioned leader stops leading within renewDeadline; the standby takes over after the lease expires; never both', async () => {
    const proxy = await partitionableProxy(new URL(cluster.server));
    const viaProxy = kubeConfigFor(cluster);
    const cl = viaProxy.getCurrentCluster()!;
    const proxied = new KubeConfig();
    proxied.loadFromOptions({
      currentContext: 'p',
      clusters: [{ ...cl, name: 'p', server: `https://127.0.0.1:${proxy.port}` }],
      users: [viaProxy.getCurrentUser()!],
      contexts: [{ name: 'p', cluster: 'p', user: viaProxy.getCurrentUser()!.name }],
    });
    const a = candidate('a', 'partition', SHORT, {}, makeKubeClients(proxied));
    await until('a leads', () => a.elector.isLeader());
    const b = candidate('b', 'partition', SHORT);
    const watcher = overlapWatcher(() => a.elector.isLeader(), () => b.elector.isLeader());
    await until('b sees a', () => b.newLeaders.includes('a'));
    await new Promise((r) => setTimeout(r, 1000));

    const cutAt = performance.now();
    proxy.cut(); // a's renewals now hang: no error, no release, just silence
    const bLeadsAt = await until('b leads', () => b.elector.isLeader(), 20_000);
    watcher.stop();

    const aStoppedAt = a.stopped[0]!;
    expect(a.elector.lastStopReason()).toBe('renew-deadline');
    expect(aStoppedAt - cutAt).toBeLessThanOrEqual(SHORT.renewDeadlineMs + 700); // timer lateness on a loaded machine
    expect(aStoppedAt).toBeLessThan(bLeadsAt);
    // b waited for the lease to expire by its own observation: leaseDuration after a's last
    // renewal, which started about one retry period (plus request time) before the cut ...
    expect(bLeadsAt - cutAt).toBeGreaterThanOrEqual(SHORT.leaseDurationMs - SHORT.retryPeriodMs - 600);
    // ... and not much later.
    expect(bLeadsAt - cutAt).toBeLessThanOrEqual(SHORT.leaseDurationMs + 2 * maxRetryGap(SHORT) + SLACK_MS);
    const { samples, overlaps } = watcher.result();
    expect(samples).toBeGreaterThan(100);
    expect(overlaps).toBe(0);
    const lease = await readLease('partition');
    expect(lease.holderIdentity).toBe('b');
    expect(lease.leaseTransitions).toBe(1);
    console.log(`partition: a stepped down ${(aStoppedAt - cutAt).toFixed(0)} ms after the cut, b led ${(bLeadsAt - cutAt).toFixed(0)} ms after it; ${samples} samples, 0 overlaps`);

    await b.elector.stop();
    await a.done; // a tries to release through the dead link and gives up after renewDeadline
    proxy.close();
  });

  it('a leader SIGKILLed in its own process is replaced within the lease duration (+ slack)', async () => {
    const child = spawn(process.execPath, ['test/kube/leader-child.ts', cluster.kubeconfig, ns, 'killed', 'child'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let childOut = '';
    child.stdout.on('data', (d: Buffer) => (childOut += d.toString()));
    try {
      await until('child leads', () => childOut.includes('LEADING'), 30_000);
      const b = candidate('b', 'killed', SHORT);
      await until('b sees the child lead', () => b.newLeaders.includes('child'));
      await new Promise((r) => setTimeout(r, 1000));
      expect(b.elector.isLeader()).toBe(false);
      const killedAt = performance.now();
      child.kill('SIGKILL');
      const bLeadsAt = await until('b leads', () => b.elector.isLeader(), 20_000);
      expect(b.started[0]!).toBeGreaterThan(killedAt);
      expect(bLeadsAt - killedAt).toBeGreaterThanOrEqual(SHORT.leaseDurationMs - SHORT.retryPeriodMs - 600);
      expect(bLeadsAt - killedAt).toBeLessThanOrEqual(SHORT.leaseDurationMs + 2 * maxRetryGap(SHORT) + SLACK_MS);
      expect((await readLease('killed')).holderIdentity).toBe('b');
      console.log(`kill: b led ${(bLeadsAt - killedAt).toFixed(0)} ms after SIGKILL of the leader`);
      await b.elector.stop();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('release on shutdown: the standby takes over at its next retry, long before the lease would expire', async () => {
    const a = candidate('a', 'release', LONG);
    await until('a leads', () => a.elector.isLeader());
    const b = candidate('b', 'release', LONG);
    const watcher = overlapWatcher(() => a.elector.isLeader(), () => b.elector.isLeader());
    await until('b sees a', () => b.newLeaders.includes('a'));
    const stopAt = performance.now();
    await a.elector.stop();
    expect(a.elector.lastStopReason()).toBe('stopped');
    const bLeadsAt = await until('b leads', () => b.elector.isLeader());
    watcher.stop();
    expect(bLeadsAt - stopAt).toBeLessThan(maxRetryGap(LONG) + SLACK_MS); // ≪ the 10 s lease
    expect(watcher.result().overlaps).toBe(0);
    expect(a.stopped).toHaveLength(1);
    const lease = await readLease('release');
    expect(lease.holderIdentity).toBe('b');
    expect(lease.leaseDurationSeconds).toBe(10);
    console.log(`release: b led ${(bLeadsAt - stopAt).toFixed(0)} ms after a.stop()`);
    await b.elector.stop();
    // b released too: the Lease is left with no holder and a 1 s duration, as client-go's release.
    const released = await readLease('release');
    expect(released.holderIdentity ?? '').toBe('');
    expect(released.leaseDurationSeconds).toBe(1);
  });

  it('the health hook makes an unhealthy leader give up the lease; the healthy standby takes over quickly', async () => {
    let healthy = true;
    const a = candidate('a', 'health', LONG, { healthCheck: () => healthy });
    await until('a leads', () => a.elector.isLeader());
    const b = candidate('b', 'health', LONG, { healthCheck: async () => true });
    await until('b sees a', () => b.newLeaders.includes('a'));
    const watcher = overlapWatcher(() => a.elector.isLeader(), () => b.elector.isLeader());
    const sickAt = performance.now();
    healthy = false;
    await until('a gives up', () => !a.elector.isLeader(), 5000);
    const bLeadsAt = await until('b leads', () => b.elector.isLeader());
    watcher.stop();
    expect(a.elector.lastStopReason()).toBe('unhealthy');
    expect(a.stopped[0]! - sickAt).toBeLessThanOrEqual(LONG.retryPeriodMs + 500);
    expect(bLeadsAt - sickAt).toBeLessThan(LONG.retryPeriodMs + maxRetryGap(LONG) + SLACK_MS); // ≪ 10 s
    expect(watcher.result().overlaps).toBe(0);
    console.log(`health: a stepped down ${(a.stopped[0]! - sickAt).toFixed(0)} ms after turning unhealthy, b led ${(bLeadsAt - sickAt).toFixed(0)} ms after it`);
    await a.done;
    await b.elector.stop();
  });

  it.each([
    ['an hour in the past', -3600_000],
    ['an hour in the future', 3600_000],
  ])('expiry is judged by local observation: a holder whose renewTime is %s still gets a full leaseDuration', async (_label, skewMs) => {
    const name = `skew-${skewMs > 0 ? 'future' : 'past'}`;
    const skewed = new Date(Date.now() + skewMs);
    await clients.coordination.createNamespacedLease({
      namespace: ns,
      body: {
        metadata: { name },
        spec: { holderIdentity: 'ghost', leaseDurationSeconds: 3, acquireTime: skewed.toISOString().replace('Z', '000Z') as never, renewTime: skewed.toISOString().replace('Z', '000Z') as never, leaseTransitions: 4 },
      },
    });
    const startedAt = performance.now();
    const c = candidate('c', name, SHORT);
    const leadsAt = await until('c leads', () => c.elector.isLeader());
    // Not at once (the past renewTime would say "expired long ago"), not after an hour (the
    // future one would say "valid for an hour"): leaseDuration after c first saw the record.
    expect(leadsAt - startedAt).toBeGreaterThanOrEqual(SHORT.leaseDurationMs);
    expect(leadsAt - startedAt).toBeLessThanOrEqual(SHORT.leaseDurationMs + maxRetryGap(SHORT) + SLACK_MS);
    expect(c.newLeaders).toEqual(['ghost', 'c']);
    expect((await readLease(name)).leaseTransitions).toBe(5);
    console.log(`skew ${skewMs} ms: c led ${(leadsAt - startedAt).toFixed(0)} ms after starting`);
    await c.elector.stop();
  });

  it('the leading signal aborts when leadership ends, and a hanging health check counts as unhealthy', async () => {
    let signal: AbortSignal | undefined;
    let hang = false;
    const elector = new LeaderElector({
      clients, namespace: ns, name: 'signal', identity: 's', ...SHORT, logger: quiet, healthCheckTimeoutMs: 300,
      healthCheck: () => (hang ? new Promise<boolean>(() => {}) : true),
      callbacks: { onStartedLeading: (s) => void (signal = s), onStoppedLeading: () => {} },
    });
    const done = elector.run();
    await until('leads', () => elector.isLeader());
    expect(signal?.aborted).toBe(false);
    hang = true;
    await until('steps down', () => !elector.isLeader(), 5000);
    expect(signal?.aborted).toBe(true);
    expect(elector.lastStopReason()).toBe('unhealthy');
    await done;
  });
});
