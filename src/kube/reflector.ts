// List-then-watch loop for one collection, with client-go's reflector semantics and the failure
// handling client-node lacks:
//  - LIST paginated (limit/continue) as a consistent read, then WATCH from the list's resourceVersion
//    with allowWatchBookmarks and a randomised server-side timeoutSeconds;
//  - every event and bookmark advances the resourceVersion; a watch that ends is reopened from it;
//  - 410 Gone (HTTP status or ERROR event) relists, and the sink gets the whole new state to diff;
//  - any other failure (network, 5xx, 403, stream cut, apiserver down) backs off with jitter and
//    tries again, forever, until stop(); nothing ends the loop silently;
//  - a watchdog aborts a watch that has been quiet longer than quietTimeoutMs (no event, no bookmark:
//    a half-open TCP connection or a wedged server) and reopens it.
import { realClock, sleep } from './clock.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { listAll } from './list-pager.ts';
import { JitteredBackoff } from './watch-backoff.ts';
import type { BackoffOptions } from './watch-backoff.ts';
import { checkObject, decodeWatchLine, isExpiredStatus } from './watch-events.ts';
import type { KubeTransport } from './watch-transport.ts';
import { collectionPath, defaultKubeLogger, describeResource, KubeWatchError, objectKey } from './watch-types.ts';
import type { KubeLogger, KubeObject, ResourceRef } from './watch-types.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Receives the reflector's output; the informer implements it on top of its store. */
export interface ReflectorSink {
  /** The complete, current collection after a (re)list, keyed `ns/name`. */
  replace(objects: Map<string, KubeObject>, resourceVersion: string): void;
  /** One change seen on the watch. */
  apply(type: WatchEventType, obj: KubeObject): void;
}

export type WatchEndReason = 'closed' | 'expired' | 'watchdog' | 'error';

export type ReflectorEvent =
  | { type: 'listed'; resourceVersion: string; items: number; pages: number; skipped: number; durationMs: number; relist: boolean }
  | { type: 'watch-opened'; resourceVersion: string }
  /** `opened`: response headers arrived (false = the server never answered the watch request). */
  | { type: 'watch-ended'; reason: WatchEndReason; opened: boolean; resourceVersion: string; lines: number; durationMs: number; error?: KubeWatchError }
  | { type: 'bookmark'; resourceVersion: string }
  | { type: 'retry'; stage: 'list' | 'watch'; delayMs: number; error: KubeWatchError }
  | { type: 'skipped'; stage: 'list' | 'watch'; problem: string; name?: string };

export interface ReflectorStats {
  lists: number;
  relists: number;
  listErrors: number;
  watches: number;
  watchErrors: number;
  watchdogRestarts: number;
  expired: number;
  events: number;
  bookmarks: number;
  skipped: number;
}

export interface ReflectorOptions {
  transport: KubeTransport;
  resource: ResourceRef;
  sink: ReflectorSink;
  /** Applied to every object before it reaches the sink (list items and watch events). Must keep metadata. */
  transform?: (obj: KubeObject) => KubeObject;
  /** LIST page size. Default 500 (client-go's). */
  pageSize?: number;
  /** Server-side watch timeout is drawn from [min, 2×min] so many watches don't reconnect together. Default 300 s. */
  minWatchTimeoutSeconds?: number;
  /** How often the server is expected to send a bookmark on an idle watch. Default 60 s. */
  bookmarkIntervalMs?: number;
  /** Watchdog: a watch with nothing received for this long is restarted. Default 2 × bookmarkIntervalMs. */
  quietTimeoutMs?: number;
  /** Bound on a whole LIST (all pages). Default 10 min. */
  listTimeoutMs?: number;
  backoff?: BackoffOptions;
  clock?: Clock;
  log?: KubeLogger;
  random?: () => number;
}

type WatchOutcome = { reason: WatchEndReason; opened: boolean; lines: number; durationMs: number; error?: KubeWatchError } | { reason: 'stopped' };

function asWatchError(err: unknown, stage: string, object: string): KubeWatchError {
  if (err instanceof KubeWatchError) return err;
  const e = err as Error;
  return new KubeWatchError('NETWORK', stage, object, `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`, { cause: err });
}

export class Reflector {
  readonly resource: ResourceRef;
  readonly stats: ReflectorStats = {
    lists: 0,
    relists: 0,
    listErrors: 0,
    watches: 0,
    watchErrors: 0,
    watchdogRestarts: 0,
    expired: 0,
    events: 0,
    bookmarks: 0,
    skipped: 0,
  };

