// Shared informer: one reflector (one watch) per collection, one store, any number of handlers.
// Mirrors client-go's sharedIndexInformer:
//  - handlers get onAdd / onUpdate(old, new) / onDelete(obj | DeletedFinalStateUnknown);
//  - a relist (initial or after 410) is diffed against the store: deletions (as tombstones, since
//    the final state was never seen) first, then additions, then objects whose resourceVersion moved;
//  - a handler added late is replayed the current contents as adds;
//  - periodic resync re-delivers every cached object as onUpdate(obj, obj) so level-driven
//    controllers re-check state they may have failed to act on;
//  - a handler that throws is logged and does not affect other handlers or the watch.
// Cached objects are shared with every handler: treat them as read-only.
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from './client.ts';
import { realClock } from './clock.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { Reflector } from './reflector.ts';
import type { ReflectorEvent, ReflectorOptions, ReflectorSink, WatchEventType } from './reflector.ts';
import { DeletedFinalStateUnknown, Store, standardIndexers } from './store.ts';
import type { IndexFunc } from './store.ts';
import { HttpKubeTransport } from './watch-transport.ts';
import type { KubeTransport } from './watch-transport.ts';
import { defaultKubeLogger, describeResource, KubeWatchError, objectKey } from './watch-types.ts';
import type { KubeLogger, KubeObject, ResourceRef } from './watch-types.ts';

export interface EventHandler<T> {
  /** `isInInitialList` is true for objects delivered by the first list (or by replay to a late handler). */
  onAdd?(obj: T, isInInitialList: boolean): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T | DeletedFinalStateUnknown<T>): void;
}

export interface HandlerRegistration {
  remove(): void;
}

/** Tunables passed through to the reflector. */
export type WatchTuning = Pick<
  ReflectorOptions,
  'pageSize' | 'minWatchTimeoutSeconds' | 'bookmarkIntervalMs' | 'quietTimeoutMs' | 'listTimeoutMs' | 'backoff' | 'random'
>;

export interface InformerOptions<T extends KubeObject> extends WatchTuning {
  transport: KubeTransport;
  resource: ResourceRef;
  /** Trims each object to what the controller needs before it is stored (memory). Must keep metadata. */
  transform?: (obj: KubeObject) => T;
  /** Extra indexes on top of namespace / node / owner. */
  indexers?: Record<string, IndexFunc<T>>;
  /** Re-deliver every object as onUpdate(obj, obj) this often; 0 or unset = never. */
  resyncPeriodMs?: number;
  clock?: Clock;
  log?: KubeLogger;
}

export class SharedInformer<T extends KubeObject = KubeObject> {
  readonly resource: ResourceRef;
  readonly store: Store<T>;
  readonly reflector: Reflector;
  readonly transform: ((obj: KubeObject) => T) | undefined;

  private readonly handlers = new Set<EventHandler<T>>();
  private readonly log: KubeLogger;
  private readonly clock: Clock;
  private readonly resyncPeriodMs: number;
  private readonly name: string;
  private synced = false;
  private syncWaiters: { done: () => void; fail: (err: Error) => void }[] = [];
  private resyncTimer: TimerHandle | undefined;
  private started = false;

