// A live monitor cache of the OVN Northbound tables ovnkit works with. It is fed by the client's
// monitor (monitor_cond_since; resumed after a reconnect, or fully resynced when the server
// cannot resume, in which case the cache is replaced and only the real differences are emitted).
//
// On the connection that carries both the monitor and our transactions, the server sends the
// update notification before the transact reply, so a row we wrote is visible in the cache by the
// time our transact resolves. Rows written by others become visible when their update arrives:
// `waitFor` is the way to wait for that.
import type { MonitorEvent, MonitorHandle, OvsdbClient } from './client.ts';
import { ModelError, NB_DATABASE, NB_TABLES, type NbRowTypes, type NbTable, schemaShapes } from './model.ts';
import { type CacheChange, CacheStore, type ParentRef } from './nb-cache-store.ts';
import type { MonitorCondRequest } from './protocol.ts';

export type { CacheChange, ParentRef, RefDelta } from './nb-cache-store.ts';

export interface NbCacheOptions {
  database?: string;
  /** Tables to monitor; default the eight NB tables ovnkit uses (those the server has). */
  tables?: readonly string[];
  /** external_ids keys to index; default ['pod']. */
  externalIdKeys?: readonly string[];
  /** Monitor id; must be unique per client. */
  monitorId?: string;
}

export type ChangeListener = (changes: readonly CacheChange[], event: MonitorEvent['kind']) => void;

export class CacheWaitError extends Error {
  readonly code = 'CACHE_WAIT_TIMEOUT';
  readonly table: string;
  readonly timeoutMs: number;
  constructor(table: string, timeoutMs: number, what: string) {
    super(`cache: no ${table} row ${what} within ${timeoutMs} ms`);
    this.name = 'CacheWaitError';
    this.table = table;
    this.timeoutMs = timeoutMs;
  }
}

type RowOf<T extends string> = T extends NbTable ? NbRowTypes[T] : Record<string, unknown> & { _uuid: string };

let monitorSeq = 0;

export class NbCache {
  readonly store: CacheStore;
  readonly database: string;
  private readonly listeners = new Set<ChangeListener>();
  private handle: MonitorHandle | undefined;
  /** Counts every delivered monitor event (initial, updates, resumes, resyncs). */
  eventCount = 0;
  resyncCount = 0;

  private constructor(store: CacheStore, database: string) {
    this.store = store;
    this.database = database;
  }

  /** Builds the cache from the server's schema and starts the monitor; resolves with the initial rows applied. */
  static async start(client: OvsdbClient, opts: NbCacheOptions = {}): Promise<NbCache> {
    const database = opts.database ?? NB_DATABASE;
    const schema = client.schema(database);
    const tables = (opts.tables ?? NB_TABLES).filter((t) => schema.tables[t] !== undefined);
    if (opts.tables && tables.length !== opts.tables.length) {
      const missing = opts.tables.filter((t) => !tables.includes(t));
      throw new ModelError('CACHE_UNKNOWN_TABLE', `schema ${schema.name} ${schema.version} lacks tables ${missing.join(', ')}`, missing[0]);
    }
    const store = new CacheStore(schemaShapes(schema), { tables, externalIdKeys: opts.externalIdKeys });
    const cache = new NbCache(store, database);
    const requests: Record<string, MonitorCondRequest> = {};
    // Every column: the typed rows are complete, and a column added by a newer schema just appears.
    for (const t of tables) requests[t] = {};
    cache.handle = await client.monitor(database, opts.monitorId ?? `ovnkit-nb-cache-${++monitorSeq}`, requests, (e) => cache.onEvent(e));
    return cache;
  }

  /** Applies a monitor event; public so a caller driving its own monitor can feed the cache. */
  onEvent(event: MonitorEvent): void {
    this.eventCount++;
    let changes: CacheChange[];
    if (event.reset) {
      if (event.kind === 'resync') this.resyncCount++;
      changes = this.store.replaceAll(event.updates);
    } else {
      changes = this.store.apply(event.updates);
    }
    if (changes.length === 0) return;
    for (const l of [...this.listeners]) l(changes, event.kind);
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.cancel();
  }

  get<T extends string>(table: T, uuid: string): RowOf<T> | undefined {
    return this.store.get(table, uuid) as RowOf<T> | undefined;
  }
  rows<T extends string>(table: T): RowOf<T>[] {
    return this.store.rows(table) as RowOf<T>[];
  }
  byName<T extends string>(table: T, name: string): RowOf<T>[] {
    return this.store.byName(table, name) as RowOf<T>[];
  }
  firstByName<T extends string>(table: T, name: string): RowOf<T> | undefined {
    return this.store.firstByName(table, name) as RowOf<T> | undefined;
  }
  byExternalId<T extends string>(table: T, key: string, value: string): RowOf<T>[] {
    return this.store.byExternalId(table, key, value) as RowOf<T>[];
  }
  parentsOf(childUuid: string, table?: string, column?: string): ParentRef[] {
    return this.store.parentsOf(childUuid, table, column);
  }

  /**
   * Resolves with the first row of `table` matching `predicate`, now or when it appears (or
   * changes to match); rejects with CacheWaitError after timeoutMs.
   */
  waitFor<T extends string>(table: T, predicate: (row: RowOf<T>) => boolean, timeoutMs: number, what = 'matching the predicate'): Promise<RowOf<T>> {
    for (const row of this.rows(table)) if (predicate(row)) return Promise.resolve(row);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new CacheWaitError(table, timeoutMs, what));
      }, timeoutMs);
      const off = this.onChange((changes) => {
        for (const c of changes) {
          if (c.table !== table || !c.row) continue;
          const row = c.row as unknown as RowOf<T>;
          if (predicate(row)) {
            clearTimeout(timer);
            off();
            resolve(row);
            return;
          }
        }
      });
    });
  }

  /** Resolves once no row of `table` matches `predicate` (e.g. a deleted port is gone). */
  waitForAbsent<T extends string>(table: T, predicate: (row: RowOf<T>) => boolean, timeoutMs: number, what = 'matching the predicate'): Promise<void> {
    const present = () => this.rows(table).some(predicate);
    if (!present()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new CacheWaitError(table, timeoutMs, `${what} to disappear`));
      }, timeoutMs);
      const off = this.onChange((changes) => {
        if (!changes.some((c) => c.table === table) || present()) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }
}
