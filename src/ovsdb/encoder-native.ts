// The Rust encoder behind N-API. Reading a JS object from Rust costs one N-API call per property,
// so the ops cross as a flat tape instead: one Float64Array of tags, lengths and numbers, plus
// one string holding every string back to back (read in Rust as UTF-16, so lone surrogates
// survive). One call encodes a whole transaction or batch. Rust writes into a reusable scratch
// Buffer and JS copies the bytes out: a Buffer created by N-API costs several µs more (measured in
// bench/ovsdb-encode.ts), as every such Buffer is a fresh backing store outside Node's pool.
// The tape layout is documented in crates/binding/src/ovsdb.rs, which reads it.
import { EncodeError } from './encoder-error.ts';
import type { EncodeErrorContext } from './encoder-error.ts';
import type { OvsdbEncoder } from './encoder.ts';
import { TsOvsdbEncoder, isPlainObject } from './encoder-ts.ts';
import type { MonitorRequests, TransactItem } from './encoder-ts.ts';
import type { Operation, Row, RpcId } from './protocol.ts';

type EncodeInto = (tape: Float64Array, tapeLen: number, strings: string, out: Buffer) => number;
type TakeEncoded = (out: Buffer) => number;

const ENCODE_INTO = 'ovsdbEncodeTransactionsInto';
const TAKE_ENCODED = 'ovsdbTakeEncoded';
const SCRATCH_BYTES = 64 * 1024;

export function hasNativeEncoder(binding: Record<string, unknown>): boolean {
  return typeof binding[ENCODE_INTO] === 'function' && typeof binding[TAKE_ENCODED] === 'function';
}

const OP_CODES: Readonly<Record<string, number>> = {
  insert: 0, select: 1, update: 2, mutate: 3, delete: 4, wait: 5, commit: 6, abort: 7, comment: 8, assert: 9,
};
const FUNCTION_CODES: Readonly<Record<string, number>> = {
  '<': 0, '<=': 1, '==': 2, '!=': 3, '>=': 4, '>': 5, includes: 6, excludes: 7,
};
const MUTATOR_CODES: Readonly<Record<string, number>> = {
  '+=': 0, '-=': 1, '*=': 2, '/=': 3, '%=': 4, insert: 5, delete: 6,
};
const VALUE_STRING = 0;
const VALUE_NUMBER = 1;
const VALUE_FALSE = 2;
const VALUE_TRUE = 3;
const VALUE_UUID = 4;
const VALUE_NAMED_UUID = 5;
const VALUE_SET = 6;
const VALUE_MAP = 7;
const ID_NULL = 0;
const ID_NUMBER = 1;
const ID_STRING = 2;

/** Flattens ops into the tape. Structural type checks happen here; name/uuid rules in Rust. */
export class TapeWriter {
  tape = new Float64Array(1024);
  len = 0;
  strings = '';

  reset(): void {
    this.len = 0;
    this.strings = '';
  }

  word(n: number): void {
    if (this.len === this.tape.length) {
      const grown = new Float64Array(this.tape.length * 2);
      grown.set(this.tape);
      this.tape = grown;
    }
    this.tape[this.len++] = n;
  }

  string(s: unknown, what: string): void {
    if (typeof s !== 'string') throw new EncodeError(`${what} must be a string, got ${kind(s)}`);
    this.word(s.length);
    this.strings += s;
  }

