// Event recorder on events.k8s.io/v1, modelled on client-go's tools/events:
// - record() is synchronous, never throws and never waits for the API: events go to a bounded
//   buffer written by one background writer;
// - repeats of an identical event (same regarding object, type, reason, action and note) within
//   the series window are aggregated: the Event object gets `series: {count, lastObservedTime}`
//   by merge PATCH instead of a new Event; series patches of one event are coalesced and sent at
//   most once per seriesPatchIntervalMs (flush() sends them at once);
// - each regarding object has a token bucket for *new* Events (default burst 25, one more every
//   5 min, as client-go's legacy spam filter); excess events are dropped and counted;
// - write failures are logged and counted, never thrown: the caller's work never depends on them.
import { EventsV1Event, V1MicroTime } from '@kubernetes/client-node';
import { realClock, sleep, type Clock, type TimerHandle } from './clock.ts';
import { callOptions, MERGE_PATCH, toKubeApiError, isNotFound, type KubeClients, type KubeLogger } from './client.ts';
import { TokenBucket } from './rate-limiters.ts';
import { defaultKubeLogger } from './watch-types.ts';

export type EventType = 'Normal' | 'Warning';

/** The object an event is about (events.k8s.io/v1 `regarding`). */
export interface RegardingRef {
  apiVersion?: string;
  kind: string;
  name: string;
  /** Omit for cluster-scoped objects; their events go to the "default" namespace, as client-go. */
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export interface EventInput {
  regarding: RegardingRef;
  type: EventType;
  /** CamelCase machine-readable reason, e.g. AcquireAddressFailed (≤128 chars). */
  reason: string;
  /** What was being done, e.g. Allocate (≤128 chars). */
  action: string;
  /** Human-readable; see formatNote for Kube-OVN's `stage=… error=…` form (truncated to 1 KiB). */
  note: string;
}

export interface EventRecorderOptions {
  clients: Pick<KubeClients, 'events'>;
  /** events.k8s.io reportingController, e.g. "ovnkit.io/controller". */
  reportingController: string;
  /** events.k8s.io reportingInstance, e.g. the controller pod name. */
  reportingInstance: string;
  clock?: Clock;
  logger?: KubeLogger;
  /** New Events allowed per regarding object at once (default 25). */
  perObjectBurst?: number;
  /** Refill rate of the per-object bucket, events per second (default 1/300). */
  perObjectQps?: number;
  /** Pending writes kept before new events are dropped (default 1000). */
  maxBuffered?: number;
  /** A repeat later than this after the previous occurrence starts a new Event (default 6 min). */
  seriesWindowMs?: number;
  /** Minimum time between two series patches of one Event (default 10 s). */
  seriesPatchIntervalMs?: number;
  /** Identical-event cache and per-object buckets are LRU-bounded to this many entries (default 4096). */
  maxTracked?: number;
  /** Attempts per write on transient errors (default 3). */
  maxWriteAttempts?: number;
}

export interface EventRecorderStats {
  recorded: number;
  created: number;
  seriesPatched: number;
  aggregated: number;
  droppedRateLimited: number;
  droppedBufferFull: number;
  droppedInvalid: number;
  droppedClosed: number;
  writeFailures: number;
}

interface TrackedEvent {
  key: string;
  input: EventInput;
  namespace: string;
  name: string | undefined; // set once created on the server
  count: number;
  firstObserved: Date;
  lastObserved: Date;
  lastSeenAt: number; // clock ms
  writtenCount: number; // count the server has
  lastWriteAt: number;
  queued: boolean;
  timer: TimerHandle | undefined;
}

const MAX_NOTE_BYTES = 1024;
const MAX_SHORT_FIELD = 128;

/** Kube-OVN style note: `stage=allocate error=no free address` (keys in the order given, undefined skipped). */
export function formatNote(fields: Record<string, string | number | undefined>): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

/**
 * The `regarding` reference for an object as the apiserver returned it (a pod from an informer,
 * a Subnet, ...). Cluster-scoped objects have no namespace.
 */
export function regardingFor(object: {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}, fallbackKind?: string): RegardingRef {
  const ref: RegardingRef = { kind: object.kind ?? fallbackKind ?? '', name: object.metadata?.name ?? '' };
  if (object.apiVersion !== undefined) ref.apiVersion = object.apiVersion;
  if (object.metadata?.namespace !== undefined && object.metadata.namespace !== '') ref.namespace = object.metadata.namespace;
  if (object.metadata?.uid !== undefined) ref.uid = object.metadata.uid;
  if (object.metadata?.resourceVersion !== undefined) ref.resourceVersion = object.metadata.resourceVersion;
  return ref;
}

function microTime(date: Date): string {
  return date.toISOString().slice(0, -1) + '000Z';
}

function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let cut = text.slice(0, maxBytes);
  while (Buffer.byteLength(cut) > maxBytes - 3) cut = cut.slice(0, -1);
  return `${cut}...`;
}