  constructor(options: InformerOptions<T>) {
    this.resource = options.resource;
    this.name = describeResource(options.resource);
    this.log = options.log ?? defaultKubeLogger('informer');
    this.clock = options.clock ?? realClock;
    this.resyncPeriodMs = options.resyncPeriodMs ?? 0;
    this.transform = options.transform;
    this.store = new Store<T>({
      indexers: { ...(standardIndexers as Record<string, IndexFunc<T>>), ...options.indexers },
      onIndexError: (index, key, err) =>
        this.log.warn({ code: 'INDEXER_FAILED', err, resource: this.name, index, object: key }, 'index function threw; object left out of that index'),
    });
    const sink: ReflectorSink = {
      replace: (objects, resourceVersion) => this.onReplace(objects as Map<string, T>, resourceVersion),
      apply: (type, obj) => this.onWatchEvent(type, obj as T),
    };
    this.reflector = new Reflector({
      transport: options.transport,
      resource: options.resource,
      sink,
      ...(options.transform !== undefined ? { transform: options.transform as (obj: KubeObject) => KubeObject } : {}),
      ...pickTuning(options),
      clock: this.clock,
      log: this.log,
    });
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list has been stored and delivered; rejects on timeout or stop. */
  waitForSync(timeoutMs = 120_000): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        done: (): void => {
          this.clock.clearTimer(timer);
          resolve();
        },
        fail: (err: Error): void => {
          this.clock.clearTimer(timer);
          this.syncWaiters = this.syncWaiters.filter((w) => w !== waiter);
          reject(err);
        },
      };
      const timer = this.clock.setTimer(
        () => waiter.fail(new KubeWatchError('NOT_SYNCED', 'waitForSync', this.name, `not synced after ${timeoutMs} ms (stats ${JSON.stringify(this.reflector.stats)})`)),
        timeoutMs,
      );
      this.syncWaiters.push(waiter);
    });
  }

  /**
   * For health checks (e.g. the leader elector's): synced, and the server heard from within
   * `maxSilenceMs`. A healthy idle watch is heard from at least every watchdog period, since the
   * watchdog reopens it, so a bound of 2–3 quiet timeouts only fails when the apiserver is unreachable.
   */
  isHealthy(maxSilenceMs: number): boolean {
    const silence = this.reflector.msSinceContact();
    return this.synced && silence !== undefined && silence <= maxSilenceMs;
  }

  /** The resourceVersion the informer has caught up to. */
  lastSyncResourceVersion(): string {
    return this.reflector.resourceVersion;
  }

  addEventHandler(handler: EventHandler<T>): HandlerRegistration {
    this.handlers.add(handler);
    // A late handler sees what is already cached as adds, like client-go's AddEventHandler.
    if (this.store.size > 0 && handler.onAdd) {
      for (const obj of this.store.list()) this.call('onAdd', () => handler.onAdd!(obj, true), objectKey(obj));
    }
    return { remove: () => this.handlers.delete(handler) };
  }

  onReflectorEvent(listener: (event: ReflectorEvent) => void): () => void {
    return this.reflector.onEvent(listener);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.reflector.start();
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.resyncTimer !== undefined) this.clock.clearTimer(this.resyncTimer);
    this.resyncTimer = undefined;
    await this.reflector.stop();
    for (const waiter of [...this.syncWaiters]) {
      waiter.fail(new KubeWatchError('STOPPED', 'waitForSync', this.name, 'informer stopped before it synced'));
    }
  }

  /** Re-delivers every cached object to every handler as onUpdate(obj, obj). */
  resync(): void {
    if (!this.synced) return;
    const objects = this.store.list();
    for (const obj of objects) this.dispatchUpdate(obj, obj);
  }

  private scheduleResync(): void {
    if (!(this.resyncPeriodMs > 0) || !this.started) return;
    this.resyncTimer = this.clock.setTimer(() => {
      this.resync();
      this.scheduleResync();
    }, this.resyncPeriodMs);
  }

  private onReplace(objects: Map<string, T>, resourceVersion: string): void {
    const initial = !this.synced;
    const diff = this.store.replace(objects);
    for (const old of diff.deleted) this.dispatchDelete(new DeletedFinalStateUnknown(objectKey(old), old));
    for (const obj of diff.added) this.dispatchAdd(obj, initial);
    for (const { old, obj } of diff.updated) this.dispatchUpdate(old, obj);
    if (!initial) {
      this.log.info(
        { resource: this.name, resourceVersion, added: diff.added.length, updated: diff.updated.length, deleted: diff.deleted.length },
        'relist reconciled against cache',
      );
    }
    this.synced = true;
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const waiter of waiters) waiter.done();
  }

  private onWatchEvent(type: WatchEventType, obj: T): void {
    if (type === 'DELETED') {
      this.store.delete(objectKey(obj));
      // The server's copy carries the final state; deliver it even if we never saw the object.
      this.dispatchDelete(obj);
      return;
    }
    const old = this.store.upsert(obj);
    if (old === undefined) this.dispatchAdd(obj, false);
    else this.dispatchUpdate(old, obj);
  }

  private dispatchAdd(obj: T, initial: boolean): void {
    for (const h of this.handlers) if (h.onAdd) this.call('onAdd', () => h.onAdd!(obj, initial), objectKey(obj));
  }

  private dispatchUpdate(old: T, obj: T): void {
    for (const h of this.handlers) if (h.onUpdate) this.call('onUpdate', () => h.onUpdate!(old, obj), objectKey(obj));
  }

  private dispatchDelete(obj: T | DeletedFinalStateUnknown<T>): void {
    const key = obj instanceof DeletedFinalStateUnknown ? obj.key : objectKey(obj);
    for (const h of this.handlers) if (h.onDelete) this.call('onDelete', () => h.onDelete!(obj), key);
  }

  private call(kind: string, fn: () => void, key: string): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ code: 'HANDLER_FAILED', err, resource: this.name, handler: kind, object: key }, 'event handler threw');
    }
  }
}

