// Leader election on a coordination.k8s.io/v1 Lease, following client-go's
// tools/leaderelection algorithm:
// - a candidate reads the Lease; a record it has not seen before is stamped with the LOCAL
//   monotonic time of that observation, and another holder's lease counts as expired only when
//   leaseDuration has passed since that local observation — clocks are never compared;
// - acquire and renew are updates carrying the resourceVersion that was read (or the one we last
//   wrote, on the renew fast path), so two candidates cannot both win: the loser gets 409;
// - candidates retry every retryPeriod with client-go's jitter (+0..1.2×);
// - the leader renews every retryPeriod. If no renew *started* within renewDeadline has
//   succeeded, it stops leading: a timer flips it at lastSuccessfulRenewStart + renewDeadline
//   whatever the renew loop is blocked on, which is before any other candidate can see the
//   lease expire (≥ that same instant + leaseDuration, as leaseDuration > renewDeadline);
// - on stop() (and after losing the lease) the holder releases it as client-go's
//   ReleaseOnCancel: holderIdentity "" and leaseDurationSeconds 1, so a standby takes over at
//   its next retry instead of waiting for expiry;
// - an optional health check runs before every renew; a leader that reports unhealthy (false,
//   throws, or times out) steps down and releases, so a healthy candidate can take over.
import { V1MicroTime, type V1Lease, type V1LeaseSpec } from '@kubernetes/client-node';
import { realClock, sleep, type Clock, type TimerHandle } from './clock.ts';
import { callOptions, isNotFound, toKubeApiError, type KubeClients, type KubeLogger } from './client.ts';
import { defaultKubeLogger } from './watch-types.ts';

export interface LeaderCallbacks {
  /** Called when this candidate becomes leader; `signal` aborts when it stops leading. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called once after leading ends (lost, unhealthy or stopped). Not called if it never led. */
  onStoppedLeading(): void;
  /** Called when the observed holder changes (including to this candidate). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectorOptions {
  clients: Pick<KubeClients, 'coordination'>;
  namespace: string;
  /** Lease name, e.g. "ovnkit-controller". */
  name: string;
  /** Unique per candidate, e.g. the pod name. */
  identity: string;
  callbacks: LeaderCallbacks;
  /** How long a standby waits after last seeing the lease change before taking it (default 15 s). */
  leaseDurationMs?: number;
  /** How long a leader keeps trying to renew before it stops leading (default 10 s). */
  renewDeadlineMs?: number;
  /** Interval between acquire or renew attempts (default 2 s). */
  retryPeriodMs?: number;
  /** Release the lease when stopping (default true, as client-go's ReleaseOnCancel). */
  releaseOnCancel?: boolean;
  /** Can this leader do its work? false / throw / timeout → step down and release. */
  healthCheck?: () => boolean | Promise<boolean>;
  /** Budget for one health check (default retryPeriodMs). */
  healthCheckTimeoutMs?: number;
  clock?: Clock;
  logger?: KubeLogger;
}

/** client-go's JitterFactor for the acquire loop. */
const JITTER_FACTOR = 1.2;

export type StopReason = 'stopped' | 'renew-deadline' | 'lost' | 'unhealthy';

interface ObservedRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTimeMs: number;
  renewTimeMs: number;
  leaseTransitions: number;
}

function timeMs(value: unknown): number {
  if (value === undefined || value === null) return 0;
  const ms = value instanceof Date ? value.getTime() : new Date(String(value)).getTime();
  return Number.isNaN(ms) ? 0 : ms;
}

function recordOf(spec: V1LeaseSpec | undefined): ObservedRecord {
  return {
    holderIdentity: spec?.holderIdentity ?? '',
    leaseDurationSeconds: spec?.leaseDurationSeconds ?? 0,
    acquireTimeMs: timeMs(spec?.acquireTime),
    renewTimeMs: timeMs(spec?.renewTime),
    leaseTransitions: spec?.leaseTransitions ?? 0,
  };
}