function validate(input: EventInput): string | undefined {
  if (input === null || typeof input !== 'object') return 'event must be an object';
  const r = input.regarding;
  if (r === null || typeof r !== 'object') return 'regarding object reference is missing';
  if (typeof r.kind !== 'string' || r.kind.length === 0) return 'regarding.kind is required';
  if (typeof r.name !== 'string' || r.name.length === 0) return 'regarding.name is required';
  if (input.type !== 'Normal' && input.type !== 'Warning') return `type must be Normal or Warning, got ${String(input.type)}`;
  for (const field of ['reason', 'action'] as const) {
    const v = input[field];
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_SHORT_FIELD) return `${field} must be 1..${MAX_SHORT_FIELD} characters`;
  }
  if (typeof input.note !== 'string') return 'note must be a string';
  return undefined;
}

export class EventRecorder {
  private readonly clients: Pick<KubeClients, 'events'>;
  private readonly controller: string;
  private readonly instance: string;
  private readonly clock: Clock;
  private readonly logger: KubeLogger;
  private readonly perObjectBurst: number;
  private readonly perObjectQps: number;
  private readonly maxBuffered: number;
  private readonly seriesWindowMs: number;
  private readonly seriesPatchIntervalMs: number;
  private readonly maxTracked: number;
  private readonly maxWriteAttempts: number;

  private readonly tracked = new Map<string, TrackedEvent>(); // insertion order = LRU order
  private readonly buckets = new Map<string, TokenBucket>();
  private pending: TrackedEvent[] = [];
  private writing = false;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private nameSeq = 0;
  private readonly counters: EventRecorderStats = {
    recorded: 0,
    created: 0,
    seriesPatched: 0,
    aggregated: 0,
    droppedRateLimited: 0,
    droppedBufferFull: 0,
    droppedInvalid: 0,
    droppedClosed: 0,
    writeFailures: 0,
  };

  constructor(options: EventRecorderOptions) {
    if (typeof options.reportingController !== 'string' || options.reportingController.length === 0) {
      throw Object.assign(new Error('EventRecorder: reportingController is required'), { code: 'KUBE_EVENTS_CONFIG', stage: 'config' });
    }
    if (typeof options.reportingInstance !== 'string' || options.reportingInstance.length === 0) {
      throw Object.assign(new Error('EventRecorder: reportingInstance is required'), { code: 'KUBE_EVENTS_CONFIG', stage: 'config' });
    }
    this.clients = options.clients;
    this.controller = options.reportingController;
    this.instance = options.reportingInstance;
    this.clock = options.clock ?? realClock;
    this.logger = options.logger ?? defaultKubeLogger('event-recorder');
    this.perObjectBurst = options.perObjectBurst ?? 25;
    this.perObjectQps = options.perObjectQps ?? 1 / 300;
    this.maxBuffered = options.maxBuffered ?? 1000;
    this.seriesWindowMs = options.seriesWindowMs ?? 6 * 60_000;
    this.seriesPatchIntervalMs = options.seriesPatchIntervalMs ?? 10_000;
    this.maxTracked = options.maxTracked ?? 4096;
    this.maxWriteAttempts = options.maxWriteAttempts ?? 3;
    // Fail at construction, not at the first event, on a bad bucket config.
    new TokenBucket(this.perObjectQps, this.perObjectBurst, this.clock);
  }

  /** Queues an event. Synchronous, never throws, never blocks on the API. */
  record(input: EventInput): void {
    try {
      this.recordUnsafe(input);
    } catch (err) {
      this.counters.droppedInvalid++;
      this.safeLog('error', { stage: 'record', err: (err as Error)?.message }, 'event recorder internal error; event dropped');
    }
  }

