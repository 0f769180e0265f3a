// The pure-TypeScript OVSDB encoder. Its output is byte-identical to the Rust encoder
// (crates/ovsdb) and to JSON.stringify of the same request built with keys in canonical order.
// Canonical key order is fixed per op kind (see docs/ovsdb-encoding.md), not taken from the
// caller's object, so both encoders agree however the caller built its ops.
import { EncodeError } from './encoder-error.ts';
import type { OvsdbEncoder } from './encoder.ts';
import type {
  Atom,
  Condition,
  MonitorCondRequest,
  Mutation,
  Operation,
  Row,
  RpcId,
  Value,
} from './protocol.ts';
import { NAMED_UUID_PATTERN } from './protocol.ts';

/** RFC 7047 <id>: table, column and (here) lock names. */
export const ID_PATTERN = /^[_a-zA-Z][_a-zA-Z0-9]*$/;
/** RFC 7047 <uuid>: 8-4-4-4-12 hex digits. */
export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const CONDITION_FUNCTIONS: readonly string[] = ['<', '<=', '==', '!=', '>=', '>', 'includes', 'excludes'];
export const MUTATORS: readonly string[] = ['+=', '-=', '*=', '/=', '%=', 'insert', 'delete'];

export interface TransactItem {
  id: RpcId;
  database: string;
  ops: readonly Operation[];
}

/** monitor_cond / monitor_cond_since requests: one or several per table. */
export type MonitorRequests = Readonly<Record<string, MonitorCondRequest | readonly MonitorCondRequest[]>>;

// Characters JSON.stringify escapes: '"', '\\', C0 controls, and (ES2019 well-formed stringify)
// surrogates, which it escapes only when unpaired. Strings without any of these are copied as is.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Smallest positive normal double; ovsdb-server drops the connection on anything smaller but 0. */
export const MIN_NORMAL = 2.2250738585072014e-308;

/**
 * A JSON string exactly as JSON.stringify writes it, for every string ovsdb-server can take.
 * Refused (measured on ovsdb-server 3.1, docs/ovsdb-encoding.md): U+0000, on which the server
 * drops the connection, and lone surrogates: a lone high one also drops the connection, a lone
 * low one is stored as invalid UTF-8.
 */
export function encodeString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  const nul = s.indexOf('\u0000');
  if (nul >= 0) throw new EncodeError(`string contains U+0000 at index ${nul}, which ovsdb-server refuses by dropping the connection`);
  const lone = LONE_SURROGATE.exec(s);
  if (lone) {
    const unit = lone[0].charCodeAt(0).toString(16).toUpperCase();
    throw new EncodeError(`string contains a lone surrogate U+${unit} at index ${lone.index}, which ovsdb-server cannot store`);
  }
  return JSON.stringify(s);
}

function stringField(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new EncodeError(`${what} must be a string, got ${typeOf(value)}`);
  return encodeString(value);
}

function idField(value: unknown, what: string): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw new EncodeError(`${what} must match [_a-zA-Z][_a-zA-Z0-9]*, got ${show(value)}`);
  }
  return `"${value}"`;
}

export function encodeNumber(n: number, what = 'number'): string {
  if (!Number.isFinite(n)) throw new EncodeError(`${what} must be finite, got ${String(n)}`);
  if (n !== 0 && Math.abs(n) < MIN_NORMAL) {
    throw new EncodeError(`${what} ${String(n)} is subnormal, which ovsdb-server refuses by dropping the connection`);
  }
  return String(n);
}

export function encodeRpcId(id: RpcId): string {
  if (id === null) return 'null';
  if (typeof id === 'number') return encodeNumber(id, 'id');
  if (typeof id === 'string') return encodeString(id);
  throw new EncodeError(`id must be a number, a string or null, got ${typeOf(id)}`);
}

export function encodeAtom(atom: Atom): string {
  switch (typeof atom) {
    case 'string':
      return encodeString(atom);
    case 'number':
      return encodeNumber(atom, 'atom');
    case 'boolean':
      return atom ? 'true' : 'false';
    case 'object':
      if (Array.isArray(atom) && atom.length === 2) {
        const [tag, text] = atom as unknown[];
        if (tag === 'uuid') {
          if (typeof text !== 'string' || !UUID_PATTERN.test(text)) throw new EncodeError(`bad uuid ${show(text)}`);
          return `["uuid","${text}"]`;
        }
        if (tag === 'named-uuid') {
          if (typeof text !== 'string' || !NAMED_UUID_PATTERN.test(text)) {
            throw new EncodeError(`named-uuid must match [_a-zA-Z][_a-zA-Z0-9]*, got ${show(text)}`);
          }
          return `["named-uuid","${text}"]`;
        }
      }
  }
  throw new EncodeError(`not an atom: ${show(atom)}`);
}