function sameRecord(a: ObservedRecord | undefined, b: ObservedRecord): boolean {
  return a !== undefined && a.holderIdentity === b.holderIdentity && a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTimeMs === b.acquireTimeMs && a.renewTimeMs === b.renewTimeMs && a.leaseTransitions === b.leaseTransitions;
}

function configError(message: string): Error {
  return Object.assign(new RangeError(`LeaderElector: ${message}`), { code: 'KUBE_LEADER_CONFIG', stage: 'config' });
}

export class LeaderElector {
  readonly identity: string;
  readonly namespace: string;
  readonly name: string;
  private readonly clients: Pick<KubeClients, 'coordination'>;
  private readonly callbacks: LeaderCallbacks;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly releaseOnCancel: boolean;
  private readonly healthCheck: (() => boolean | Promise<boolean>) | undefined;
  private readonly healthCheckTimeoutMs: number;
  private readonly clock: Clock;
  private readonly logger: KubeLogger;

  private observedRecord: ObservedRecord | undefined;
  private observedTime = 0;
  /** The Lease as we last read or wrote it (its resourceVersion is the update precondition). */
  private lastLease: V1Lease | undefined;
  private reportedLeader = '';
  private leading = false;
  private leadingController: AbortController | undefined;
  private deadlineTimer: TimerHandle | undefined;
  private stopController = new AbortController();
  private running: Promise<void> | undefined;
  private stopReason: StopReason | undefined;
  private resolveStepDown: (() => void) | undefined;

