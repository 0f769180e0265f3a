import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/kube/clock.ts';
import { defaultControllerRateLimiter } from '../../src/kube/rate-limiters.ts';
import { runWorkers, type WorkerLogger } from '../../src/kube/workers.ts';
import { WorkQueue } from '../../src/kube/workqueue.ts';

function recordingLogger() {
  const entries: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const logger: WorkerLogger = {
    error: (obj, msg) => entries.push({ level: 'error', obj: obj as Record<string, unknown>, msg }),
    warn: (obj, msg) => entries.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
  };
  return { logger, entries };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe('runWorkers', () => {
  it('never runs more handlers than the concurrency, and processes every key once', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    let running = 0;
    let maxRunning = 0;
    const handled: string[] = [];
    const workers = runWorkers(queue, 3, async (key) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await tick();
      await tick();
      handled.push(key);
      running--;
    });
    for (let i = 0; i < 20; i++) queue.add(`k${i}`);
    while (handled.length < 20) await tick();
    await queue.shutDownWithDrain();
    await workers;
    expect(maxRunning).toBe(3);
    expect(handled.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `k${i}`).sort());
  });

  it('never runs one key on two workers, and a key re-added while running runs again after', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    const gate = deferred();
    const active = new Set<string>();
    let overlaps = 0;
    const runs: string[] = [];
    const workers = runWorkers(queue, 4, async (key) => {
      if (active.has(key)) overlaps++;
      active.add(key);
      runs.push(key);
      if (runs.length === 1) await gate.promise;
      await tick();
      active.delete(key);
    });
    queue.add('same');
    while (runs.length === 0) await tick();
    queue.add('same'); // re-added while the first run is blocked
    queue.add('same');
    for (let i = 0; i < 5; i++) await tick();
    expect(runs).toEqual(['same']); // 3 idle workers, yet nobody picked it up
    gate.resolve();
    while (runs.length < 2) await tick();
    await queue.shutDownWithDrain();
    await workers;
    expect(runs).toEqual(['same', 'same']);
    expect(overlaps).toBe(0);
  });

  it('a failing handler is logged with stage and key and retried with backoff; success forgets', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock, rateLimiter: defaultControllerRateLimiter({ clock }) });
    const { logger, entries } = recordingLogger();
    let attempts = 0;
    const attemptTimes: number[] = [];
    const workers = runWorkers(
      queue,
      2,
      async (key) => {
        attempts++;
        attemptTimes.push(clock.now());
        if (attempts <= 3) throw Object.assign(new Error(`subnet full for ${key}`), { code: 'IPAM_EXHAUSTED', stage: 'allocate' });
      },
      { logger },
    );
    queue.add('ns/pod-a');
    for (let i = 0; i < 50 && attempts < 4; i++) await clock.advance(5);
    expect(attempts).toBe(4);
    // Retried after 5, 10, 20 ms of backoff (clock stepped 5 ms at a time).
    expect(attemptTimes.map((t, i) => (i === 0 ? 0 : t - attemptTimes[i - 1]!))).toEqual([0, 5, 10, 20]);
    expect(entries).toHaveLength(3);
    expect(entries[0]!.level).toBe('error');
    expect(entries[0]!.obj).toMatchObject({ key: 'ns/pod-a', stage: 'allocate', code: 'IPAM_EXHAUSTED', err: 'subnet full for ns/pod-a' });
    expect(queue.numRequeues('ns/pod-a')).toBe(0); // forgotten after success
    await queue.shutDownWithDrain();
    await workers;
    expect(unhandled).toEqual([]);
  });

  it('non-Error throws and synchronous throws are handled, never unhandled rejections', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    const { logger, entries } = recordingLogger();
    const workers = runWorkers(
      queue,
      1,
      (key) => {
        if (key === 'sync') throw 'plain string';
        return Promise.reject(undefined);
      },
      { logger },
    );
    queue.add('sync');
    queue.add('async');
    while (entries.length < 2) await tick();
    queue.shutDown();
    await workers;
    await tick();
    expect(entries.map((e) => e.obj.key)).toEqual(['sync', 'async']);
    expect(entries[0]!.obj.stage).toBe('handle');
    expect(entries[0]!.obj.err).toBe('plain string');
    expect(unhandled).toEqual([]);
  });

  it('maxRetries drops a key after that many failures', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    const { logger, entries } = recordingLogger();
    let attempts = 0;
    const workers = runWorkers(queue, 1, () => { attempts++; throw new Error('boom'); }, { logger, maxRetries: 2 });
    queue.add('k');
    for (let i = 0; i < 20; i++) await clock.advance(10);
    expect(attempts).toBe(3);
    expect(entries.map((e) => e.level)).toEqual(['error', 'error', 'warn']);
    expect(queue.numRequeues('k')).toBe(0);
    queue.shutDown();
    await workers;
  });

  it('rejects a bad concurrency synchronously', () => {
    const queue = new WorkQueue({ clock: new FakeClock() });
    expect(() => runWorkers(queue, 0, () => {})).toThrow(/concurrency/);
    expect(() => runWorkers(queue, 1.5, () => {})).toThrow(/concurrency/);
  });

  it('resolves once the queue is shut down and drained', async () => {
    const queue = new WorkQueue({ clock: new FakeClock() });
    const workers = runWorkers(queue, 2, () => {});
    let finished = false;
    void workers.then(() => (finished = true));
    await tick();
    expect(finished).toBe(false);
    queue.shutDown();
    await workers;
    expect(finished).toBe(true);
  });
});