  transaction(id: RpcId, database: string, ops: readonly Operation[]): void {
    if (id === null) this.word(ID_NULL);
    else if (typeof id === 'number') {
      this.word(ID_NUMBER);
      this.word(id);
    } else if (typeof id === 'string') {
      this.word(ID_STRING);
      this.string(id, 'id');
    } else throw new EncodeError(`id must be a number, a string or null, got ${kind(id)}`, { method: 'transact' });
    this.string(database, 'database');
    if (!Array.isArray(ops)) throw new EncodeError(`ops must be an array, got ${kind(ops)}`, { method: 'transact' });
    this.word(ops.length);
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as Operation;
      try {
        this.operation(op);
      } catch (err) {
        if (!(err instanceof EncodeError)) throw err;
        const table = isPlainObject(op) && typeof op.table === 'string' ? op.table : undefined;
        throw err.withContext(table === undefined ? { method: 'transact', opIndex: i } : { method: 'transact', opIndex: i, table });
      }
    }
  }

  operation(op: Operation): void {
    if (!isPlainObject(op)) throw new EncodeError(`operation must be an object, got ${kind(op)}`);
    const code = typeof op.op === 'string' ? OP_CODES[op.op] : undefined;
    if (code === undefined) throw new EncodeError(`unknown op ${JSON.stringify(op.op) ?? kind(op.op)}`);
    this.word(code);
    switch (op.op) {
      case 'insert': {
        this.string(op.table, 'table');
        const name = op['uuid-name'];
        if (name === undefined) this.word(-1);
        else this.string(name, 'uuid-name');
        this.row(op.row);
        return;
      }
      case 'select':
        this.string(op.table, 'table');
        this.conditions(op.where);
        if (op.columns === undefined) this.word(-1);
        else this.columns(op.columns);
        return;
      case 'update':
        this.string(op.table, 'table');
        this.conditions(op.where);
        this.row(op.row);
        return;
      case 'mutate':
        this.string(op.table, 'table');
        this.conditions(op.where);
        this.triples(op.mutations, MUTATOR_CODES, 'mutator', 'mutations');
        return;
      case 'delete':
        this.string(op.table, 'table');
        this.conditions(op.where);
        return;
      case 'wait': {
        this.string(op.table, 'table');
        if (op.timeout === undefined) this.word(0);
        else if (typeof op.timeout !== 'number') throw new EncodeError(`timeout must be a number, got ${kind(op.timeout)}`);
        else {
          this.word(1);
          this.word(op.timeout);
        }
        if (op.until !== '==' && op.until !== '!=') throw new EncodeError(`until must be "==" or "!=", got ${JSON.stringify(op.until) ?? kind(op.until)}`);
        this.conditions(op.where);
        this.columns(op.columns);
        this.word(op.until === '==' ? 0 : 1);
        if (!Array.isArray(op.rows)) throw new EncodeError(`rows must be an array, got ${kind(op.rows)}`);
        this.word(op.rows.length);
        for (const row of op.rows) this.row(row);
        return;
      }
      case 'commit':
        if (typeof op.durable !== 'boolean') throw new EncodeError(`durable must be a boolean, got ${kind(op.durable)}`);
        this.word(op.durable ? 1 : 0);
        return;
      case 'abort':
        return;
      case 'comment':
        this.string(op.comment, 'comment');
        return;
      case 'assert':
        this.string(op.lock, 'lock');
        return;
    }
  }

  row(row: Row): void {
    if (!isPlainObject(row)) throw new EncodeError(`row must be an object, got ${kind(row)}`);
    const at = this.len;
    this.word(0);
    let n = 0;
    for (const column in row) {
      if (!Object.hasOwn(row, column)) continue;
      this.string(column, 'column name');
      this.value(row[column]);
      n++;
    }
    this.tape[at] = n;
  }

  columns(columns: unknown): void {
    if (!Array.isArray(columns)) throw new EncodeError(`columns must be an array, got ${kind(columns)}`);
    this.word(columns.length);
    for (const c of columns) this.string(c, 'column name');
  }

  conditions(where: unknown): void {
    this.triples(where, FUNCTION_CODES, 'condition function', 'where');
  }

  triples(list: unknown, codes: Readonly<Record<string, number>>, what: string, field: string): void {
    if (!Array.isArray(list)) throw new EncodeError(`${field} must be an array, got ${kind(list)}`);
    this.word(list.length);
    for (const triple of list as unknown[]) {
      if (!Array.isArray(triple) || triple.length !== 3) throw new EncodeError(`expected [column, ${what}, value], got ${kind(triple)}`);
      const fn: unknown = triple[1];
      const code = typeof fn === 'string' && Object.hasOwn(codes, fn) ? codes[fn] : undefined;
      if (code === undefined) throw new EncodeError(`unknown ${what} ${JSON.stringify(fn) ?? kind(fn)}`);
      this.string(triple[0], 'column name');
      this.word(code);
      this.value(triple[2]);
    }
  }

  value(value: unknown): void {
    if (Array.isArray(value) && value.length === 2) {
      const tag: unknown = value[0];
      const body: unknown = value[1];
      if (tag === 'set') {
        if (!Array.isArray(body)) throw new EncodeError(`set elements must be an array, got ${kind(body)}`);
        this.word(VALUE_SET);
        this.word(body.length);
        for (const atom of body as unknown[]) this.atom(atom);
        return;
      }
      if (tag === 'map') {
        if (!Array.isArray(body)) throw new EncodeError(`map pairs must be an array, got ${kind(body)}`);
        this.word(VALUE_MAP);
        this.word(body.length);
        for (let i = 0; i < body.length; i++) {
          const pair: unknown = body[i];
          if (!Array.isArray(pair) || pair.length !== 2) throw new EncodeError(`map pair ${i} must be [key, value], got ${kind(pair)}`);
          this.atom(pair[0]);
          this.atom(pair[1]);
        }
        return;
      }
    }
    this.atom(value);
  }

  atom(atom: unknown): void {
    switch (typeof atom) {
      case 'string':
        this.word(VALUE_STRING);
        this.word(atom.length);
        this.strings += atom;
        return;
      case 'number':
        if (!Number.isFinite(atom)) throw new EncodeError(`atom must be finite, got ${String(atom)}`);
        this.word(VALUE_NUMBER);
        this.word(atom);
        return;
      case 'boolean':
        this.word(atom ? VALUE_TRUE : VALUE_FALSE);
        return;
      case 'object':
        if (Array.isArray(atom) && atom.length === 2 && typeof atom[1] === 'string') {
          if (atom[0] === 'uuid') {
            this.word(VALUE_UUID);
            this.string(atom[1], 'uuid');
            return;
          }
          if (atom[0] === 'named-uuid') {
            this.word(VALUE_NAMED_UUID);
            this.string(atom[1], 'named-uuid');
            return;
          }
        }
    }
    throw new EncodeError(`not an atom: ${kind(atom)}`);
  }
}

