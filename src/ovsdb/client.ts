// The OVSDB client: connects to one of several remotes (the RAFT leader when the database is
// clustered), keeps monitors alive across reconnects with monitor_cond_since, maps per-op and
// commit-time errors to OvsdbError, and never lets a request wait forever.
import { EventEmitter } from 'node:events';
import { type Logger, pino } from 'pino';
import { OvsdbConnection } from './connection.ts';
import { type OvsdbEncoder, createEncoder } from './encoder.ts';
import { OvsdbConnectionError, OvsdbError, tableFromDetails } from './errors.ts';
import type { MonitorCondRequest, Operation, OperationResult, TableUpdates2 } from './protocol.ts';
import { type Remote, type TlsOptions, connectSocket, parseRemotes } from './remote.ts';
import { type DatabaseSchema, checkOpsAgainstSchema, schemaHasColumn } from './schema.ts';

export interface OvsdbClientOptions {
  /** How long connect() keeps trying every remote before it rejects. Default 10 s. */
  connectTimeoutMs?: number;
  /** Default per-request timeout. Default 30 s. */
  requestTimeoutMs?: number;
  /** Idle time before we send an echo; no data for another interval drops the connection. Default 5 s, 0 disables. */
  probeIntervalMs?: number;
  /** Reconnect after the connection drops. Default true. */
  reconnect?: boolean;
  /** Reconnect backoff: first delay and cap, doubled per failed round, with jitter. Defaults 100 ms and 5 s. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Client key, certificate and CA for ssl: remotes (PEM text or file paths). */
  tls?: TlsOptions;
  /** The database whose RAFT leader we must talk to. Default OVN_Northbound. */
  database?: string;
  /** Only use a member that is the leader of `database` when it is clustered. Default true. */
  leaderOnly?: boolean;
  /** Refuse ops naming a table or column the server's schema lacks. Default true. */
  validateColumns?: boolean;
  encoder?: OvsdbEncoder;
  logger?: Logger;
}

export interface TransactOptions {
  timeoutMs?: number;
}

export type MonitorRequests = Record<string, MonitorCondRequest | MonitorCondRequest[]>;

export interface MonitorEvent {
  monitorId: string;
  database: string;
  /**
   * initial: first reply; update: a change notification; resumed: monitor_cond_since after a
   * reconnect found our last txn id and `updates` are the changes since; resync: the server could
   * not resume (or has no txn ids, e.g. standalone) and `updates` are the full current state.
   */
  kind: 'initial' | 'update' | 'resumed' | 'resync';
  /** When true, drop everything cached for this monitor before applying `updates`. */
  reset: boolean;
  updates: TableUpdates2;
  lastTxnId: string | undefined;
}

export type MonitorHandler = (event: MonitorEvent) => void;

export interface MonitorHandle {
  readonly id: string;
  readonly database: string;
  readonly lastTxnId: string | undefined;
  cancel(): Promise<void>;
}

export interface ClientEvents {
  connected: [{ remote: string; clustered: boolean }];
  disconnected: [{ remote: string; reason: Error }];
  leaderChanged: [{ previous: string | undefined; current: string }];
}

