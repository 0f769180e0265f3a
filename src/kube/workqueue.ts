// A work queue with client-go's semantics (k8s.io/client-go/util/workqueue):
// - a key added while already queued is queued once (the dirty set);
// - a key handed out by get() is "processing" until done(); adding it meanwhile only marks it
//   dirty, and done() puts it back, so one key never runs on two workers at once;
// - addAfter keeps the earliest deadline per key; addRateLimited asks the rate limiter;
// - after shutDown, add/addAfter are ignored, get() hands out what is already queued and then
//   undefined; shutDownWithDrain also waits until every processing key is done().
import { realClock, type Clock, type TimerHandle } from './clock.ts';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiters.ts';

/** Optional observers, called synchronously; they must not throw (exceptions are swallowed). */
export interface WorkQueueMetrics {
  /** Queue length after every change. */
  depth?(depth: number): void;
  /** A key entered the dirty set (duplicates that collapse are not counted). */
  add?(key: string): void;
  /** Time a key waited between add and get, in ms. */
  latency?(ms: number, key: string): void;
  /** Time between get and done, in ms. */
  workDuration?(ms: number, key: string): void;
  /** An addAfter / addRateLimited call (client-go counts retries there). */
  retry?(key: string): void;
  /** Periodic: total ms of work in progress and the longest-running key's ms. */
  unfinishedWork?(unfinishedMs: number, longestRunningMs: number): void;
}

export interface WorkQueueOptions {
  /** Shows up in errors and logs. */
  name?: string;
  clock?: Clock;
  /** Used by addRateLimited/forget/numRequeues; default client-go's controller rate limiter. */
  rateLimiter?: RateLimiter;
  metrics?: WorkQueueMetrics;
  /** Period of the unfinishedWork hook (default 500 ms, only runs if the hook is set). */
  unfinishedWorkIntervalMs?: number;
}

interface Waiting {
  key: string;
  readyAt: number;
}

export class WorkQueueError extends Error {
  readonly code: string;
  readonly stage: string;
  readonly queue: string;
  readonly key: unknown;

  constructor(message: string, code: string, stage: string, queue: string, key: unknown) {
    super(`workqueue ${queue}: ${stage}: ${message}`);
    this.name = 'WorkQueueError';
    this.code = code;
    this.stage = stage;
    this.queue = queue;
    this.key = key;
  }
}

export class WorkQueue {
  readonly name: string;
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter;
  private readonly metrics: WorkQueueMetrics;

  // FIFO of ready keys; `head` avoids O(n) shifts.
  private queue: string[] = [];
  private head = 0;
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly addedAt = new Map<string, number>();
  private readonly processingSince = new Map<string, number>();
  private getters: Array<(key: string | undefined) => void> = [];

  // Delayed adds: the authoritative deadline per key plus a min-heap that may hold stale entries.
  private readonly waitingUntil = new Map<string, number>();
  private heap: Waiting[] = [];
  private delayTimer: TimerHandle | undefined;
  private delayTimerAt = Infinity;

  private shuttingDown = false;
  private drainWaiters: Array<() => void> = [];
  private unfinishedTimer: TimerHandle | undefined;
  private readonly unfinishedIntervalMs: number;

  constructor(options: WorkQueueOptions = {}) {
    this.name = options.name ?? 'default';
    this.clock = options.clock ?? realClock;
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter({ clock: this.clock });
    this.metrics = options.metrics ?? {};
    this.unfinishedIntervalMs = options.unfinishedWorkIntervalMs ?? 500;
    if (this.metrics.unfinishedWork !== undefined) this.scheduleUnfinishedWork();
  }

  add(key: string): void {
    this.checkKey(key, 'add');
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.addedAt.set(key, this.clock.now());
    this.observe('add', key);
    if (this.processing.has(key)) return; // done() will queue it
    this.push(key);
  }

  /** The next key; waits while the queue is empty; undefined once shut down and empty. */
  get(): Promise<string | undefined> {
    if (this.length() > 0) return Promise.resolve(this.take());
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: string): void {
    this.checkKey(key, 'done');
    if (!this.processing.delete(key)) return; // not handed out (or done twice): nothing to do
    const since = this.processingSince.get(key);
    this.processingSince.delete(key);
    if (since !== undefined) this.observe('workDuration', this.clock.now() - since, key);
    if (this.dirty.has(key)) {
      this.push(key);
    } else if (this.processing.size === 0) {
      this.resolveDrainWaiters();
    }
  }

  /** Adds `key` once `delayMs` has passed; if it is already waiting, the earlier deadline wins. */
  addAfter(key: string, delayMs: number): void {
    this.checkKey(key, 'addAfter');
    if (typeof delayMs !== 'number' || Number.isNaN(delayMs)) {
      throw new WorkQueueError(`delay must be a number of ms, got ${String(delayMs)}`, 'KUBE_QUEUE_BAD_DELAY', 'addAfter', this.name, key);
    }
    if (this.shuttingDown) return;
    this.observe('retry', key);
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const readyAt = this.clock.now() + delayMs;
    const existing = this.waitingUntil.get(key);
    if (existing !== undefined && existing <= readyAt) return;
    this.waitingUntil.set(key, readyAt);
    this.heapPush({ key, readyAt });
    this.armDelayTimer();
  }