/** Transactions go through Rust; the other methods (rare, small) share the TS text builders. */
export class NativeOvsdbEncoder implements OvsdbEncoder {
  readonly impl = 'native' as const;
  readonly #encodeInto: EncodeInto;
  readonly #takeEncoded: TakeEncoded;
  readonly #writer = new TapeWriter();
  readonly #ts = new TsOvsdbEncoder();
  readonly #scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);

  constructor(binding: Record<string, unknown>) {
    if (!hasNativeEncoder(binding)) throw new Error(`ovsdb-encoder: the addon has no ${ENCODE_INTO}/${TAKE_ENCODED}`);
    this.#encodeInto = binding[ENCODE_INTO] as EncodeInto;
    this.#takeEncoded = binding[TAKE_ENCODED] as TakeEncoded;
  }

  request(method: string, params: readonly unknown[], id: RpcId): Buffer {
    return this.#ts.request(method, params, id);
  }

  reply(id: RpcId, result: unknown): Buffer {
    return this.#ts.reply(id, result);
  }

  monitorCond(id: RpcId, database: string, monitorId: unknown, requests: MonitorRequests): Buffer {
    return this.#ts.monitorCond(id, database, monitorId, requests);
  }

  monitorCondSince(id: RpcId, database: string, monitorId: unknown, requests: MonitorRequests, lastTxnId: string): Buffer {
    return this.#ts.monitorCondSince(id, database, monitorId, requests, lastTxnId);
  }

  monitorCancel(id: RpcId, monitorId: unknown): Buffer {
    return this.#ts.monitorCancel(id, monitorId);
  }

  getSchema(id: RpcId, database: string): Buffer {
    return this.#ts.getSchema(id, database);
  }

  listDbs(id: RpcId): Buffer {
    return this.#ts.listDbs(id);
  }

  echo(id: RpcId, params: readonly unknown[] = []): Buffer {
    return this.#ts.echo(id, params);
  }

  setDbChangeAware(id: RpcId, aware: boolean): Buffer {
    return this.#ts.setDbChangeAware(id, aware);
  }

  lock(id: RpcId, lockId: string): Buffer {
    return this.#ts.lock(id, lockId);
  }

  steal(id: RpcId, lockId: string): Buffer {
    return this.#ts.steal(id, lockId);
  }

  unlock(id: RpcId, lockId: string): Buffer {
    return this.#ts.unlock(id, lockId);
  }

  transact(id: RpcId, database: string, ops: readonly Operation[]): Buffer {
    const w = this.#writer;
    w.reset();
    w.word(1);
    w.transaction(id, database, ops);
    return this.#call(false);
  }

  transactBatch(items: readonly TransactItem[]): Buffer {
    if (!Array.isArray(items)) throw new EncodeError(`transactBatch needs an array, got ${kind(items)}`, { method: 'transact' });
    const w = this.#writer;
    w.reset();
    w.word(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as TransactItem;
      try {
        w.transaction(item.id, item.database, item.ops);
      } catch (err) {
        throw err instanceof EncodeError ? err.withContext({ batchIndex: i }) : err;
      }
    }
    return this.#call(true);
  }

  #call(batch: boolean): Buffer {
    const w = this.#writer;
    try {
      const n = this.#encodeInto(w.tape, w.len, w.strings, this.#scratch);
      const out = Buffer.allocUnsafe(n);
      if (n <= this.#scratch.length) this.#scratch.copy(out, 0, 0, n);
      else this.#takeEncoded(out);
      return out;
    } catch (err) {
      throw fromNativeError(err, batch);
    } finally {
      w.strings = '';
    }
  }
}

/** Rust reports EncodeError with a JSON message {reason, batchIndex?, opIndex?, table?}. */
function fromNativeError(err: unknown, batch: boolean): unknown {
  if (!(err instanceof Error) || (err as { code?: unknown }).code !== 'EncodeError') return err;
  try {
    const parsed = JSON.parse(err.message) as { reason: string } & EncodeErrorContext;
    const ctx: EncodeErrorContext = { method: 'transact' };
    if (batch && parsed.batchIndex !== undefined) ctx.batchIndex = parsed.batchIndex;
    if (parsed.opIndex !== undefined) ctx.opIndex = parsed.opIndex;
    if (parsed.table !== undefined) ctx.table = parsed.table;
    return new EncodeError(parsed.reason, ctx);
  } catch {
    return new EncodeError(err.message, { method: 'transact' });
  }
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