  private readonly transport: KubeTransport;
  private readonly sink: ReflectorSink;
  private readonly transform: ((obj: KubeObject) => KubeObject) | undefined;
  private readonly path: string;
  private readonly name: string;
  private readonly pageSize: number;
  private readonly minWatchTimeoutSeconds: number;
  private readonly quietTimeoutMs: number;
  private readonly listTimeoutMs: number;
  private readonly backoff: JitteredBackoff;
  private readonly clock: Clock;
  private readonly log: KubeLogger;
  private readonly random: () => number;
  private readonly listeners = new Set<(event: ReflectorEvent) => void>();

  private lastResourceVersion = '';
  /** clock.now() of the last sign of life from the server: a list, watch headers, any watch line. */
  private lastContactAt: number | undefined;
  private hasListed = false;
  private running: Promise<void> | undefined;
  private stopController = new AbortController();
  private current: AbortController | undefined;

  constructor(options: ReflectorOptions) {
    this.resource = options.resource;
    this.transport = options.transport;
    this.sink = options.sink;
    this.transform = options.transform;
    this.path = collectionPath(options.resource);
    this.name = describeResource(options.resource);
    this.pageSize = options.pageSize ?? 500;
    this.minWatchTimeoutSeconds = options.minWatchTimeoutSeconds ?? 300;
    const bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
    this.quietTimeoutMs = options.quietTimeoutMs ?? 2 * bookmarkIntervalMs;
    this.listTimeoutMs = options.listTimeoutMs ?? 600_000;
    this.backoff = new JitteredBackoff(options.backoff);
    this.clock = options.clock ?? realClock;
    this.log = options.log ?? defaultKubeLogger('reflector');
    this.random = options.random ?? Math.random;
    if (!(this.pageSize >= 0) || !(this.minWatchTimeoutSeconds >= 1) || !(this.quietTimeoutMs > 0) || !(this.listTimeoutMs > 0)) {
      throw new KubeWatchError('BAD_OPTION', 'reflector', this.name, 'pageSize >= 0, minWatchTimeoutSeconds >= 1, quietTimeoutMs > 0, listTimeoutMs > 0 required');
    }
  }

  /** The resourceVersion the next watch starts from: the list's, moved on by every event and bookmark. */
  get resourceVersion(): string {
    return this.lastResourceVersion;
  }

  /** Milliseconds since the server last answered (list, watch headers or any watch line); undefined before the first answer. */
  msSinceContact(): number | undefined {
    return this.lastContactAt === undefined ? undefined : this.clock.now() - this.lastContactAt;
  }

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /** Observability hook (tests, metrics). Returns the unsubscribe function. */
  onEvent(listener: (event: ReflectorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.running !== undefined) return;
    this.stopController = new AbortController();
    this.running = this.run().finally(() => {
      this.running = undefined;
    });
  }

  /** Stops the loop and closes the open list/watch; resolves once nothing is in flight. */
  async stop(): Promise<void> {
    const running = this.running;
    if (running === undefined) return;
    const reason = new KubeWatchError('STOPPED', 'stop', this.name, 'reflector stopped');
    this.stopController.abort(reason);
    this.current?.abort(reason);
    await running;
  }

