// What the client does when the peer misbehaves: server killed mid-transaction, garbage bytes,
// a silent peer (SIGSTOP), and the server's own inactivity probe on an idle TCP connection.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type NbServer, startNbServer } from '../../src/localcluster/nb-server.ts';
import { OvsdbClient, OvsdbConnectionError } from '../../src/ovsdb/index.ts';
import { NB, captureLog, insertSwitch, sleep, startGarbagePeer, startGarbageProxy, switchNames } from './harness.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.().catch(() => {});
});

async function server(): Promise<NbServer> {
  const s = await startNbServer();
  cleanups.push(() => s.stop());
  return s;
}

async function connect(remote: string, opts: Parameters<typeof OvsdbClient.connect>[1] = {}): Promise<OvsdbClient> {
  const c = await OvsdbClient.connect(remote, opts);
  cleanups.push(() => c.close());
  return c;
}

describe('server killed mid-transaction', () => {
  it('rejects the pending requests, rejects new ones at once, and reconnects after restart', async () => {
    const s = await server();
    const client = await connect(s.remote, { backoffInitialMs: 50, backoffMaxMs: 500 });
    const monitorEvents: string[] = [];
    await client.monitor(NB, 'm', { Logical_Switch: { columns: ['name'] } }, (e) => monitorEvents.push(e.kind));
    const disconnected = new Promise<Error>((resolve) => client.once('disconnected', (e) => resolve(e.reason)));

    // A large pipelined burst keeps requests in flight while the server dies.
    const inflight = Array.from({ length: 400 }, (_, i) =>
      client.transact(NB, Array.from({ length: 20 }, (_, j) => ({ ...insertSwitch(`kill-${i}-${j}`), 'uuid-name': `u${j}` }))),
    );
    const settled = Promise.allSettled(inflight);
    // Kill as soon as the server has answered the first one: it is then busy with the rest.
    await inflight[0];
    await s.kill('SIGKILL');
    const outcomes = await settled;
    const rejected = outcomes.filter((o) => o.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const r of rejected) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(OvsdbConnectionError);
      expect((r as PromiseRejectedResult).reason.code).toBe('ConnectionLost');
    }
    expect((await disconnected).message).toMatch(/closed by peer|ECONNRESET|EPIPE/);

    // No server: a new request fails at once rather than waiting.
    const t0 = Date.now();
    await expect(client.transact(NB, [insertSwitch('while-down')])).rejects.toMatchObject({ code: 'ConnectionLost' });
    // "At once" next to the 30 s request timeout; slack for a loaded machine.
    expect(Date.now() - t0).toBeLessThan(500);

    await sleep(300); // a few reconnect rounds against a dead socket
    // Many callers waiting for the reconnect at once (no listener leak warnings, all released).
    const waiting = Array.from({ length: 50 }, () => client.waitConnected(10_000));
    await s.restart();
    await Promise.all(waiting);
    await client.transact(NB, [insertSwitch('after-restart')]);
    const names = await switchNames(client);
    expect(names).toContain('after-restart');
    // Each committed burst transaction is all-or-nothing.
    for (let i = 0; i < 400; i++) {
      const count = names.filter((n) => n.startsWith(`kill-${i}-`)).length;
      expect([0, 20]).toContain(count);
      if (outcomes[i]?.status === 'fulfilled') expect(count).toBe(20);
    }
    // The monitor was re-established (standalone has no txn ids: a full resync).
    expect(monitorEvents).toContain('resync');
  });

  it('never spins: reconnect attempts back off while the server stays down', async () => {
    const s = await server();
    const log = captureLog();
    const client = await connect(s.remote, { logger: log.logger, backoffInitialMs: 100, backoffMaxMs: 400 });
    await s.kill('SIGKILL');
    await sleep(2000);
    const rounds = log.lines.filter((l) => l.event === 'reconnect_round_failed').length;
    // 100, 200, 400, 400, ... with jitter in [base/2, base]: at most about 2000/50 rounds even with
    // the smallest jitter; a spinning loop would do thousands.
    expect(rounds).toBeGreaterThanOrEqual(3);
    expect(rounds).toBeLessThan(20);
    // close() releases waiters at once instead of leaving them to their timeout.
    const waiter = client.waitConnected(60_000);
    await client.close();
    await expect(waiter).rejects.toMatchObject({ code: 'ClientClosed' });
  });
});