export function encodeValue(value: Value): string {
  if (Array.isArray(value) && value.length === 2) {
    const tag = value[0];
    if (tag === 'set') return encodeSet(value[1]);
    if (tag === 'map') return encodeMap(value[1]);
  }
  return encodeAtom(value as Atom);
}

function encodeSet(atoms: unknown): string {
  if (!Array.isArray(atoms)) throw new EncodeError(`set elements must be an array, got ${typeOf(atoms)}`);
  let out = '["set",[';
  for (let i = 0; i < atoms.length; i++) {
    if (i > 0) out += ',';
    out += encodeAtom(atoms[i] as Atom);
  }
  return `${out}]]`;
}

function encodeMap(pairs: unknown): string {
  if (!Array.isArray(pairs)) throw new EncodeError(`map pairs must be an array, got ${typeOf(pairs)}`);
  let out = '["map",[';
  for (let i = 0; i < pairs.length; i++) {
    const pair: unknown = pairs[i];
    if (!Array.isArray(pair) || pair.length !== 2) throw new EncodeError(`map pair ${i} must be [key, value], got ${show(pair)}`);
    if (i > 0) out += ',';
    out += `[${encodeAtom(pair[0] as Atom)},${encodeAtom(pair[1] as Atom)}]`;
  }
  return `${out}]]`;
}

export function encodeRow(row: Row): string {
  if (!isPlainObject(row)) throw new EncodeError(`row must be an object, got ${typeOf(row)}`);
  let out = '{';
  let first = true;
  for (const column in row) {
    if (!Object.hasOwn(row, column)) continue;
    if (!first) out += ',';
    first = false;
    out += `${idField(column, 'column name')}:${encodeValue(row[column] as Value)}`;
  }
  return `${out}}`;
}

function encodeRows(rows: unknown): string {
  if (!Array.isArray(rows)) throw new EncodeError(`rows must be an array, got ${typeOf(rows)}`);
  let out = '[';
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) out += ',';
    out += encodeRow(rows[i] as Row);
  }
  return `${out}]`;
}

function encodeWhere(where: unknown, allowBooleans = false): string {
  if (!Array.isArray(where)) throw new EncodeError(`where must be an array of conditions, got ${typeOf(where)}`);
  let out = '[';
  for (let i = 0; i < where.length; i++) {
    if (i > 0) out += ',';
    const cond: unknown = where[i];
    if (allowBooleans && typeof cond === 'boolean') {
      out += cond ? 'true' : 'false';
      continue;
    }
    out += encodeTriple(cond, CONDITION_FUNCTIONS, 'condition function');
  }
  return `${out}]`;
}

function encodeMutations(mutations: unknown): string {
  if (!Array.isArray(mutations)) throw new EncodeError(`mutations must be an array, got ${typeOf(mutations)}`);
  let out = '[';
  for (let i = 0; i < mutations.length; i++) {
    if (i > 0) out += ',';
    out += encodeTriple(mutations[i], MUTATORS, 'mutator');
  }
  return `${out}]`;
}

function encodeTriple(triple: unknown, allowed: readonly string[], what: string): string {
  if (!Array.isArray(triple) || triple.length !== 3) throw new EncodeError(`expected [column, ${what}, value], got ${show(triple)}`);
  const [column, fn, value] = triple as Condition | Mutation;
  if (typeof fn !== 'string' || !allowed.includes(fn)) throw new EncodeError(`unknown ${what} ${show(fn)}`);
  return `[${idField(column, 'column name')},"${fn}",${encodeValue(value)}]`;
}

export function encodeColumns(columns: unknown): string {
  if (!Array.isArray(columns)) throw new EncodeError(`columns must be an array, got ${typeOf(columns)}`);
  let out = '[';
  for (let i = 0; i < columns.length; i++) {
    if (i > 0) out += ',';
    out += idField(columns[i], 'column name');
  }
  return `${out}]`;
}