interface MonitorState {
  id: string;
  database: string;
  requests: MonitorRequests;
  handler: MonitorHandler;
  lastTxnId: string | undefined;
  active: boolean;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

interface ServerDatabaseRow {
  name?: string;
  model?: string;
  connected?: boolean;
  leader?: boolean;
}

const ZERO_TXN_ID = '00000000-0000-0000-0000-000000000000';
const SERVER_MONITOR_ID = 'ovnkit-server-db';

let defaultLogger: Logger | undefined;

/** One JSON line per event on stderr; level from OVNKIT_LOG_LEVEL (silent under vitest unless set). */
export function ovsdbLogger(): Logger {
  defaultLogger ??= pino(
    { name: 'ovnkit-ovsdb', level: process.env.OVNKIT_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info') },
    pino.destination(2),
  );
  return defaultLogger;
}

export class OvsdbClient extends EventEmitter<ClientEvents> {
  readonly remotes: readonly Remote[];
  readonly remoteText: string;
  readonly #opts: Required<Omit<OvsdbClientOptions, 'tls' | 'encoder' | 'logger'>> & { tls: TlsOptions | undefined };
  readonly #encoder: OvsdbEncoder;
  readonly #log: Logger;
  readonly #schemas = new Map<string, DatabaseSchema>();
  readonly #monitors = new Map<string, MonitorState>();
  readonly #waiters = new Set<Waiter>();
  #conn: OvsdbConnection | undefined;
  #clustered = false;
  #closed = false;
  #reconnecting: Promise<void> | undefined;
  #cancelSleep: (() => void) | undefined;
  #nextRemote = 0;
  #sinceSupported: boolean | undefined;
  #lastLeader: string | undefined;

  private constructor(remote: string, options: OvsdbClientOptions) {
    super();
    this.remotes = parseRemotes(remote);
    this.remoteText = remote;
    this.#opts = {
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      probeIntervalMs: options.probeIntervalMs ?? 5_000,
      reconnect: options.reconnect ?? true,
      backoffInitialMs: options.backoffInitialMs ?? 100,
      backoffMaxMs: options.backoffMaxMs ?? 5_000,
      database: options.database ?? 'OVN_Northbound',
      leaderOnly: options.leaderOnly ?? true,
      validateColumns: options.validateColumns ?? true,
      tls: options.tls,
    };
    for (const [name, v] of Object.entries(this.#opts)) {
      if (typeof v === 'number' && (!Number.isFinite(v) || v < 0)) {
        throw new OvsdbConnectionError('BadRemote', 'options', remote, `${name} must be a non-negative number (got ${v})`);
      }
    }
    this.#encoder = options.encoder ?? createEncoder();
    this.#log = (options.logger ?? ovsdbLogger()).child({ client: remote });
  }

  /** Connects to the first usable remote (the leader, when clustered); rejects naming the remotes after connectTimeoutMs. */
  static async connect(remote: string, options: OvsdbClientOptions = {}): Promise<OvsdbClient> {
    const client = new OvsdbClient(remote, options);
    const deadline = Date.now() + client.#opts.connectTimeoutMs;
    const failures = new Map<string, string>();
    let round = 0;
    for (;;) {
      const ok = await client.#connectRound(failures, deadline);
      if (ok) return client;
      const left = deadline - Date.now();
      if (left <= 0) {
        const why = [...failures].map(([r, e]) => `${r}: ${e}`).join('; ');
        throw new OvsdbConnectionError(
          'ConnectFailed',
          'connect',
          remote,
          `no usable server within ${client.#opts.connectTimeoutMs} ms (${why})`,
        );
      }
      await client.#sleep(Math.min(left, client.#backoff(round++)));
    }
  }

  get connected(): boolean {
    return this.#conn !== undefined && !this.#conn.closed;
  }

  /** The remote we are connected to now, if any. */
  get currentRemote(): string | undefined {
    return this.connected ? this.#conn?.remote.text : undefined;
  }

  get clustered(): boolean {
    return this.#clustered;
  }

  get encoder(): OvsdbEncoder {
    return this.#encoder;
  }

  /** The schema the server reported for `database` (fetched with get_schema at connect). */
  schema(database: string = this.#opts.database): DatabaseSchema {
    const s = this.#schemas.get(database);
    if (!s) throw new OvsdbError({ code: 'unknown database', stage: 'schema', database, details: `server lists ${[...this.#schemas.keys()].join(', ')}` });
    return s;
  }

  /** Whether the server's schema has `table.column`: check before writing optional (newer) columns. */
  hasColumn(table: string, column: string, database: string = this.#opts.database): boolean {
    const s = this.#schemas.get(database);
    return s !== undefined && schemaHasColumn(s, table, column);
  }

  hasTable(table: string, database: string = this.#opts.database): boolean {
    return this.#schemas.get(database)?.tables[table] !== undefined;
  }

  /** Resolves once connected (now or after a reconnect); rejects after timeoutMs. */
  waitConnected(timeoutMs = this.#opts.connectTimeoutMs): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (this.#closed) return Promise.reject(this.#closedError('waitConnected'));
    // A plain set, not 'connected' listeners: many callers wait at once after a failover.
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          reject(err);
        },
      };
      const timer = setTimeout(
        () => waiter.reject(new OvsdbConnectionError('ConnectFailed', 'waitConnected', this.remoteText, `not connected within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiters.add(waiter);
    });
  }

  /** Any JSON-RPC method; rejects with OvsdbError (stage rpc) when the server answers with an error. */
  call(method: string, params: readonly unknown[], options: TransactOptions = {}): Promise<unknown> {
    const conn = this.#live(method);
    if (conn instanceof Error) return Promise.reject(conn);
    return conn.call(method, params, options.timeoutMs);
  }

  /** Runs one transaction; resolves to the per-op results or rejects with the first failure as OvsdbError. */
  async transact(database: string, ops: readonly Operation[], options: TransactOptions = {}): Promise<OperationResult[]> {
    const conn = this.#live('transact');
    if (conn instanceof Error) throw conn;
    if (this.#opts.validateColumns) {
      const schema = this.#schemas.get(database);
      if (!schema) throw new OvsdbError({ code: 'unknown database', stage: 'schema', database });
      checkOpsAgainstSchema(schema, ops);
    }
    const result = await conn.send('transact', (id) => this.#encoder.transact(id, database, ops), options.timeoutMs);
    return checkTransactResult(database, ops, result);
  }

  /**
   * Pipelines several independent transactions: encoded in one encoder call (one N-API call on
   * the native path), written at once, each settling on its own like `transact`. The schema guard
   * checks them all first: one op naming an unknown column rejects every one, and none is sent.
   */
  transactMany(database: string, transactions: readonly (readonly Operation[])[], options: TransactOptions = {}): Promise<OperationResult[]>[] {
    const conn = this.#live('transact');
    if (conn instanceof Error) return transactions.map(() => Promise.reject(conn));
    if (this.#opts.validateColumns) {
      const schema = this.#schemas.get(database);
      try {
        if (!schema) throw new OvsdbError({ code: 'unknown database', stage: 'schema', database });
        for (const ops of transactions) checkOpsAgainstSchema(schema, ops);
      } catch (err) {
        return transactions.map(() => Promise.reject(err));
      }
    }
    const sent = conn.sendMany(
      'transact',
      transactions.length,
      (ids) => this.#encoder.transactBatch(ids.map((id, i) => ({ id, database, ops: transactions[i] as readonly Operation[] }))),
      options.timeoutMs,
    );
    return sent.map((p, i) => p.then((result) => checkTransactResult(database, transactions[i] as readonly Operation[], result)));
  }

  /**
   * Starts a monitor_cond (monitor_cond_since when the server has it) for `requests`; resolves once
   * the handler got the initial rows. The monitor is re-established after every reconnect.
   */
  async monitor(database: string, id: string, requests: MonitorRequests, handler: MonitorHandler): Promise<MonitorHandle> {
    if (this.#monitors.has(id)) throw new OvsdbError({ code: 'duplicate monitor id', stage: 'monitor', database, details: id });
    const conn = this.#live('monitor');
    if (conn instanceof Error) throw conn;
    const state: MonitorState = { id, database, requests, handler, lastTxnId: undefined, active: true };
    this.#monitors.set(id, state);
    try {
      await this.#startMonitor(conn, state, true);
    } catch (err) {
      this.#monitors.delete(id);
      throw err;
    }
    return {
      id,
      database,
      get lastTxnId() {
        return state.lastTxnId;
      },
      cancel: async () => {
        if (!state.active) return;
        state.active = false;
        this.#monitors.delete(id);
        const c = this.#conn;
        if (c && !c.closed) await c.send('monitor_cancel', (rid) => this.#encoder.monitorCancel(rid, id)).catch(() => {});
      },
    };
  }

  /** Stops reconnecting, closes the connection; pending requests reject with ClientClosed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelSleep?.();
    for (const w of [...this.#waiters]) w.reject(this.#closedError('waitConnected'));
    const conn = this.#conn;
    this.#conn = undefined;
    conn?.close(this.#closedError('close'));
    await this.#reconnecting?.catch(() => {});
  }

  #closedError(stage: string): OvsdbConnectionError {
    return new OvsdbConnectionError('ClientClosed', stage, this.remoteText, 'client is closed');
  }

  #live(stage: string): OvsdbConnection | Error {
    if (this.#closed) return this.#closedError(stage);
    const conn = this.#conn;
    if (!conn || conn.closed) {
      return new OvsdbConnectionError('ConnectionLost', stage, this.remoteText, 'not connected (reconnecting)');
    }
    return conn;
  }

  #backoff(round: number): number {
    const base = Math.min(this.#opts.backoffMaxMs, this.#opts.backoffInitialMs * 2 ** Math.min(round, 20));
    // Jitter spreads reconnects of many clients after a leader change; never below half the base.
    return Math.max(10, base / 2 + Math.random() * (base / 2));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#cancelSleep = undefined;
        resolve();
      }, ms);
      this.#cancelSleep = () => {
        clearTimeout(timer);
        this.#cancelSleep = undefined;
        resolve();
      };
    });
  }

  /** Tries every remote once, starting after the last one used. True once one is usable. */
  async #connectRound(failures: Map<string, string>, deadline: number | undefined): Promise<boolean> {
    const n = this.remotes.length;
    for (let k = 0; k < n && !this.#closed; k++) {
      const remote = this.remotes[(this.#nextRemote + k) % n] as Remote;
      const left = deadline === undefined ? this.#opts.connectTimeoutMs : deadline - Date.now();
      if (left <= 0) return false;
      try {
        await this.#tryRemote(remote, Math.min(left, this.#opts.connectTimeoutMs));
        this.#nextRemote = (this.#nextRemote + k) % n;
        return true;
      } catch (err) {
        const msg = (err as Error).message;
        failures.set(remote.text, msg);
        this.#log.debug({ event: 'connect_attempt_failed', remote: remote.text, err: msg }, 'remote not usable');
      }
    }
    return false;
  }

  async #tryRemote(remote: Remote, timeoutMs: number): Promise<void> {
    const socket = await connectSocket(remote, timeoutMs, this.#opts.tls);
    const conn = new OvsdbConnection(socket, remote, {
      encoder: this.#encoder,
      logger: this.#log,
      probeIntervalMs: this.#opts.probeIntervalMs,
      requestTimeoutMs: this.#opts.requestTimeoutMs,
    });
    const setupTimeout = Math.max(1000, timeoutMs);
    try {
      const dbs = (await conn.call('list_dbs', [], setupTimeout)) as string[];
      if (!dbs.includes(this.#opts.database)) {
        throw new OvsdbConnectionError('ConnectFailed', 'list_dbs', remote.text, `server has no database ${this.#opts.database} (it serves ${dbs.join(', ')}; set the database option)`);
      }
      let clustered = false;
      if (dbs.includes('_Server')) {
        const row = await this.#serverRow(conn, setupTimeout);
        clustered = row?.model === 'clustered';
        if (clustered && this.#opts.leaderOnly && !(row?.leader === true && row.connected === true)) {
          throw new OvsdbConnectionError('ConnectFailed', 'leader', remote.text, `not the leader of ${this.#opts.database} (leader=${row?.leader}, connected=${row?.connected})`);
        }
      }
      for (const db of dbs) {
        if (this.#schemas.has(db) && db === '_Server') continue;
        const schema = (await conn.send('get_schema', (id) => this.#encoder.getSchema(id, db), setupTimeout)) as DatabaseSchema;
        this.#schemas.set(db, schema);
      }
      conn.onNotification = (method, params) => this.#onNotification(conn, method, params);
      if (clustered && this.#opts.leaderOnly) await this.#watchLeadership(conn, setupTimeout);
      for (const state of this.#monitors.values()) await this.#startMonitor(conn, state, false);
      if (this.#closed) throw this.#closedError('connect');
      this.#clustered = clustered;
      this.#conn = conn;
      conn.once('close', (reason) => this.#onClose(conn, reason));
      if (conn.closed) throw new OvsdbConnectionError('ConnectionLost', 'connect', remote.text, 'connection dropped during setup');
    } catch (err) {
      if (this.#conn === conn) this.#conn = undefined;
      conn.close(err as Error);
      throw err;
    }
    const previous = this.#lastLeader;
    this.#lastLeader = remote.text;
    this.#log.info({ event: 'connected', remote: remote.text, clustered: this.#clustered }, 'connected');
    for (const w of [...this.#waiters]) w.resolve();
    this.emit('connected', { remote: remote.text, clustered: this.#clustered });
    if (this.#clustered && previous !== undefined && previous !== remote.text) {
      this.#log.info({ event: 'leader_changed', previous, current: remote.text }, 'now talking to a new leader');
      this.emit('leaderChanged', { previous, current: remote.text });
    }
  }

  async #serverRow(conn: OvsdbConnection, timeoutMs: number): Promise<ServerDatabaseRow | undefined> {
    const db = this.#opts.database;
    const ops: Operation[] = [{ op: 'select', table: 'Database', where: [['name', '==', db]], columns: ['name', 'model', 'connected', 'leader'] }];
    const result = (await conn.send('transact', (id) => this.#encoder.transact(id, '_Server', ops), timeoutMs)) as [{ rows?: ServerDatabaseRow[] }];
    return result[0]?.rows?.[0];
  }

  /** Follows `_Server.Database` so that losing leadership drops the connection at once. */
  async #watchLeadership(conn: OvsdbConnection, timeoutMs: number): Promise<void> {
    const requests = { Database: [{ columns: ['name', 'model', 'connected', 'leader'], where: [['name', '==', this.#opts.database]] }] } as const;
    await conn.send('monitor_cond', (id) => this.#encoder.monitorCond(id, '_Server', SERVER_MONITOR_ID, requests as never), timeoutMs);
  }

  async #startMonitor(conn: OvsdbConnection, state: MonitorState, first: boolean): Promise<void> {
    if (this.#sinceSupported !== false) {
      try {
        const since = state.lastTxnId ?? ZERO_TXN_ID;
        const result = (await conn.send('monitor_cond_since', (id) =>
          this.#encoder.monitorCondSince(id, state.database, state.id, state.requests, since),
        )) as [boolean, string, TableUpdates2];
        this.#sinceSupported = true;
        const [found, lastTxnId, updates] = result;
        state.lastTxnId = lastTxnId === ZERO_TXN_ID ? undefined : lastTxnId;
        const kind = first ? 'initial' : found ? 'resumed' : 'resync';
        this.#deliver(state, { kind, reset: !found || first, updates: updates ?? {} });
        return;
      } catch (err) {
        if (!(err instanceof OvsdbError && err.code === 'unknown method')) throw err;
        this.#sinceSupported = false;
        this.#log.info({ event: 'monitor_cond_since_unsupported' }, 'server lacks monitor_cond_since; resyncing monitors fully on reconnect');
      }
    }
    const updates = (await conn.send('monitor_cond', (id) =>
      this.#encoder.monitorCond(id, state.database, state.id, state.requests),
    )) as TableUpdates2;
    this.#deliver(state, { kind: first ? 'initial' : 'resync', reset: true, updates: updates ?? {} });
  }

  #deliver(state: MonitorState, e: { kind: MonitorEvent['kind']; reset: boolean; updates: TableUpdates2 }): void {
    try {
      state.handler({ monitorId: state.id, database: state.database, kind: e.kind, reset: e.reset, updates: e.updates, lastTxnId: state.lastTxnId });
    } catch (err) {
      this.#log.error({ event: 'monitor_handler_threw', monitor: state.id, err }, 'monitor handler threw');
    }
  }

  #onNotification(conn: OvsdbConnection, method: string, params: unknown[]): void {
    if (method === 'update2' || method === 'update3') {
      const monitorId = params[0];
      if (monitorId === SERVER_MONITOR_ID) {
        this.#onServerUpdate(conn, params[1] as TableUpdates2);
        return;
      }
      const state = typeof monitorId === 'string' ? this.#monitors.get(monitorId) : undefined;
      if (!state || !state.active) return;
      if (method === 'update3') state.lastTxnId = params[1] === ZERO_TXN_ID ? undefined : (params[1] as string);
      const updates = (method === 'update3' ? params[2] : params[1]) as TableUpdates2;
      this.#deliver(state, { kind: 'update', reset: false, updates });
      return;
    }
    if (method === 'monitor_canceled') {
      const monitorId = params[0];
      this.#log.warn({ event: 'monitor_canceled', monitor: monitorId }, 'server canceled a monitor; reconnecting to re-establish it');
      conn.close(new OvsdbConnectionError('ConnectionLost', 'monitor', conn.remote.text, `server canceled monitor ${JSON.stringify(monitorId)}`));
      return;
    }
    this.#log.debug({ event: 'notification_ignored', method }, 'notification ignored');
  }

  #onServerUpdate(conn: OvsdbConnection, updates: TableUpdates2): void {
    for (const change of Object.values(updates.Database ?? {})) {
      const row = ('modify' in change ? change.modify : 'insert' in change ? change.insert : 'initial' in change ? change.initial : undefined) as
        | ServerDatabaseRow
        | undefined;
      if (!row) continue;
      if (row.leader === false || row.connected === false) {
        this.#log.warn({ event: 'leader_lost', remote: conn.remote.text, leader: row.leader, connected: row.connected }, 'member is no longer the connected leader; reconnecting');
        conn.close(new OvsdbConnectionError('ConnectionLost', 'leader', conn.remote.text, 'member lost leadership'));
      }
    }
  }

  #onClose(conn: OvsdbConnection, reason: Error): void {
    if (this.#conn === conn) this.#conn = undefined;
    if (this.#closed) return;
    this.#log.warn({ event: 'disconnected', remote: conn.remote.text, reason: reason.message }, 'disconnected');
    this.emit('disconnected', { remote: conn.remote.text, reason });
    if (!this.#opts.reconnect) return;
    // Leadership moved or the member died: start with the next member.
    this.#nextRemote = (this.#nextRemote + 1) % this.remotes.length;
    this.#reconnecting ??= this.#reconnectLoop().finally(() => {
      this.#reconnecting = undefined;
    });
  }

  async #reconnectLoop(): Promise<void> {
    let round = 0;
    while (!this.#closed && !this.connected) {
      // Always wait a little before the first attempt too: a leader that just died is often
      // still accepting connections for a moment, and an immediate retry would spin.
      await this.#sleep(this.#backoff(round++));
      if (this.#closed) return;
      const failures = new Map<string, string>();
      if (await this.#connectRound(failures, undefined)) return;
      this.#log.info({ event: 'reconnect_round_failed', round, failures: Object.fromEntries(failures) }, 'no usable server yet');
    }
  }
}

/** Maps a transact result array to the per-op results, or throws the first failure. */
export function checkTransactResult(database: string, ops: readonly Operation[], result: unknown): OperationResult[] {
  if (!Array.isArray(result)) {
    throw new OvsdbError({ code: 'malformed reply', stage: 'transact', database, details: `transact result is not an array: ${JSON.stringify(result)?.slice(0, 200)}` });
  }
  const results = result as OperationResult[];
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    if (r === null || r === undefined || typeof r !== 'object' || !('error' in r)) continue;
    const failed = r as { error: string; details?: string };
    const op = ops[i];
    if (op === undefined) {
      // One element past the op count: the transaction failed as a whole at commit.
      throw new OvsdbError({ code: failed.error, stage: 'commit', database, opIndex: i, table: tableFromDetails(failed.details), details: failed.details, results });
    }
    throw new OvsdbError({
      code: failed.error,
      stage: 'transact',
      database,
      opIndex: i,
      table: 'table' in op ? op.table : undefined,
      details: failed.details,
      results,
    });
  }
  if (results.length < ops.length) {
    throw new OvsdbError({ code: 'malformed reply', stage: 'transact', database, details: `${results.length} results for ${ops.length} ops` });
  }
  return results;
}