  constructor(options: LeaderElectorOptions) {
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) throw configError('leaseDuration must be greater than renewDeadline');
    if (!(this.renewDeadlineMs > JITTER_FACTOR * this.retryPeriodMs)) throw configError('renewDeadline must be greater than retryPeriod × 1.2');
    if (!(this.retryPeriodMs > 0)) throw configError('retryPeriod must be positive');
    if (this.leaseDurationMs % 1000 !== 0) throw configError('leaseDuration must be whole seconds (Lease.spec.leaseDurationSeconds)');
    for (const [field, value] of [['namespace', options.namespace], ['name', options.name], ['identity', options.identity]] as const) {
      if (typeof value !== 'string' || value.length === 0) throw configError(`${field} is required`);
    }
    if (typeof options.callbacks?.onStartedLeading !== 'function' || typeof options.callbacks?.onStoppedLeading !== 'function') {
      throw configError('callbacks.onStartedLeading and callbacks.onStoppedLeading are required');
    }
    this.clients = options.clients;
    this.namespace = options.namespace;
    this.name = options.name;
    this.identity = options.identity;
    this.callbacks = options.callbacks;
    this.releaseOnCancel = options.releaseOnCancel ?? true;
    this.healthCheck = options.healthCheck;
    this.healthCheckTimeoutMs = options.healthCheckTimeoutMs ?? this.retryPeriodMs;
    this.clock = options.clock ?? realClock;
    this.logger = options.logger ?? defaultKubeLogger('leader-election');
  }

  /** True while this candidate is leading (flips to false the moment it stops). */
  isLeader(): boolean {
    return this.leading;
  }

  /** The last observed holder ("" if none yet). */
  getLeader(): string {
    return this.observedRecord?.holderIdentity ?? '';
  }

  /** Why the last term ended, if one did. */
  lastStopReason(): StopReason | undefined {
    return this.stopReason;
  }

  /**
   * Campaigns until it leads, leads until the lease is lost, the health check fails or stop()
   * is called, then resolves. One term per call, as client-go's Run.
   */
  run(): Promise<void> {
    if (this.running !== undefined) throw configError('run() is already in progress');
    if (this.stopController.signal.aborted) this.stopController = new AbortController();
    this.running = this.runTerm().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops campaigning or leading; releases the lease if held (releaseOnCancel). */
  async stop(): Promise<void> {
    this.stopController.abort(new Error('leader elector stopped'));
    if (this.leading) this.stepDown('stopped');
    await this.running;
  }

  private async runTerm(): Promise<void> {
    const stop = this.stopController.signal;
    const acquired = await this.acquireLoop(stop);
    if (!acquired) {
      // stop() may have landed while an acquire was being written: don't sit on a lease we won't use.
      if (this.releaseOnCancel) await this.release();
      return;
    }
    const stepDown = new Promise<void>((resolve) => (this.resolveStepDown = resolve));
    this.startLeading();
    await Promise.race([this.renewLoop(), stepDown]);
    // The loop only ends while still leading when the deadline passed before its timer fired.
    if (this.leading) this.stepDown('renew-deadline');
    // Let the renew loop notice the abort before releasing, so the two never race on the Lease.
    await this.renewLoopDone;
    const reason = this.stopReason;
    if ((reason === 'stopped' && this.releaseOnCancel) || reason === 'unhealthy' || (reason === 'renew-deadline' && this.releaseOnCancel)) {
      await this.release();
    }
  }

  private renewLoopDone: Promise<void> = Promise.resolve();

  private async acquireLoop(stop: AbortSignal): Promise<boolean> {
    this.logInfo({ lease: this.describe() }, 'attempting to acquire leader lease');
    while (!stop.aborted) {
      const ok = await this.tryAcquireOrRenew(this.renewDeadlineMs, stop);
      this.maybeReportTransition();
      if (ok && !stop.aborted) return true;
      const wait = this.retryPeriodMs * (1 + Math.random() * JITTER_FACTOR);
      try {
        await sleep(this.clock, wait, stop);
      } catch {
        return false;
      }
    }
    return false;
  }

  private startLeading(): void {
    this.leading = true;
    this.stopReason = undefined;
    this.leadingController = new AbortController();
    this.armDeadline(this.lastAttemptStart);
    this.logInfo({ lease: this.describe() }, 'became leader');
    const signal = this.leadingController.signal;
    try {
      Promise.resolve(this.callbacks.onStartedLeading(signal)).catch((err: unknown) => {
        this.logger.error({ stage: 'on-started-leading', lease: this.describe(), err: (err as Error)?.message ?? String(err) }, 'onStartedLeading failed');
      });
    } catch (err) {
      this.logger.error({ stage: 'on-started-leading', lease: this.describe(), err: (err as Error)?.message ?? String(err) }, 'onStartedLeading failed');
    }
  }

  /** Synchronous: the leading flag is false as soon as this returns. */
  private stepDown(reason: StopReason): void {
    if (!this.leading) return;
    this.leading = false;
    this.stopReason = reason;
    if (this.deadlineTimer !== undefined) this.clock.clearTimer(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.leadingController?.abort(new Error(`stopped leading: ${reason}`));
    this.logInfo({ lease: this.describe(), reason }, 'stopped leading');
    try {
      this.callbacks.onStoppedLeading();
    } catch (err) {
      this.logger.error({ stage: 'on-stopped-leading', lease: this.describe(), err: (err as Error)?.message ?? String(err) }, 'onStoppedLeading failed');
    }
    this.resolveStepDown?.();
    this.resolveStepDown = undefined;
  }

  private armDeadline(lastSuccessfulStart: number): void {
    if (this.deadlineTimer !== undefined) this.clock.clearTimer(this.deadlineTimer);
    const remaining = lastSuccessfulStart + this.renewDeadlineMs - this.clock.now();
    this.deadlineTimer = this.clock.setTimer(() => {
      this.deadlineTimer = undefined;
      this.logger.warn({ stage: 'renew', lease: this.describe(), renewDeadlineMs: this.renewDeadlineMs }, 'failed to renew lease within the renew deadline');
      this.stepDown('renew-deadline');
    }, remaining);
  }

  private renewLoop(): Promise<void> {
    const loop = async (): Promise<void> => {
      const leadingSignal = this.leadingController!.signal;
      let lastSuccessfulStart = this.lastAttemptStart;
      while (this.leading) {
        try {
          await sleep(this.clock, this.retryPeriodMs, leadingSignal);
        } catch {
          return;
        }
        // Retry within the deadline; the deadline timer ends leadership if this never succeeds.
        for (;;) {
          if (!this.leading) return;
          const remaining = lastSuccessfulStart + this.renewDeadlineMs - this.clock.now();
          if (remaining <= 0) return;
          if (!(await this.checkHealth(leadingSignal))) {
            this.stepDown('unhealthy');
            return;
          }
          const attemptStart = this.clock.now();
          const ok = await this.tryAcquireOrRenew(Math.max(1, lastSuccessfulStart + this.renewDeadlineMs - attemptStart), leadingSignal);
          this.maybeReportTransition();
          if (!this.leading) return;
          if (ok) {
            lastSuccessfulStart = attemptStart;
            this.armDeadline(lastSuccessfulStart);
            break;
          }
          if (this.observedRecord !== undefined && this.observedRecord.holderIdentity !== this.identity) {
            this.stepDown('lost'); // someone else holds it now
            return;
          }
          try {
            await sleep(this.clock, Math.min(this.retryPeriodMs, Math.max(0, lastSuccessfulStart + this.renewDeadlineMs - this.clock.now())), leadingSignal);
          } catch {
            return;
          }
        }
      }
    };
    this.renewLoopDone = loop();
    return this.renewLoopDone;
  }

  private async checkHealth(signal: AbortSignal): Promise<boolean> {
    if (this.healthCheck === undefined) return true;
    let timer: TimerHandle | undefined;
    try {
      const timeout = new Promise<boolean>((resolve) => {
        timer = this.clock.setTimer(() => resolve(false), this.healthCheckTimeoutMs);
      });
      const aborted = new Promise<boolean>((resolve) => signal.addEventListener('abort', () => resolve(true), { once: true }));
      const healthy = await Promise.race([Promise.resolve().then(() => this.healthCheck!()), timeout, aborted]);
      if (healthy !== true) this.logger.warn({ stage: 'health-check', lease: this.describe() }, 'leader health check failed; giving up the lease');
      return healthy === true;
    } catch (err) {
      this.logger.warn({ stage: 'health-check', lease: this.describe(), err: (err as Error)?.message ?? String(err) }, 'leader health check threw; giving up the lease');
      return false;
    } finally {
      if (timer !== undefined) this.clock.clearTimer(timer);
    }
  }

  private lastAttemptStart = 0;

  /** One acquire-or-renew attempt, client-go's tryAcquireOrRenew. Never throws. */
  private async tryAcquireOrRenew(timeoutMs: number, outer: AbortSignal): Promise<boolean> {
    const attemptStart = this.clock.now();
    this.lastAttemptStart = attemptStart;
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(outer.reason);
    if (outer.aborted) return false;
    outer.addEventListener('abort', onOuterAbort, { once: true });
    const timer = this.clock.setTimer(() => controller.abort(new Error('lease request timed out')), timeoutMs);
    const opts = callOptions({ signal: controller.signal });
    const now = new Date();
    const desired: V1LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.leaseDurationMs / 1000,
      acquireTime: new V1MicroTime(now.getTime()),
      renewTime: new V1MicroTime(now.getTime()),
      leaseTransitions: 0,
    };
    try {
      // Fast path: the leader renews against the version it last wrote, without a read.
      if (this.leading && this.lastLease?.metadata?.resourceVersion !== undefined && this.observedRecord !== undefined) {
        const spec: V1LeaseSpec = {
          ...desired,
          acquireTime: new V1MicroTime(this.observedRecord.acquireTimeMs),
          leaseTransitions: this.observedRecord.leaseTransitions,
        };
        try {
          const written = await this.clients.coordination.replaceNamespacedLease(
            { name: this.name, namespace: this.namespace, body: { ...this.lastLease, spec } },
            opts,
          );
          this.setObserved(written);
          return true;
        } catch (err) {
          if (controller.signal.aborted) throw err;
          this.logger.warn({ stage: 'renew', lease: this.describe(), err: toKubeApiError(err, 'renew', this.describe()).message }, 'optimistic lease renew failed; re-reading');
        }
      }

      let current: V1Lease;
      try {
        current = await this.clients.coordination.readNamespacedLease({ name: this.name, namespace: this.namespace }, opts);
      } catch (err) {
        if (!isNotFound(toKubeApiError(err, 'read-lease', this.describe()))) throw err;
        const created = await this.clients.coordination.createNamespacedLease(
          { namespace: this.namespace, body: { metadata: { name: this.name, namespace: this.namespace }, spec: desired } },
          opts,
        );
        this.setObserved(created);
        return true;
      }

      const record = recordOf(current.spec);
      if (!sameRecord(this.observedRecord, record)) {
        this.observedRecord = record;
        this.observedTime = this.clock.now();
      }
      this.lastLease = current;
      const heldByOther = record.holderIdentity !== '' && record.holderIdentity !== this.identity;
      if (heldByOther && this.observedTime + this.leaseDurationMs > this.clock.now()) return false;

      const spec: V1LeaseSpec = { ...desired };
      if (record.holderIdentity === this.identity) {
        const acquiredAt: unknown = current.spec?.acquireTime;
        spec.acquireTime = (acquiredAt instanceof Date && !(acquiredAt instanceof V1MicroTime)
          ? new V1MicroTime(acquiredAt.getTime())
          : (acquiredAt as V1MicroTime | undefined)) ?? desired.acquireTime;
        spec.leaseTransitions = record.leaseTransitions;
      } else {
        spec.leaseTransitions = record.leaseTransitions + 1;
      }
      const written = await this.clients.coordination.replaceNamespacedLease(
        { name: this.name, namespace: this.namespace, body: { ...current, spec } },
        opts,
      );
      this.setObserved(written);
      return true;
    } catch (err) {
      const apiErr = toKubeApiError(err, this.leading ? 'renew' : 'acquire', this.describe());
      if (apiErr.status !== 409) {
        this.logger.warn({ code: apiErr.code, stage: apiErr.stage, lease: this.describe(), err: apiErr.message }, 'lease acquire/renew attempt failed');
      }
      return false;
    } finally {
      this.clock.clearTimer(timer);
      outer.removeEventListener('abort', onOuterAbort);
    }
  }

  private setObserved(lease: V1Lease): void {
    this.lastLease = lease;
    this.observedRecord = recordOf(lease.spec);
    this.observedTime = this.clock.now();
  }

  /** client-go's release: holder "" and a 1 s lease, written against the version we hold. */
  private async release(): Promise<boolean> {
    if (this.observedRecord?.holderIdentity !== this.identity || this.lastLease === undefined) return true;
    const controller = new AbortController();
    const timer = this.clock.setTimer(() => controller.abort(new Error('lease release timed out')), this.renewDeadlineMs);
    const now = Date.now();
    try {
      const written = await this.clients.coordination.replaceNamespacedLease(
        {
          name: this.name,
          namespace: this.namespace,
          body: {
            ...this.lastLease,
            spec: {
              holderIdentity: '',
              leaseDurationSeconds: 1,
              leaseTransitions: this.observedRecord.leaseTransitions,
              acquireTime: new V1MicroTime(now),
              renewTime: new V1MicroTime(now),
            },
          },
        },
        callOptions({ signal: controller.signal }),
      );
      this.setObserved(written);
      this.logInfo({ lease: this.describe() }, 'released leader lease');
      return true;
    } catch (err) {
      const apiErr = toKubeApiError(err, 'release', this.describe());
      // 409: someone else already wrote the lease, so it is not ours to release.
      if (apiErr.status !== 409) this.logger.warn({ code: apiErr.code, stage: 'release', lease: this.describe(), err: apiErr.message }, 'failed to release lease');
      return false;
    } finally {
      this.clock.clearTimer(timer);
    }
  }

  private maybeReportTransition(): void {
    const holder = this.observedRecord?.holderIdentity ?? '';
    if (holder === '' || holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    const onNewLeader = this.callbacks.onNewLeader;
    if (onNewLeader === undefined) return;
    queueMicrotask(() => {
      try {
        onNewLeader(holder);
      } catch (err) {
        this.logger.error({ stage: 'on-new-leader', lease: this.describe(), err: (err as Error)?.message ?? String(err) }, 'onNewLeader failed');
      }
    });
  }

  private describe(): string {
    return `leases/${this.namespace}/${this.name}`;
  }

  private logInfo(obj: object, msg: string): void {
    this.logger.info({ identity: this.identity, ...obj }, msg);
  }
}