function pickTuning(options: WatchTuning): WatchTuning {
  const out: WatchTuning = {};
  if (options.pageSize !== undefined) out.pageSize = options.pageSize;
  if (options.minWatchTimeoutSeconds !== undefined) out.minWatchTimeoutSeconds = options.minWatchTimeoutSeconds;
  if (options.bookmarkIntervalMs !== undefined) out.bookmarkIntervalMs = options.bookmarkIntervalMs;
  if (options.quietTimeoutMs !== undefined) out.quietTimeoutMs = options.quietTimeoutMs;
  if (options.listTimeoutMs !== undefined) out.listTimeoutMs = options.listTimeoutMs;
  if (options.backoff !== undefined) out.backoff = options.backoff;
  if (options.random !== undefined) out.random = options.random;
  return out;
}

export interface InformerFactoryOptions extends WatchTuning {
  /** Either a transport, or a KubeConfig / kubeconfig file path (an HTTP transport is built from it). */
  transport?: KubeTransport;
  kubeConfig?: KubeConfig | string;
  resyncPeriodMs?: number;
  clock?: Clock;
  log?: KubeLogger;
}

export interface InformerRequest<T extends KubeObject> {
  transform?: (obj: KubeObject) => T;
  indexers?: Record<string, IndexFunc<T>>;
}

/**
 * One informer per resource (+ namespace + selectors), shared by every caller: `informerFor` twice
 * returns the same object, so a collection is listed and watched once however many controllers use it.
 */
export class InformerFactory {
  private readonly transport: KubeTransport;
  private readonly ownsTransport: boolean;
  private readonly options: InformerFactoryOptions;
  private readonly informers = new Map<string, SharedInformer<KubeObject>>();
  private started = false;

  constructor(options: InformerFactoryOptions) {
    if (options.transport !== undefined) {
      this.transport = options.transport;
      this.ownsTransport = false;
    } else if (options.kubeConfig !== undefined) {
      const kc = typeof options.kubeConfig === 'string' ? loadKubeConfig(options.kubeConfig) : options.kubeConfig;
      this.transport = new HttpKubeTransport(kc);
      this.ownsTransport = true;
    } else {
      throw new KubeWatchError('BAD_OPTION', 'factory', 'InformerFactory', 'give a transport or a kubeConfig');
    }
    this.options = options;
  }

  informerFor<T extends KubeObject = KubeObject>(resource: ResourceRef, request: InformerRequest<T> = {}): SharedInformer<T> {
    const key = describeResource(resource);
    const existing = this.informers.get(key) as SharedInformer<T> | undefined;
    if (existing !== undefined) {
      if (request.transform !== undefined && request.transform !== existing.transform) {
        throw new KubeWatchError('BAD_OPTION', 'informerFor', key, 'informer already exists with a different transform; pass the same function or none');
      }
      if (request.indexers) {
        const fresh = Object.fromEntries(Object.entries(request.indexers).filter(([name]) => !existing.store.indexNames().includes(name)));
        existing.store.addIndexers(fresh);
      }
      return existing;
    }
    const informer = new SharedInformer<T>({
      transport: this.transport,
      resource,
      ...(request.transform !== undefined ? { transform: request.transform } : {}),
      ...(request.indexers !== undefined ? { indexers: request.indexers } : {}),
      ...(this.options.resyncPeriodMs !== undefined ? { resyncPeriodMs: this.options.resyncPeriodMs } : {}),
      ...pickTuning(this.options),
      ...(this.options.clock !== undefined ? { clock: this.options.clock } : {}),
      log: this.options.log ?? defaultKubeLogger('informer'),
    });
    this.informers.set(key, informer as unknown as SharedInformer<KubeObject>);
    if (this.started) informer.start();
    return informer;
  }

  /** Starts every informer made so far and any made later. */
  start(): void {
    this.started = true;
    for (const informer of this.informers.values()) informer.start();
  }

  async waitForSync(timeoutMs = 120_000): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync(timeoutMs)));
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    if (this.ownsTransport) this.transport.close();
  }
}

/** Collections ovnkit watches. */
export const Resources = {
  pods: { group: '', version: 'v1', plural: 'pods', namespaced: true },
  namespaces: { group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  nodes: { group: '', version: 'v1', plural: 'nodes', namespaced: false },
  configMaps: { group: '', version: 'v1', plural: 'configmaps', namespaced: true },
  subnets: { group: 'kubeovn.io', version: 'v1', plural: 'subnets', namespaced: false },
  ips: { group: 'kubeovn.io', version: 'v1', plural: 'ips', namespaced: false },
  ippools: { group: 'kubeovn.io', version: 'v1', plural: 'ippools', namespaced: false },
  vpcs: { group: 'kubeovn.io', version: 'v1', plural: 'vpcs', namespaced: false },
  networkAttachmentDefinitions: { group: 'k8s.cni.cncf.io', version: 'v1', plural: 'network-attachment-definitions', namespaced: true },
} as const satisfies Record<string, ResourceRef>;