  /** Shorthand for Kube-OVN style warnings: reason + `stage=<stage> error=<message>`. */
  warning(regarding: RegardingRef, reason: string, action: string, stage: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.record({ regarding, type: 'Warning', reason, action, note: formatNote({ stage, error: message }) });
  }

  normal(regarding: RegardingRef, reason: string, action: string, note: string): void {
    this.record({ regarding, type: 'Normal', reason, action, note });
  }

  stats(): EventRecorderStats {
    return { ...this.counters };
  }

  /** Sends every queued write and pending series update now; resolves when nothing is left to send. */
  async flush(): Promise<void> {
    for (;;) {
      for (const entry of this.tracked.values()) {
        if (entry.timer !== undefined) {
          this.clock.clearTimer(entry.timer);
          entry.timer = undefined;
          this.enqueue(entry);
        }
      }
      if (!this.writing && this.pending.length === 0) return;
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  /** Flushes, then ignores further record() calls. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private recordUnsafe(input: EventInput): void {
    if (this.closed) {
      this.counters.droppedClosed++;
      return;
    }
    const problem = validate(input);
    if (problem !== undefined) {
      this.counters.droppedInvalid++;
      this.safeLog('warn', { code: 'KUBE_EVENT_INVALID', stage: 'record', err: problem, reason: input?.reason }, 'invalid event dropped');
      return;
    }
    this.counters.recorded++;
    const normalized: EventInput = { ...input, regarding: { ...input.regarding }, note: truncateUtf8(input.note, MAX_NOTE_BYTES) };
    const key = JSON.stringify([
      normalized.regarding.kind, normalized.regarding.namespace ?? '', normalized.regarding.name, normalized.regarding.uid ?? '',
      normalized.type, normalized.reason, normalized.action, normalized.note,
    ]);
    const now = this.clock.now();
    const existing = this.tracked.get(key);
    if (existing !== undefined && now - existing.lastSeenAt <= this.seriesWindowMs) {
      this.touch(this.tracked, key, existing);
      existing.count++;
      existing.lastSeenAt = now;
      existing.lastObserved = new Date();
      this.counters.aggregated++;
      this.scheduleSeriesWrite(existing);
      return;
    }
    if (existing !== undefined) this.forgetEntry(key, existing);

    const objectKey = JSON.stringify([normalized.regarding.kind, normalized.regarding.namespace ?? '', normalized.regarding.name]);
    let bucket = this.buckets.get(objectKey);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.perObjectQps, this.perObjectBurst, this.clock);
      this.buckets.set(objectKey, bucket);
      this.evictOldest(this.buckets);
    } else {
      this.touch(this.buckets, objectKey, bucket);
    }
    if (!bucket.tryTake()) {
      this.counters.droppedRateLimited++;
      return;
    }
    if (this.pending.length >= this.maxBuffered) {
      this.counters.droppedBufferFull++;
      return;
    }
    const observed = new Date();
    const entry: TrackedEvent = {
      key,
      input: normalized,
      namespace: normalized.regarding.namespace ?? 'default',
      name: undefined,
      count: 1,
      firstObserved: observed,
      lastObserved: observed,
      lastSeenAt: now,
      writtenCount: 0,
      lastWriteAt: -Infinity,
      queued: false,
      timer: undefined,
    };
    this.tracked.set(key, entry);
    while (this.tracked.size > this.maxTracked) {
      const oldest = this.tracked.entries().next().value as [string, TrackedEvent];
      this.forgetEntry(oldest[0], oldest[1]);
    }
    this.enqueue(entry);
  }

  private scheduleSeriesWrite(entry: TrackedEvent): void {
    if (entry.queued || entry.timer !== undefined) return; // a write is already coming
    if (entry.name === undefined) {
      // Not created yet (the create is queued or in flight): the writer re-checks the count after.
      return;
    }
    const wait = entry.lastWriteAt + this.seriesPatchIntervalMs - this.clock.now();
    if (wait <= 0) {
      this.enqueue(entry);
      return;
    }
    entry.timer = this.clock.setTimer(() => {
      entry.timer = undefined;
      this.enqueue(entry);
    }, wait);
  }

  private enqueue(entry: TrackedEvent): void {
    if (entry.queued) return;
    if (this.pending.length >= this.maxBuffered) {
      this.counters.droppedBufferFull++;
      return;
    }
    entry.queued = true;
    this.pending.push(entry);
    if (!this.writing) {
      // Start on a microtask so repeats recorded in the same synchronous burst ride on the create.
      this.writing = true;
      queueMicrotask(() => void this.runWriter());
    }
  }

  private async runWriter(): Promise<void> {
    try {
      for (;;) {
        const entry = this.pending.shift();
        if (entry === undefined) break;
        entry.queued = false;
        await this.write(entry);
        // Repeats that arrived while this write was in flight.
        if (entry.name !== undefined && entry.count > entry.writtenCount && this.tracked.get(entry.key) === entry) {
          this.scheduleSeriesWrite(entry);
        }
      }
    } finally {
      this.writing = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private async write(entry: TrackedEvent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const count = entry.count;
      const lastObserved = entry.lastObserved;
      const stage = entry.name === undefined ? 'event-create' : 'event-series-patch';
      const object = `${entry.input.regarding.kind}/${entry.namespace}/${entry.input.regarding.name}`;
      try {
        if (entry.name === undefined) {
          entry.name = await this.create(entry, count, lastObserved);
          this.counters.created++;
        } else {
          await this.clients.events.patchNamespacedEvent(
            { name: entry.name, namespace: entry.namespace, body: { series: { count, lastObservedTime: microTime(lastObserved) } } },
            callOptions({ contentType: MERGE_PATCH }),
          );
          this.counters.seriesPatched++;
        }
        entry.writtenCount = count;
        entry.lastWriteAt = this.clock.now();
        return;
      } catch (err) {
        const apiErr = toKubeApiError(err, stage, object);
        if (stage === 'event-series-patch' && isNotFound(apiErr)) {
          // The Event expired (apiserver --event-ttl) or was deleted: create it again with the count.
          entry.name = undefined;
          continue;
        }
        const transient = apiErr.status === undefined || apiErr.status === 429 || apiErr.status >= 500;
        if (!transient || attempt >= this.maxWriteAttempts) {
          this.counters.writeFailures++;
          this.safeLog('warn', { code: apiErr.code, stage, object, reason: entry.input.reason, err: apiErr.message, attempts: attempt }, 'event write failed; dropped');
          if (entry.name !== undefined) entry.writtenCount = count; // don't hammer a failing patch
          return;
        }
        await sleep(this.clock, 200 * 2 ** (attempt - 1));
      }
    }
  }

  private async create(entry: TrackedEvent, count: number, lastObserved: Date): Promise<string> {
    const { input } = entry;
    // client-go names events <object>.<unix nanos in hex>; a sequence number keeps them unique.
    const nanos = BigInt(entry.firstObserved.getTime()) * 1_000_000n + BigInt(this.nameSeq++ % 1_000_000);
    const name = `${input.regarding.name}.${nanos.toString(16)}`;
    const body: EventsV1Event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace: entry.namespace },
      eventTime: new V1MicroTime(entry.firstObserved.getTime()),
      reportingController: this.controller,
      reportingInstance: this.instance,
      action: input.action,
      reason: input.reason,
      type: input.type,
      note: input.note,
      regarding: { ...input.regarding },
    };
    if (count >= 2) body.series = { count, lastObservedTime: new V1MicroTime(lastObserved.getTime()) };
    await this.clients.events.createNamespacedEvent({ namespace: entry.namespace, body });
    return name;
  }

  private forgetEntry(key: string, entry: TrackedEvent): void {
    if (entry.timer !== undefined) this.clock.clearTimer(entry.timer);
    entry.timer = undefined;
    this.tracked.delete(key);
  }

  private touch<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
  }

  private evictOldest<V>(map: Map<string, V>): void {
    while (map.size > this.maxTracked) {
      const oldestKey = map.keys().next().value as string;
      map.delete(oldestKey);
    }
  }

  private safeLog(level: 'warn' | 'error', obj: object, msg: string): void {
    try {
      this.logger[level](obj, msg);
    } catch {
      // never let logging break the caller
    }
  }
}