/** One operation with keys in canonical order. */
export function encodeOperation(op: Operation): string {
  if (!isPlainObject(op)) throw new EncodeError(`operation must be an object, got ${typeOf(op)}`);
  switch (op.op) {
    case 'insert': {
      let out = `{"op":"insert","table":${idField(op.table, 'table')}`;
      const name = op['uuid-name'];
      if (name !== undefined) {
        if (typeof name !== 'string' || !NAMED_UUID_PATTERN.test(name)) {
          throw new EncodeError(`uuid-name must match [_a-zA-Z][_a-zA-Z0-9]*, got ${show(name)}`);
        }
        out += `,"uuid-name":"${name}"`;
      }
      return `${out},"row":${encodeRow(op.row)}}`;
    }
    case 'select': {
      let out = `{"op":"select","table":${idField(op.table, 'table')},"where":${encodeWhere(op.where)}`;
      if (op.columns !== undefined) out += `,"columns":${encodeColumns(op.columns)}`;
      return `${out}}`;
    }
    case 'update':
      return `{"op":"update","table":${idField(op.table, 'table')},"where":${encodeWhere(op.where)},"row":${encodeRow(op.row)}}`;
    case 'mutate':
      return `{"op":"mutate","table":${idField(op.table, 'table')},"where":${encodeWhere(op.where)},"mutations":${encodeMutations(op.mutations)}}`;
    case 'delete':
      return `{"op":"delete","table":${idField(op.table, 'table')},"where":${encodeWhere(op.where)}}`;
    case 'wait': {
      let out = `{"op":"wait","table":${idField(op.table, 'table')}`;
      if (op.timeout !== undefined) {
        if (typeof op.timeout !== 'number') throw new EncodeError(`timeout must be a number, got ${typeOf(op.timeout)}`);
        out += `,"timeout":${encodeNumber(op.timeout, 'timeout')}`;
      }
      if (op.until !== '==' && op.until !== '!=') throw new EncodeError(`until must be "==" or "!=", got ${show(op.until)}`);
      return `${out},"where":${encodeWhere(op.where)},"columns":${encodeColumns(op.columns)},"until":"${op.until}","rows":${encodeRows(op.rows)}}`;
    }
    case 'commit':
      if (typeof op.durable !== 'boolean') throw new EncodeError(`durable must be a boolean, got ${typeOf(op.durable)}`);
      return op.durable ? '{"op":"commit","durable":true}' : '{"op":"commit","durable":false}';
    case 'abort':
      return '{"op":"abort"}';
    case 'comment':
      return `{"op":"comment","comment":${stringField(op.comment, 'comment')}}`;
    case 'assert':
      return `{"op":"assert","lock":${stringField(op.lock, 'lock')}}`;
    default:
      throw new EncodeError(`unknown op ${show((op as { op: unknown }).op)}`);
  }
}

/** The body of a transact request, without the surrounding request object. */
export function encodeTransactText(id: RpcId, database: string, ops: readonly Operation[]): string {
  if (!Array.isArray(ops)) throw new EncodeError(`ops must be an array, got ${typeOf(ops)}`, { method: 'transact' });
  let out: string;
  try {
    out = `{"method":"transact","params":[${stringField(database, 'database')}`;
  } catch (err) {
    throw err instanceof EncodeError ? err.withContext({ method: 'transact' }) : err;
  }
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as Operation;
    try {
      out += `,${encodeOperation(op)}`;
    } catch (err) {
      throw withOpContext(err, i, op);
    }
  }
  try {
    return `${out}],"id":${encodeRpcId(id)}}`;
  } catch (err) {
    throw err instanceof EncodeError ? err.withContext({ method: 'transact' }) : err;
  }
}

function withOpContext(err: unknown, opIndex: number, op: Operation): unknown {
  if (!(err instanceof EncodeError)) return err;
  const table = isPlainObject(op) && typeof (op as { table?: unknown }).table === 'string' ? (op as { table: string }).table : undefined;
  return err.withContext(table === undefined ? { method: 'transact', opIndex } : { method: 'transact', opIndex, table });
}

/**
 * Strict JSON for arbitrary params/results: what JSON.stringify writes, but refusing what it
 * would silently change (undefined, functions, NaN, Infinity, bigint, class instances, cycles).
 */