describe('garbage bytes from the peer', () => {
  it('drops the connection with a logged FramingError, rejects pending requests, and reconnects', async () => {
    const s = await server();
    const proxy = await startGarbageProxy(s.unixSocket);
    cleanups.push(() => proxy.close());
    const log = captureLog();
    const client = await connect(proxy.remote, { logger: log.logger, backoffInitialMs: 50 });
    // A wait that never succeeds keeps one request pending on the server for up to 10 s.
    const pending = client.transact(NB, [
      { op: 'wait', table: 'Logical_Switch', where: [['name', '==', 'never']], columns: ['name'], until: '!=', rows: [], timeout: 10_000 },
    ]);
    const reconnected = new Promise<void>((resolve) => client.once('connected', () => resolve()));
    await sleep(50);
    proxy.inject('}}} this is not JSON {{{');
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OvsdbConnectionError);
    expect((err as OvsdbConnectionError).code).toBe('ConnectionLost');
    expect(((err as Error).cause as { code?: string }).code).toBe('FramingError');
    const logged = log.lines.find((l) => l.event === 'framing_error');
    expect(logged).toBeDefined();
    expect((logged?.err as { type?: string }).type).toBe('FramingError');
    await reconnected;
    expect(proxy.connections).toBe(2);
    await client.transact(NB, [insertSwitch('after-garbage')]);
    expect(await switchNames(client)).toContain('after-garbage');
  });

  it('connect to a peer that only speaks garbage fails naming the remote and the framing error', async () => {
    const peer = await startGarbagePeer('HTTP/1.1 400 Bad Request\r\n\r\n');
    cleanups.push(() => peer.close());
    const err = (await OvsdbClient.connect(peer.remote, { connectTimeoutMs: 1000 }).catch((e: unknown) => e)) as OvsdbConnectionError;
    expect(err).toBeInstanceOf(OvsdbConnectionError);
    expect(err.code).toBe('ConnectFailed');
    expect(err.message).toContain(peer.remote);
    expect(err.message).toMatch(/framing/i);
  });
});

describe('inactivity probe', () => {
  it('answers the server echo: an idle TCP connection survives more than 10 s', async () => {
    const s = await server();
    // Our own probe off: only answering the server's echo can keep this connection alive.
    const client = await connect(s.tcpRemote as string, { probeIntervalMs: 0 });
    let disconnects = 0;
    client.on('disconnected', () => disconnects++);
    await sleep(12_500);
    expect(disconnects).toBe(0);
    await client.transact(NB, [insertSwitch('after-idle')]);
    expect(disconnects).toBe(0);
    const serverLog = readFileSync(s.logFile, 'utf8');
    expect(serverLog).not.toMatch(/no response to inactivity probe/);
  }, 60_000);

  it('detects a peer that stops answering (SIGSTOP) within a bound; per-request timeout fires first', async () => {
    const s = await server();
    const probeIntervalMs = 1000;
    const client = await connect(s.remote, { probeIntervalMs, reconnect: false });
    await client.transact(NB, [insertSwitch('before-stop')]);
    const disconnected = new Promise<{ at: number; reason: Error }>((resolve) =>
      client.once('disconnected', (e) => resolve({ at: Date.now(), reason: e.reason })),
    );
    s.process.signal('SIGSTOP');
    cleanups.push(async () => s.process.signal('SIGCONT'));
    const stoppedAt = Date.now();
    const timedOut = await client.transact(NB, [insertSwitch('while-stopped')], { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(timedOut).toMatchObject({ code: 'RequestTimeout' });
    const pending = client.transact(NB, [insertSwitch('pending-on-dead-peer')]).catch((e: unknown) => e);
    const { at, reason } = await disconnected;
    expect(reason).toMatchObject({ code: 'ProbeTimeout' });
    // Idle for one interval, probe, no answer for another: dead after 2-3 intervals.
    // (plus slack for timers firing late on a loaded machine).
    expect(at - stoppedAt).toBeLessThan(3 * probeIntervalMs + 3000);
    expect(await pending).toMatchObject({ code: 'ConnectionLost' });
    s.process.signal('SIGCONT');
  });
});