  private get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  private emit(event: ReflectorEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.warn({ err, resource: this.name }, 'reflector event listener threw');
      }
    }
  }

  private async wait(delayMs: number): Promise<void> {
    try {
      await sleep(this.clock, delayMs, this.stopController.signal);
    } catch {
      // Aborted by stop(); the loop checks `stopping` next.
    }
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopping) {
      if (needList) {
        const error = await this.listOnce();
        if (this.stopping) break;
        if (error !== undefined) {
          this.stats.listErrors++;
          const delayMs = this.backoff.nextDelayMs();
          this.log.warn({ err: error, resource: this.name, delayMs, attempt: this.backoff.attempts }, 'list failed; retrying');
          this.emit({ type: 'retry', stage: 'list', delayMs, error });
          await this.wait(delayMs);
          continue;
        }
        needList = false;
      }
      const outcome = await this.watchOnce();
      if (outcome.reason === 'stopped') break;
      this.emit({
        type: 'watch-ended',
        reason: outcome.reason,
        opened: outcome.opened,
        resourceVersion: this.lastResourceVersion,
        lines: outcome.lines,
        durationMs: outcome.durationMs,
        ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      });
      if (outcome.lines > 0) this.backoff.succeeded(outcome.durationMs);
      switch (outcome.reason) {
        case 'expired':
          this.stats.expired++;
          this.log.info({ resource: this.name, resourceVersion: this.lastResourceVersion }, 'watch expired (410); relisting');
          needList = true;
          break;
        case 'watchdog': {
          this.stats.watchdogRestarts++;
          // An open watch that is merely idle (no bookmarks yet on a quiet collection) is routine;
          // a server that never even answered the request is not.
          const fields = { resource: this.name, quietMs: this.quietTimeoutMs, resourceVersion: this.lastResourceVersion, opened: outcome.opened };
          if (outcome.opened) this.log.info(fields, 'watch silent too long; reopening');
          else this.log.warn(fields, 'watch request unanswered; reopening');
          break;
        }
        case 'closed':
          // A server timeout ends a healthy watch: reopen at once. A watch that closes right away
          // with nothing on it is a server refusing us: treat it like an error so we do not spin.
          if (outcome.lines === 0 && outcome.durationMs < 1000) await this.retryDelay(new KubeWatchError('BAD_RESPONSE', 'watch', this.name, 'watch closed immediately with no events'));
          break;
        case 'error':
          this.stats.watchErrors++;
          await this.retryDelay(outcome.error ?? new KubeWatchError('NETWORK', 'watch', this.name, 'watch failed'));
          break;
      }
    }
  }

  private async retryDelay(error: KubeWatchError): Promise<void> {
    const delayMs = this.backoff.nextDelayMs();
    this.log.warn({ err: error, resource: this.name, delayMs, attempt: this.backoff.attempts, resourceVersion: this.lastResourceVersion }, 'watch failed; retrying');
    this.emit({ type: 'retry', stage: 'watch', delayMs, error });
    await this.wait(delayMs);
  }

  /** Accepts or rejects one object from the server; rejected ones are logged and skipped. */
  private admit(raw: unknown, stage: 'list' | 'watch'): KubeObject | undefined {
    const check = checkObject(raw, this.resource.namespaced);
    if (!check.ok) {
      this.skip(stage, check.problem, check.name);
      return undefined;
    }
    if (this.transform === undefined) return check.obj;
    let trimmed: unknown;
    try {
      trimmed = this.transform(check.obj);
    } catch (err) {
      this.skip(stage, `transform threw: ${(err as Error)?.message ?? String(err)}`, check.obj.metadata.name);
      return undefined;
    }
    const after = checkObject(trimmed, this.resource.namespaced);
    if (!after.ok) {
      this.skip(stage, `transform result unusable: ${after.problem}`, check.obj.metadata.name);
      return undefined;
    }
    return after.obj;
  }

  private skip(stage: 'list' | 'watch', problem: string, name?: string): void {
    this.stats.skipped++;
    this.log.warn({ code: 'BAD_OBJECT', stage, resource: this.name, object: name, problem }, 'skipping object from server');
    this.emit({ type: 'skipped', stage, problem, ...(name !== undefined ? { name } : {}) });
  }

  private async listOnce(): Promise<KubeWatchError | undefined> {
    const started = this.clock.now();
    const controller = new AbortController();
    this.current = controller;
    const timer = this.clock.setTimer(
      () => controller.abort(new KubeWatchError('TIMEOUT', 'list', this.name, `list took longer than ${this.listTimeoutMs} ms`)),
      this.listTimeoutMs,
    );
    const staged = new Map<string, KubeObject>();
    const skippedBefore = this.stats.skipped;
    try {
      const result = await listAll(this.transport, this.path, {
        pageSize: this.pageSize,
        ...(this.resource.labelSelector ? { labelSelector: this.resource.labelSelector } : {}),
        ...(this.resource.fieldSelector ? { fieldSelector: this.resource.fieldSelector } : {}),
        signal: controller.signal,
        onPage: ({ items, page }) => {
          for (const raw of items) {
            const obj = this.admit(raw, 'list');
            if (obj !== undefined) staged.set(objectKey(obj), obj);
          }
          if (page % 20 === 0) this.log.info({ resource: this.name, page, items: staged.size }, 'listing');
        },
        onRestart: (why) => {
          this.log.warn({ resource: this.name, why }, 'list restarted from the first page');
          staged.clear();
        },
      });
      if (this.stopping) return undefined;
      const relist = this.hasListed;
      this.sink.replace(staged, result.resourceVersion);
      this.lastResourceVersion = result.resourceVersion;
      this.lastContactAt = this.clock.now();
      this.hasListed = true;
      this.stats.lists++;
      if (relist) this.stats.relists++;
      this.backoff.reset();
      const durationMs = this.clock.now() - started;
      this.log.info({ resource: this.name, items: staged.size, pages: result.pages, resourceVersion: result.resourceVersion, durationMs: Math.round(durationMs), relist }, 'listed');
      this.emit({ type: 'listed', resourceVersion: result.resourceVersion, items: staged.size, pages: result.pages, skipped: this.stats.skipped - skippedBefore, durationMs, relist });
      return undefined;
    } catch (err) {
      if (this.stopping) return undefined;
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : err;
      return asWatchError(reason, 'list', this.name);
    } finally {
      this.clock.clearTimer(timer);
      if (this.current === controller) this.current = undefined;
    }
  }

  private async watchOnce(): Promise<WatchOutcome> {
    const started = this.clock.now();
    const controller = new AbortController();
    this.current = controller;
    let lines = 0;
    let opened = false;
    let watchdog: TimerHandle | undefined;
    const stalled = new KubeWatchError('WATCH_STALLED', 'watch', this.name, `nothing received for ${this.quietTimeoutMs} ms`);
    const arm = (): void => {
      if (watchdog !== undefined) this.clock.clearTimer(watchdog);
      watchdog = this.clock.setTimer(() => controller.abort(stalled), this.quietTimeoutMs);
    };
    const finish = (reason: WatchEndReason, error?: KubeWatchError): WatchOutcome => ({
      reason,
      opened,
      lines,
      durationMs: this.clock.now() - started,
      ...(error !== undefined ? { error } : {}),
    });
    const timeoutSeconds = Math.floor(this.minWatchTimeoutSeconds * (1 + this.random()));
    const fromResourceVersion = this.lastResourceVersion;
    this.stats.watches++;
    // The watchdog covers the wait for response headers too: a wedged server never answers.
    arm();
    try {
      const stream = await this.transport.openLines(
        this.path,
        {
          watch: 'true',
          resourceVersion: fromResourceVersion,
          allowWatchBookmarks: 'true',
          timeoutSeconds,
          labelSelector: this.resource.labelSelector,
          fieldSelector: this.resource.fieldSelector,
        },
        controller.signal,
      );
      this.log.debug?.({ resource: this.name, resourceVersion: fromResourceVersion, timeoutSeconds }, 'watch opened');
      this.emit({ type: 'watch-opened', resourceVersion: fromResourceVersion });
      this.lastContactAt = this.clock.now();
      opened = true;
      for await (const line of stream) {
        arm();
        this.lastContactAt = this.clock.now();
        lines++;
        const decoded = decodeWatchLine(line, this.resource.namespaced);
        if (!decoded.ok) {
          if (decoded.framing) {
            return finish('error', new KubeWatchError('BAD_EVENT', 'watch', this.name, decoded.problem));
          }
          // Well-framed but unusable: skip it, and move past it when its resourceVersion is known.
          this.skip('watch', decoded.problem, decoded.name);
          if (decoded.resourceVersion !== undefined) this.lastResourceVersion = decoded.resourceVersion;
          continue;
        }
        const event = decoded.event;
        if (event.type === 'BOOKMARK') {
          this.stats.bookmarks++;
          this.lastResourceVersion = event.resourceVersion;
          this.emit({ type: 'bookmark', resourceVersion: event.resourceVersion });
          continue;
        }
        if (event.type === 'ERROR') {
          const { code, reason, message } = event.status;
          if (isExpiredStatus(event.status)) {
            return finish('expired', new KubeWatchError('EXPIRED', 'watch', this.name, message ?? 'resourceVersion expired', { status: 410, ...(reason ? { reason } : {}) }));
          }
          return finish(
            'error',
            new KubeWatchError('WATCH_ERROR_EVENT', 'watch', this.name, `ERROR event ${code ?? '?'} ${reason ?? ''}: ${message ?? ''}`, {
              ...(code !== undefined ? { status: code } : {}),
              ...(reason !== undefined ? { reason } : {}),
            }),
          );
        }
        this.stats.events++;
        const rv = event.obj.metadata.resourceVersion;
        const obj = this.admit(event.obj, 'watch');
        if (obj !== undefined) {
          try {
            this.sink.apply(event.type, obj);
          } catch (err) {
            // The sink isolates handlers itself; reaching here is a bug in it. Keep watching regardless.
            this.log.error({ err, resource: this.name, object: objectKey(obj) }, 'sink threw while applying a watch event');
          }
        }
        this.lastResourceVersion = rv;
      }
      return finish('closed');
    } catch (err) {
      if (this.stopping) return { reason: 'stopped' };
      if (controller.signal.aborted && controller.signal.reason === stalled) return finish('watchdog', stalled);
      const error = asWatchError(err, 'watch', this.name);
      if (error.expired) return finish('expired', error);
      return finish('error', error);
    } finally {
      if (watchdog !== undefined) this.clock.clearTimer(watchdog);
      // Releases the socket if we returned early (ERROR event, bad framing).
      if (!controller.signal.aborted) controller.abort(new KubeWatchError('STOPPED', 'watch', this.name, 'watch closed by reflector'));
      if (this.current === controller) this.current = undefined;
    }
  }
}