export function encodeJson(value: unknown, depth = 0): string {
  if (depth > 64) throw new EncodeError('value nested deeper than 64 levels');
  switch (typeof value) {
    case 'string':
      return encodeString(value);
    case 'number':
      return encodeNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          out += encodeJson(value[i], depth + 1);
        }
        return `${out}]`;
      }
      if (!isPlainObject(value)) throw new EncodeError(`cannot encode a ${typeOf(value)} as JSON`);
      let out = '{';
      let first = true;
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (!first) out += ',';
        first = false;
        out += `${encodeString(key)}:${encodeJson((value as Record<string, unknown>)[key], depth + 1)}`;
      }
      return `${out}}`;
    }
    default:
      throw new EncodeError(`cannot encode a ${typeOf(value)} as JSON`);
  }
}

export function encodeRequestText(method: string, params: readonly unknown[], id: RpcId): string {
  if (!Array.isArray(params)) throw new EncodeError(`params must be an array, got ${typeOf(params)}`, { method });
  try {
    return `{"method":${stringField(method, 'method')},"params":${encodeJson(params)},"id":${encodeRpcId(id)}}`;
  } catch (err) {
    throw err instanceof EncodeError ? err.withContext({ method: String(method) }) : err;
  }
}

export function encodeReplyText(id: RpcId, result: unknown): string {
  return `{"id":${encodeRpcId(id)},"result":${encodeJson(result)},"error":null}`;
}

/** monitor_cond's <monitor-cond-requests>: keys columns, where, select in that order. */
export function encodeMonitorRequests(requests: MonitorRequests): string {
  if (!isPlainObject(requests)) throw new EncodeError(`monitor requests must be an object, got ${typeOf(requests)}`);
  let out = '{';
  let first = true;
  for (const table in requests) {
    if (!Object.hasOwn(requests, table)) continue;
    if (!first) out += ',';
    first = false;
    const perTable = requests[table];
    const list = Array.isArray(perTable) ? perTable : [perTable];
    out += `${idField(table, 'table')}:[`;
    for (let i = 0; i < list.length; i++) {
      if (i > 0) out += ',';
      out += encodeMonitorRequest(list[i] as MonitorCondRequest);
    }
    out += ']';
  }
  return `${out}}`;
}

function encodeMonitorRequest(req: MonitorCondRequest): string {
  if (!isPlainObject(req)) throw new EncodeError(`monitor request must be an object, got ${typeOf(req)}`);
  const parts: string[] = [];
  if (req.columns !== undefined) parts.push(`"columns":${encodeColumns(req.columns)}`);
  if (req.where !== undefined) {
    if (typeof req.where === 'boolean') parts.push(`"where":${req.where ? 'true' : 'false'}`);
    else parts.push(`"where":${encodeWhere(req.where, true)}`);
  }
  if (req.select !== undefined) {
    const sel = req.select;
    if (!isPlainObject(sel)) throw new EncodeError(`select must be an object, got ${typeOf(sel)}`);
    const flags: string[] = [];
    for (const key of ['initial', 'insert', 'delete', 'modify'] as const) {
      const flag = sel[key];
      if (flag === undefined) continue;
      if (typeof flag !== 'boolean') throw new EncodeError(`select.${key} must be a boolean, got ${typeOf(flag)}`);
      flags.push(`"${key}":${flag ? 'true' : 'false'}`);
    }
    parts.push(`"select":{${flags.join(',')}}`);
  }
  return `{${parts.join(',')}}`;
}

function request(method: string, paramsText: string, id: RpcId): string {
  return `{"method":"${method}","params":[${paramsText}],"id":${encodeRpcId(id)}}`;
}

function withMethod<T>(method: string, build: () => T): T {
  try {
    return build();
  } catch (err) {
    throw err instanceof EncodeError ? err.withContext({ method }) : err;
  }
}

