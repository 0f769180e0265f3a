// Errors raised by the OVSDB client. Each carries a `code`, the stage it failed in and the
// object concerned (database, table, op index, remote), so callers branch on data, not text.
import type { OperationResult } from './protocol.ts';

export interface OvsdbErrorFields {
  /** Server error string ("constraint violation", "referential integrity violation", "unknown method", ...) */
  code: string;
  stage: 'transact' | 'commit' | 'rpc' | 'schema' | 'monitor';
  database?: string;
  table?: string;
  /** Index of the failing op; for commit-time failures, the op count (the extra result element). */
  opIndex?: number;
  details?: string;
  method?: string;
  /** The whole result array of the failed transaction. */
  results?: OperationResult[];
}

/** An error the server reported (per op, at commit, or a JSON-RPC error), or a schema guard refusal. */
export class OvsdbError extends Error {
  readonly code: string;
  readonly stage: OvsdbErrorFields['stage'];
  readonly database: string | undefined;
  readonly table: string | undefined;
  readonly opIndex: number | undefined;
  readonly details: string | undefined;
  readonly method: string | undefined;
  readonly results: OperationResult[] | undefined;
  /** True when the server rejected the transaction as a whole at commit time. */
  readonly commit: boolean;

  constructor(fields: OvsdbErrorFields) {
    super(describe(fields));
    this.name = 'OvsdbError';
    this.code = fields.code;
    this.stage = fields.stage;
    this.database = fields.database;
    this.table = fields.table;
    this.opIndex = fields.opIndex;
    this.details = fields.details;
    this.method = fields.method;
    this.results = fields.results;
    this.commit = fields.stage === 'commit';
  }
}

function describe(f: OvsdbErrorFields): string {
  const where: string[] = [];
  if (f.database !== undefined) where.push(`db ${f.database}`);
  if (f.method !== undefined && f.stage === 'rpc') where.push(`method ${f.method}`);
  if (f.stage === 'commit') where.push('at commit');
  else if (f.opIndex !== undefined) where.push(`op ${f.opIndex}`);
  if (f.table !== undefined) where.push(`table ${f.table}`);
  const details = f.details ? `: ${f.details}` : '';
  return `ovsdb ${f.stage} failed (${where.join(', ')}): ${f.code}${details}`;
}

export type ConnectionErrorCode =
  /** No remote could be reached (or none was the leader) within the connect timeout. */
  | 'ConnectFailed'
  /** The connection dropped while the request was in flight, or there is no connection now. */
  | 'ConnectionLost'
  /** The request got no reply within its timeout. */
  | 'RequestTimeout'
  /** close() was called. */
  | 'ClientClosed'
  /** The peer did not answer the inactivity probe. */
  | 'ProbeTimeout'
  /** The remote string could not be parsed. */
  | 'BadRemote';

export class OvsdbConnectionError extends Error {
  readonly code: ConnectionErrorCode;
  readonly stage: string;
  /** The remote(s) concerned, as given by the caller. */
  readonly remote: string | undefined;
  constructor(code: ConnectionErrorCode, stage: string, remote: string | undefined, message: string, options?: ErrorOptions) {
    super(`ovsdb ${stage}${remote !== undefined ? ` ${remote}` : ''}: ${message}`, options);
    this.name = 'OvsdbConnectionError';
    this.code = code;
    this.stage = stage;
    this.remote = remote;
  }
}

/** Pulls a table name out of a commit-time error's details (the server does not send one). */
export function tableFromDetails(details: string | undefined): string | undefined {
  if (details === undefined) return undefined;
  const m = /rows in "([_a-zA-Z][_a-zA-Z0-9]*)" table/.exec(details) ?? /delete ([_a-zA-Z][_a-zA-Z0-9]*) row/.exec(details) ?? /table "?([_a-zA-Z][_a-zA-Z0-9]*)"?/.exec(details);
  return m?.[1];
}
