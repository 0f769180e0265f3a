import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/kube/clock.ts';
import {
  BucketRateLimiter,
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
} from '../../src/kube/rate-limiters.ts';
import { WorkQueue, WorkQueueError } from '../../src/kube/workqueue.ts';

/** Resolves to the value if the promise settled within the current macrotask turns, else 'pending'. */
async function peek<T>(promise: Promise<T>): Promise<T | 'pending'> {
  const marker = Symbol('pending');
  const result = await Promise.race([promise, new Promise<symbol>((r) => setImmediate(() => r(marker)))]);
  return result === marker ? 'pending' : (result as T);
}

function newQueue(clock = new FakeClock()) {
  return { clock, queue: new WorkQueue({ name: 'test', clock, rateLimiter: defaultControllerRateLimiter({ clock }) }) };
}

describe('WorkQueue basic semantics', () => {
  it('collapses duplicate adds and keeps FIFO order', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    queue.add('c');
    queue.add('b');
    expect(queue.len()).toBe(3);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
    expect(await queue.get()).toBe('c');
    expect(queue.len()).toBe(0);
  });

  it('never hands out a key that is being processed; a re-add runs again after done', async () => {
    const { queue } = newQueue();
    queue.add('a');
    expect(await queue.get()).toBe('a');
    queue.add('a'); // while processing: only marked dirty
    queue.add('a');
    expect(queue.len()).toBe(0);
    const second = queue.get();
    expect(await peek(second)).toBe('pending');
    queue.done('a');
    expect(await peek(second)).toBe('a');
    queue.done('a');
    expect(queue.len()).toBe(0);
    expect(await peek(queue.get())).toBe('pending');
  });

  it('a key not re-added while processing is not handed out again after done', async () => {
    const { queue } = newQueue();
    queue.add('a');
    await queue.get();
    queue.done('a');
    expect(queue.len()).toBe(0);
    expect(queue.processingLen()).toBe(0);
  });

  it('a waiting getter receives a key as soon as it is added', async () => {
    const { queue } = newQueue();
    const waiting = [queue.get(), queue.get()];
    expect(await peek(waiting[0]!)).toBe('pending');
    queue.add('x');
    queue.add('y');
    expect(await waiting[0]).toBe('x');
    expect(await waiting[1]).toBe('y');
  });

  it('rejects bad keys and delays with a coded error', () => {
    const { queue } = newQueue();
    expect(() => queue.add('')).toThrow(WorkQueueError);
    expect(() => queue.add(42 as unknown as string)).toThrow(/non-empty string/);
    try {
      queue.addAfter('k', Number.NaN);
      expect.unreachable();
    } catch (err) {
      expect((err as WorkQueueError).code).toBe('KUBE_QUEUE_BAD_DELAY');
      expect((err as WorkQueueError).stage).toBe('addAfter');
    }
  });
});