/** Text builders for every method; the encoders wrap them into Buffers. */
export const requestText = {
  transact: encodeTransactText,
  monitorCond: (id: RpcId, database: string, monitorId: unknown, requests: MonitorRequests): string =>
    withMethod('monitor_cond', () =>
      request('monitor_cond', `${stringField(database, 'database')},${encodeJson(monitorId)},${encodeMonitorRequests(requests)}`, id),
    ),
  monitorCondSince: (id: RpcId, database: string, monitorId: unknown, requests: MonitorRequests, lastTxnId: string): string =>
    withMethod('monitor_cond_since', () => {
      if (typeof lastTxnId !== 'string' || !UUID_PATTERN.test(lastTxnId)) throw new EncodeError(`last-txn-id must be a uuid, got ${show(lastTxnId)}`);
      return request(
        'monitor_cond_since',
        `${stringField(database, 'database')},${encodeJson(monitorId)},${encodeMonitorRequests(requests)},"${lastTxnId}"`,
        id,
      );
    }),
  monitorCancel: (id: RpcId, monitorId: unknown): string => withMethod('monitor_cancel', () => request('monitor_cancel', encodeJson(monitorId), id)),
  getSchema: (id: RpcId, database: string): string => withMethod('get_schema', () => request('get_schema', stringField(database, 'database'), id)),
  listDbs: (id: RpcId): string => request('list_dbs', '', id),
  echo: (id: RpcId, params: readonly unknown[] = []): string => encodeRequestText('echo', params, id),
  setDbChangeAware: (id: RpcId, aware: boolean): string =>
    withMethod('set_db_change_aware', () => {
      if (typeof aware !== 'boolean') throw new EncodeError(`aware must be a boolean, got ${typeOf(aware)}`);
      return request('set_db_change_aware', aware ? 'true' : 'false', id);
    }),
  lock: (id: RpcId, lockId: string): string => withMethod('lock', () => request('lock', stringField(lockId, 'lock id'), id)),
  steal: (id: RpcId, lockId: string): string => withMethod('steal', () => request('steal', stringField(lockId, 'lock id'), id)),
  unlock: (id: RpcId, lockId: string): string => withMethod('unlock', () => request('unlock', stringField(lockId, 'lock id'), id)),
};

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') {
    const ctor = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
    return ctor && ctor !== 'Object' ? ctor : 'object';
  }
  return typeof value;
}

function show(value: unknown): string {
  try {
    const text = typeof value === 'bigint' ? `${value}n` : JSON.stringify(value);
    if (text === undefined) return typeOf(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return typeOf(value);
  }
}

/** The TS implementation of OvsdbEncoder: text builders above, one Buffer.from per call. */
export class TsOvsdbEncoder implements OvsdbEncoder {
  readonly impl = 'ts' as const;

  request(method: string, params: readonly unknown[], id: RpcId): Buffer {
    return Buffer.from(encodeRequestText(method, params, id));
  }

  transact(id: RpcId, database: string, ops: readonly Operation[]): Buffer {
    return Buffer.from(encodeTransactText(id, database, ops));
  }

  transactBatch(items: readonly TransactItem[]): Buffer {
    if (!Array.isArray(items)) throw new EncodeError(`transactBatch needs an array, got ${typeOf(items)}`, { method: 'transact' });
    let out = '';
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as TransactItem;
      try {
        out += encodeTransactText(item.id, item.database, item.ops);
      } catch (err) {
        throw err instanceof EncodeError ? err.withContext({ batchIndex: i }) : err;
      }
    }
    return Buffer.from(out);
  }

  reply(id: RpcId, result: unknown): Buffer {
    return Buffer.from(encodeReplyText(id, result));
  }

  monitorCond(id: RpcId, database: string, monitorId: unknown, requests: MonitorRequests): Buffer {
    return Buffer.from(requestText.monitorCond(id, database, monitorId, requests));
  }

  monitorCondSince(id: RpcId, database: string, monitorId: unknown, requests: MonitorRequests, lastTxnId: string): Buffer {
    return Buffer.from(requestText.monitorCondSince(id, database, monitorId, requests, lastTxnId));
  }

  monitorCancel(id: RpcId, monitorId: unknown): Buffer {
    return Buffer.from(requestText.monitorCancel(id, monitorId));
  }

  getSchema(id: RpcId, database: string): Buffer {
    return Buffer.from(requestText.getSchema(id, database));
  }

  listDbs(id: RpcId): Buffer {
    return Buffer.from(requestText.listDbs(id));
  }

  echo(id: RpcId, params: readonly unknown[] = []): Buffer {
    return Buffer.from(requestText.echo(id, params));
  }

  setDbChangeAware(id: RpcId, aware: boolean): Buffer {
    return Buffer.from(requestText.setDbChangeAware(id, aware));
  }

  lock(id: RpcId, lockId: string): Buffer {
    return Buffer.from(requestText.lock(id, lockId));
  }

  steal(id: RpcId, lockId: string): Buffer {
    return Buffer.from(requestText.steal(id, lockId));
  }

  unlock(id: RpcId, lockId: string): Buffer {
    return Buffer.from(requestText.unlock(id, lockId));
  }
}