  addRateLimited(key: string): void {
    this.checkKey(key, 'addRateLimited');
    if (this.shuttingDown) return;
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** The key succeeded: reset its backoff. It does not remove the key from the queue. */
  forget(key: string): void {
    this.checkKey(key, 'forget');
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    this.checkKey(key, 'numRequeues');
    return this.rateLimiter.numRequeues(key);
  }

  /** Keys ready to be handed out (not the delayed or processing ones), as client-go's Len. */
  len(): number {
    return this.length();
  }

  /** Keys waiting for an addAfter deadline. */
  delayedLen(): number {
    return this.waitingUntil.size;
  }

  processingLen(): number {
    return this.processing.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.waitingUntil.clear();
    this.heap = [];
    if (this.delayTimer !== undefined) this.clock.clearTimer(this.delayTimer);
    this.delayTimer = undefined;
    this.delayTimerAt = Infinity;
    if (this.unfinishedTimer !== undefined) this.clock.clearTimer(this.unfinishedTimer);
    this.unfinishedTimer = undefined;
    // Getters only wait while the queue is empty, so all of them get undefined.
    const getters = this.getters;
    this.getters = [];
    for (const resolve of getters) resolve(undefined);
    if (this.processing.size === 0) this.resolveDrainWaiters();
  }

  /** Shuts down, then resolves once every key handed out by get() has been done(). */
  shutDownWithDrain(): Promise<void> {
    const drained = this.processing.size === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    this.shutDown();
    return drained;
  }

  /** Sum of the running time of keys in processing, and the longest one, in ms. */
  unfinishedWork(): { unfinishedMs: number; longestRunningMs: number } {
    const now = this.clock.now();
    let unfinishedMs = 0;
    let longestRunningMs = 0;
    for (const since of this.processingSince.values()) {
      const running = now - since;
      unfinishedMs += running;
      longestRunningMs = Math.max(longestRunningMs, running);
    }
    return { unfinishedMs, longestRunningMs };
  }

  private length(): number {
    return this.queue.length - this.head;
  }

  private push(key: string): void {
    this.queue.push(key);
    this.observe('depth', this.length());
    const resolve = this.getters.shift();
    if (resolve !== undefined) resolve(this.take());
  }

  private take(): string {
    const key = this.queue[this.head] as string;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.observe('depth', this.length());
    this.processing.add(key);
    this.dirty.delete(key);
    const now = this.clock.now();
    this.processingSince.set(key, now);
    const addedAt = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (addedAt !== undefined) this.observe('latency', now - addedAt, key);
    return key;
  }

  private resolveDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private armDelayTimer(): void {
    const next = this.heap[0];
    if (next === undefined) return;
    if (next.readyAt >= this.delayTimerAt) return;
    if (this.delayTimer !== undefined) this.clock.clearTimer(this.delayTimer);
    this.delayTimerAt = next.readyAt;
    this.delayTimer = this.clock.setTimer(() => this.onDelayTimer(), next.readyAt - this.clock.now());
  }

  private onDelayTimer(): void {
    this.delayTimer = undefined;
    this.delayTimerAt = Infinity;
    const now = this.clock.now();
    for (;;) {
      const next = this.heap[0];
      if (next === undefined || next.readyAt > now) break;
      this.heapPop();
      // Skip heap entries superseded by an earlier deadline for the same key.
      if (this.waitingUntil.get(next.key) !== next.readyAt) continue;
      this.waitingUntil.delete(next.key);
      this.add(next.key);
    }
    this.armDelayTimer();
  }

  private heapPush(entry: Waiting): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as Waiting).readyAt <= entry.readyAt) break;
      heap[i] = heap[parent] as Waiting;
      i = parent;
    }
    heap[i] = entry;
  }

  private heapPop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && (heap[right] as Waiting).readyAt < (heap[left] as Waiting).readyAt ? right : left;
      if ((heap[child] as Waiting).readyAt >= last.readyAt) break;
      heap[i] = heap[child] as Waiting;
      i = child;
    }
    heap[i] = last;
  }

  private scheduleUnfinishedWork(): void {
    this.unfinishedTimer = this.clock.setTimer(() => {
      if (this.shuttingDown) return;
      const { unfinishedMs, longestRunningMs } = this.unfinishedWork();
      this.observe('unfinishedWork', unfinishedMs, longestRunningMs);
      this.scheduleUnfinishedWork();
    }, this.unfinishedIntervalMs);
  }

  private observe<K extends keyof WorkQueueMetrics>(hook: K, ...args: Parameters<NonNullable<WorkQueueMetrics[K]>>): void {
    const fn = this.metrics[hook] as ((...a: unknown[]) => void) | undefined;
    if (fn === undefined) return;
    try {
      fn.apply(this.metrics, args);
    } catch {
      // A broken metrics sink must not break the queue.
    }
  }

  private checkKey(key: unknown, stage: string): asserts key is string {
    if (typeof key !== 'string' || key.length === 0) {
      throw new WorkQueueError(`key must be a non-empty string, got ${JSON.stringify(key)}`, 'KUBE_QUEUE_BAD_KEY', stage, this.name, key);
    }
  }
}