describe('WorkQueue delays and rate limiting (fake clock)', () => {
  it('addAfter keeps the earliest deadline and queues the key once', async () => {
    const { clock, queue } = newQueue();
    queue.addAfter('k', 100);
    queue.addAfter('k', 50); // earlier wins
    queue.addAfter('k', 200); // later is ignored
    expect(queue.delayedLen()).toBe(1);
    await clock.advance(49);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(queue.len()).toBe(1);
    await clock.advance(500);
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe('k');
    queue.done('k');
    await clock.advance(500);
    expect(queue.len()).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('addAfter orders several keys by deadline, and a non-positive delay adds now', async () => {
    const { clock, queue } = newQueue();
    queue.addAfter('late', 30);
    queue.addAfter('early', 10);
    queue.addAfter('mid', 20);
    queue.addAfter('now', 0);
    expect(queue.len()).toBe(1);
    await clock.advance(30);
    const order = [];
    for (let i = 0; i < 4; i++) order.push(await queue.get());
    expect(order).toEqual(['now', 'early', 'mid', 'late']);
  });

  it('per-key backoff is 5, 10, 20, 40 ms… and forget resets it', async () => {
    const { clock, queue } = newQueue();
    const observed: number[] = [];
    for (let failure = 0; failure < 6; failure++) {
      const start = clock.now();
      queue.addRateLimited('k');
      // Step 1 ms at a time to the moment the key becomes ready.
      while (queue.len() === 0) await clock.advance(1);
      observed.push(clock.now() - start);
      expect(await queue.get()).toBe('k');
      queue.done('k');
    }
    expect(observed).toEqual([5, 10, 20, 40, 80, 160]);
    expect(queue.numRequeues('k')).toBe(6);
    queue.forget('k');
    expect(queue.numRequeues('k')).toBe(0);
    const start = clock.now();
    queue.addRateLimited('k');
    while (queue.len() === 0) await clock.advance(1);
    expect(clock.now() - start).toBe(5);
  });

  it('per-key backoff is capped (default 1000 s) and each key has its own count', () => {
    const limiter = new ExponentialFailureRateLimiter();
    const delays = Array.from({ length: 40 }, () => limiter.when('k'));
    expect(delays.slice(0, 4)).toEqual([5, 10, 20, 40]);
    expect(delays[17]).toBe(5 * 2 ** 17); // 655.36 s, still under the cap
    expect(delays[18]).toBe(1_000_000);
    expect(delays[39]).toBe(1_000_000);
    expect(Math.max(...delays)).toBe(1_000_000);
    expect(limiter.when('other')).toBe(5);
    expect(limiter.numRequeues('k')).toBe(40);
    const small = new ExponentialFailureRateLimiter(1, 8);
    expect(Array.from({ length: 6 }, () => small.when('x'))).toEqual([1, 2, 4, 8, 8, 8]);
  });

  it('the global token bucket (10 qps, burst 100) limits a burst of distinct failing keys', () => {
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter({ clock });
    const delays = Array.from({ length: 103 }, (_, i) => limiter.when(`key-${i}`));
    // The first 100 only pay the per-key 5 ms; then each one waits for a refill of 100 ms more.
    expect(delays.slice(0, 100).every((d) => d === 5)).toBe(true);
    expect(delays[100]).toBeCloseTo(100, 6);
    expect(delays[101]).toBeCloseTo(200, 6);
    expect(delays[102]).toBeCloseTo(300, 6);
  });

  it('the token bucket refills with time and is configurable', async () => {
    const clock = new FakeClock();
    const bucket = new BucketRateLimiter(2, 3, clock); // 2 qps, burst 3
    expect([bucket.when('a'), bucket.when('a'), bucket.when('a')]).toEqual([0, 0, 0]);
    expect(bucket.when('a')).toBeCloseTo(500, 6);
    await clock.advance(1500); // pays back the debt and refills 2 tokens
    expect(bucket.when('a')).toBe(0);
    expect(bucket.when('a')).toBe(0);
    expect(bucket.when('a')).toBeCloseTo(500, 6);
    expect(bucket.numRequeues('a')).toBe(0);
  });

  it('addRateLimited through the queue waits the larger of backoff and bucket', async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({
      clock,
      rateLimiter: new MaxOfRateLimiter(new ExponentialFailureRateLimiter(5, 1_000_000), new BucketRateLimiter(10, 2, clock)),
    });
    queue.addRateLimited('a'); // token 1, backoff 5
    queue.addRateLimited('b'); // token 2, backoff 5
    queue.addRateLimited('c'); // bucket empty: 100 ms
    await clock.advance(5);
    expect(queue.len()).toBe(2);
    await clock.advance(94);
    expect(queue.len()).toBe(2);
    await clock.advance(1);
    expect(queue.len()).toBe(3);
    expect(queue.numRequeues('c')).toBe(1);
  });
});

describe('WorkQueue shutdown', () => {
  it('shutDown resolves waiting getters with undefined and ignores later adds', async () => {
    const { queue } = newQueue();
    const waiting = [queue.get(), queue.get()];
    queue.shutDown();
    expect(await waiting[0]).toBeUndefined();
    expect(await waiting[1]).toBeUndefined();
    queue.add('late');
    queue.addAfter('late', 10);
    queue.addRateLimited('late');
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });

  it('after shutDown, keys already queued are still handed out, then undefined (as client-go)', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.add('b');
    queue.shutDown();
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
    expect(await queue.get()).toBeUndefined();
  });

  it('shutDown drops delayed keys and their timers', async () => {
    const { clock, queue } = newQueue();
    queue.addAfter('d', 100);
    queue.shutDown();
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(200);
    expect(queue.len()).toBe(0);
  });

  it('shutDownWithDrain resolves only when every in-flight key is done', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.add('b');
    const a = await queue.get();
    const b = await queue.get();
    const drained = queue.shutDownWithDrain();
    let resolved = false;
    void drained.then(() => (resolved = true));
    expect(await peek(drained)).toBe('pending');
    queue.done(a!);
    expect(await peek(drained)).toBe('pending');
    expect(resolved).toBe(false);
    queue.done(b!);
    await drained;
    expect(resolved).toBe(true);
    expect(await queue.get()).toBeUndefined();
  });

  it('shutDownWithDrain on an idle queue resolves at once', async () => {
    const { queue } = newQueue();
    await expect(queue.shutDownWithDrain()).resolves.toBeUndefined();
  });
});

describe('WorkQueue metrics hooks', () => {
  it('reports depth, adds, latency, work duration, retries and unfinished work', async () => {
    const clock = new FakeClock();
    const seen = { depth: [] as number[], adds: [] as string[], latency: [] as number[], work: [] as number[], retries: 0, unfinished: [] as Array<[number, number]> };
    const queue = new WorkQueue({
      clock,
      unfinishedWorkIntervalMs: 100,
      metrics: {
        depth: (d) => seen.depth.push(d),
        add: (k) => seen.adds.push(k),
        latency: (ms) => seen.latency.push(ms),
        workDuration: (ms) => seen.work.push(ms),
        retry: () => seen.retries++,
        unfinishedWork: (u, l) => seen.unfinished.push([u, l]),
      },
    });
    queue.add('a');
    queue.add('a');
    await clock.advance(30);
    expect(await queue.get()).toBe('a');
    await clock.advance(70); // the 100 ms unfinished-work tick sees 'a' running for 70 ms
    await clock.advance(50);
    queue.done('a');
    queue.addRateLimited('a');
    expect(seen.adds).toEqual(['a']);
    expect(seen.depth).toEqual([1, 0]);
    expect(seen.latency).toEqual([30]);
    expect(seen.work).toEqual([120]);
    expect(seen.retries).toBe(1);
    expect(seen.unfinished[0]).toEqual([70, 70]);
    queue.shutDown();
  });

  it('a throwing metrics hook does not break the queue', async () => {
    const queue = new WorkQueue({ clock: new FakeClock(), metrics: { add: () => { throw new Error('sink down'); } } });
    queue.add('a');
    expect(await queue.get()).toBe('a');
  });
});
