// Retry delays for list/watch failures: exponential with full jitter on top, reset once the
// connection has been healthy for a while (client-go's reflector uses 800 ms doubling to 30 s,
// reset after 2 min of health, jitter 1.0; the same defaults here).

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** Delay is base × (1 + jitter × random()). */
  jitter?: number;
  /** A success that lasted this long forgets the failure history. */
  resetAfterMs?: number;
  random?: () => number;
}

export class JitteredBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: number;
  readonly resetAfterMs: number;
  private readonly random: () => number;
  private failures = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 800;
    this.maxMs = options.maxMs ?? 30_000;
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 1;
    this.resetAfterMs = options.resetAfterMs ?? 120_000;
    this.random = options.random ?? Math.random;
    if (!(this.initialMs > 0) || !(this.maxMs >= this.initialMs) || !(this.factor >= 1) || !(this.jitter >= 0)) {
      throw new RangeError(`backoff: need 0 < initialMs <= maxMs, factor >= 1, jitter >= 0 (got ${JSON.stringify(options)})`);
    }
  }

  /** Consecutive failures since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  /** Records a failure and returns how long to wait before the next attempt. */
  nextDelayMs(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** this.failures);
    this.failures++;
    return Math.min(this.maxMs * (1 + this.jitter), base * (1 + this.jitter * this.random()));
  }

  /** Called after a success; forgets failures only if the success lasted at least resetAfterMs. */
  succeeded(healthyForMs: number): void {
    if (healthyForMs >= this.resetAfterMs) this.failures = 0;
  }

  reset(): void {
    this.failures = 0;
  }
}
