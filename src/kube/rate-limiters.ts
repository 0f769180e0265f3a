// Rate limiters for WorkQueue.addRateLimited, with client-go's semantics: a per-key exponential
// failure backoff, a global token bucket, and the max of several limiters.
import { realClock, type Clock } from './clock.ts';

export interface RateLimiter {
  /** Delay in ms before `key` may be processed again; counts as one more failure of `key`. */
  when(key: string): number;
  /** The key succeeded: clear its failure history. */
  forget(key: string): void;
  /** How many times `when` was called for `key` since the last `forget`. */
  numRequeues(key: string): number;
}

function requirePositive(value: number, what: string): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw Object.assign(new RangeError(`rate limiter: ${what} must be a positive finite number, got ${value}`), {
      code: 'KUBE_RATE_LIMITER_CONFIG',
      stage: 'config',
    });
  }
}

/** baseDelayMs × 2^failures, capped at maxDelayMs. The first failure waits baseDelayMs. */
export class ExponentialFailureRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(baseDelayMs = 5, maxDelayMs = 1_000_000) {
    requirePositive(baseDelayMs, 'baseDelayMs');
    requirePositive(maxDelayMs, 'maxDelayMs');
    this.baseDelayMs = baseDelayMs;
    this.maxDelayMs = maxDelayMs;
  }

  when(key: string): number {
    const exponent = this.failures.get(key) ?? 0;
    this.failures.set(key, exponent + 1);
    // 2^exponent overflows to Infinity for huge exponents, which the cap absorbs.
    return Math.min(this.baseDelayMs * 2 ** exponent, this.maxDelayMs);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * A token bucket like golang.org/x/time/rate: refills at `qps` tokens per second up to `burst`.
 * `reserve()` always succeeds and may drive the balance negative, returning how long the caller
 * must wait for its token; `tryTake()` only takes a token that is available now.
 */
export class TokenBucket {
  private tokens: number;
  private lastRefill: number;
  private readonly qps: number;
  private readonly burst: number;
  private readonly clock: Clock;

  constructor(qps: number, burst: number, clock: Clock = realClock) {
    requirePositive(qps, 'qps');
    requirePositive(burst, 'burst');
    this.qps = qps;
    this.burst = burst;
    this.clock = clock;
    this.tokens = burst;
    this.lastRefill = clock.now();
  }

  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.lastRefill;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.qps) / 1000);
      this.lastRefill = now;
    }
  }
}

/** Global (not per-key) limiter: every call takes a token from one shared bucket. */
export class BucketRateLimiter implements RateLimiter {
  private readonly bucket: TokenBucket;

  constructor(qps = 10, burst = 100, clock: Clock = realClock) {
    this.bucket = new TokenBucket(qps, burst, clock);
  }

  when(_key: string): number {
    return this.bucket.reserve();
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** Waits the longest of its limiters. Every limiter sees every call, as in client-go. */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    if (limiters.length === 0) {
      throw Object.assign(new RangeError('MaxOfRateLimiter needs at least one limiter'), {
        code: 'KUBE_RATE_LIMITER_CONFIG',
        stage: 'config',
      });
    }
    this.limiters = limiters;
  }

  when(key: string): number {
    let delay = 0;
    for (const limiter of this.limiters) delay = Math.max(delay, limiter.when(key));
    return delay;
  }

  forget(key: string): void {
    for (const limiter of this.limiters) limiter.forget(key);
  }

  numRequeues(key: string): number {
    let most = 0;
    for (const limiter of this.limiters) most = Math.max(most, limiter.numRequeues(key));
    return most;
  }
}

export interface ControllerRateLimiterOptions {
  /** Per-key backoff of the first failure (default 5 ms). */
  baseDelayMs?: number;
  /** Per-key backoff cap (default 1000 s). */
  maxDelayMs?: number;
  /** Global bucket refill rate (default 10 per second). */
  qps?: number;
  /** Global bucket size (default 100). */
  burst?: number;
  clock?: Clock;
}

/** client-go's DefaultControllerRateLimiter: max(5 ms × 2^failures capped at 1000 s, 10 qps burst 100). */
export function defaultControllerRateLimiter(options: ControllerRateLimiterOptions = {}): RateLimiter {
  const clock = options.clock ?? realClock;
  return new MaxOfRateLimiter(
    new ExponentialFailureRateLimiter(options.baseDelayMs ?? 5, options.maxDelayMs ?? 1_000_000),
    new BucketRateLimiter(options.qps ?? 10, options.burst ?? 100, clock),
  );
}
