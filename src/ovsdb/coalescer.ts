// Merges transactions submitted concurrently into one `transact`, because the server's cost is
// per transaction far more than per operation (about 10k single-LSP transactions/s against
// 55-70k LSPs/s when batched, see docs/ovsdb-nb.md).
//
// Semantics: a merged transaction is equivalent to running its members one after another inside
// one transaction, so every member sees the effects of the members before it. Each caller gets
// the slice of results for its own operations. OVSDB transactions are atomic, so when a merged
// transaction fails nothing of it was applied and members can be retried safely:
// - an error on an operation belongs to the member owning that operation; that member fails with
//   it and the other members are resubmitted together without it;
// - a commit-time error (one extra result past the last operation, e.g. a duplicate name) names
//   no member, so the group is split in halves and each half is resubmitted, down to single
//   members, whose error is then their own.
// Transport failures (timeout, lost connection) are not retried: the outcome is unknown, so
// every member of that transaction gets the error.
//
// Members may also hand over "tail" set-inserts (see submit), fused across members into one
// mutate per target row and column at the end of the merged transaction.
import { OvsdbError } from './errors.ts';
import type { Atom, Condition, MutateOp, Mutation, Operation, OperationResult, Row, Value } from './protocol.ts';

export type TransactFn = (ops: Operation[]) => Promise<OperationResult[]>;

export interface CoalescerOptions {
  /**
   * A batch closes when it holds this many operations. Default 256: the server's per-transaction
   * cost is already amortised at ~100 ports, and smaller batches let several be in flight, so the
   * server works on one while we process the results of another.
   */
  maxOps?: number;
  /** A batch closes this long after its first member arrived; 0 = at the next event-loop turn. Default 0. */
  maxDelayMs?: number;
  /** Merged transactions in flight at once; further batches keep filling meanwhile. Default 4. */
  maxInFlight?: number;
  /**
   * `refused`: `err` is the server refusing the transaction (so nothing was applied and a retry
   * is safe); `opIndex`: the op the server blamed, or undefined for a commit-time error.
   */
  classifyError?: (err: unknown, opCount: number) => { refused: boolean; opIndex: number | undefined };
}

export interface CoalescerStats {
  /** transact calls made, including retries */
  transactions: number;
  /** members (caller transactions) accepted */
  members: number;
  /** operations sent, including retries */
  operations: number;
  /** merged transactions that failed and were split or resubmitted */
  retriedBatches: number;
  largestBatchMembers: number;
}

export class CoalescerError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'CoalescerError';
    this.code = code;
  }
}

interface Member {
  ops: Operation[];
  /** set-insert mutations that may run at the end of the transaction, fused with other members' */
  tail: MutateOp[];
  resolve: (results: OperationResult[]) => void;
  reject: (err: unknown) => void;
  /** uuid-names this member declares (for clash detection); empty for most members */
  names: string[];
}

let renameSeq = 0;

export class TransactionCoalescer {
  private readonly transact: TransactFn;
  private readonly maxOps: number;
  private readonly maxDelayMs: number;
  private readonly maxInFlight: number;
  private readonly classify: NonNullable<CoalescerOptions['classifyError']>;
  private pending: Member[] = [];
  private sealed: Member[][] = [];
  private pendingOps = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private inFlight = 0;
  private closed = false;
  readonly stats: CoalescerStats = { transactions: 0, members: 0, operations: 0, retriedBatches: 0, largestBatchMembers: 0 };

  constructor(transact: TransactFn, opts: CoalescerOptions = {}) {
    this.transact = transact;
    this.maxOps = positiveInt(opts.maxOps ?? 256, 'maxOps');
    this.maxDelayMs = opts.maxDelayMs ?? 0;
    if (!(this.maxDelayMs >= 0)) throw new CoalescerError('COALESCER_BAD_OPTION', `maxDelayMs must be ≥ 0 (got ${opts.maxDelayMs})`);
    this.maxInFlight = positiveInt(opts.maxInFlight ?? 4, 'maxInFlight');
    this.classify = opts.classifyError ?? defaultClassify;
  }

  /**
   * Queues `ops` as one transaction of the caller; resolves to the results of exactly those ops
   * (followed by one result per `tail` op).
   *
   * `tail`: mutations that insert into a set column (e.g. a new port into Logical_Switch.ports),
   * which the caller allows to run after everything else in the transaction. The tails of all
   * members that target the same row and column are fused into one mutate: the server copies a
   * switch's port set once per mutate, so 200 ports joining one switch cost one copy, not 200.
   */
  submit(ops: Operation[], tail: MutateOp[] = []): Promise<OperationResult[]> {
    if (this.closed) return Promise.reject(new CoalescerError('COALESCER_CLOSED', 'transaction submitted after the coalescer was closed'));
    for (const t of tail) {
      const m = t.mutations;
      if (t.op !== 'mutate' || m.length !== 1 || m[0]![1] !== 'insert' || (Array.isArray(m[0]![2]) && m[0]![2][0] === 'map')) {
        return Promise.reject(new CoalescerError('COALESCER_BAD_TAIL', `a tail op must be a mutate with one set "insert" mutation (got ${JSON.stringify(t)})`));
      }
    }
    const size = ops.length + tail.length;
    if (size === 0) return Promise.resolve([]);
    this.stats.members++;
    return new Promise((resolve, reject) => {
      const member: Member = { ops, tail, resolve, reject, names: declaredNames(ops) };
      if (mustRunAlone(ops) || size >= this.maxOps) {
        this.sealed.push([member]);
        this.pump();
        return;
      }
      if (this.pendingOps + size > this.maxOps) this.seal();
      this.pending.push(member);
      this.pendingOps += size;
      if (this.pendingOps >= this.maxOps) this.seal();
      this.pump();
      if (this.pending.length > 0) this.schedule();
    });
  }

  /** Closes the open batch now; it is sent as soon as an in-flight slot is free. */
  flush(): void {
    this.cancelTimer();
    this.seal();
    this.pump();
  }

  /** Rejects what has not been sent yet; transactions already sent complete normally. */
  close(): void {
    this.closed = true;
    this.cancelTimer();
    const dropped = [...this.sealed.flat(), ...this.pending];
    this.sealed = [];
    this.pending = [];
    this.pendingOps = 0;
    for (const m of dropped) m.reject(new CoalescerError('COALESCER_CLOSED', 'coalescer closed before the transaction was sent'));
  }

  private seal(): void {
    if (this.pending.length === 0) return;
    this.sealed.push(this.pending);
    this.pending = [];
    this.pendingOps = 0;
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.sealed.length > 0) void this.run(this.sealed.shift()!);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = this.maxDelayMs === 0 ? setImmediate(() => this.onTimer()) : setTimeout(() => this.onTimer(), this.maxDelayMs);
  }

  // The window closed. With every slot busy the open batch keeps filling (up to maxOps) and goes
  // out when a slot frees: under load batches grow by themselves.
  private onTimer(): void {
    this.timer = undefined;
    if (this.inFlight >= this.maxInFlight) return;
    this.seal();
    this.pump();
  }

  private cancelTimer(): void {
    if (!this.timer) return;
    if (this.maxDelayMs === 0) clearImmediate(this.timer as NodeJS.Immediate);
    else clearTimeout(this.timer as NodeJS.Timeout);
    this.timer = undefined;
  }

  private async run(batch: Member[]): Promise<void> {
    this.inFlight++;
    try {
      await this.execute(batch);
    } finally {
      this.inFlight--;
      if (this.sealed.length === 0 && !this.timer) this.seal();
      this.pump();
    }
  }

  private async execute(batch: Member[]): Promise<void> {
    if (batch.length === 0) return;
    const { ops, offsets, tails } = merge(batch);
    this.stats.transactions++;
    this.stats.operations += ops.length;
    if (batch.length > this.stats.largestBatchMembers) this.stats.largestBatchMembers = batch.length;
    let results: OperationResult[];
    try {
      results = await this.transact(ops);
    } catch (err) {
      await this.onFailure(batch, offsets, ops.length, err);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const own = results.slice(offsets[i], offsets[i + 1]);
      for (const j of tails[i]!) own.push(results[j] ?? null);
      batch[i]!.resolve(own);
    }
  }

  private async onFailure(batch: Member[], offsets: number[], opCount: number, err: unknown): Promise<void> {
    if (batch.length === 1) {
      batch[0]!.reject(err);
      return;
    }
    const { refused, opIndex } = this.classify(err, opCount);
    if (!refused) {
      for (const m of batch) m.reject(err);
      return;
    }
    this.stats.retriedBatches++;
    if (opIndex !== undefined && opIndex >= 0 && opIndex < offsets[offsets.length - 1]!) {
      const blamed = memberAt(offsets, opIndex);
      // The blamed member ran after the ones before it, exactly as it would have standalone
      // right after them, so its error stands; the rest go again without it.
      const rest = batch.filter((_, i) => i !== blamed);
      batch[blamed]!.reject(rebaseError(err, offsets[blamed]!, offsets[blamed + 1]!));
      await this.execute(rest);
      return;
    }
    const half = batch.length >> 1;
    await Promise.all([this.execute(batch.slice(0, half)), this.execute(batch.slice(half))]);
  }
}

function positiveInt(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1) throw new CoalescerError('COALESCER_BAD_OPTION', `${what} must be a positive integer (got ${n})`);
  return n;
}

/**
 * Any OvsdbError is the server (or the schema guard) refusing the whole transaction, so nothing
 * was applied; only an error on an operation (not at commit) blames one op.
 */
function defaultClassify(err: unknown, opCount: number): { refused: boolean; opIndex: number | undefined } {
  if (!(err instanceof OvsdbError)) return { refused: false, opIndex: undefined };
  const blamed = (err.stage === 'transact' || err.stage === 'schema') && err.opIndex !== undefined && err.opIndex < opCount ? err.opIndex : undefined;
  return { refused: true, opIndex: blamed };
}

/** An error blamed on merged op i is re-expressed relative to the member's own ops and results. */
function rebaseError(err: unknown, start: number, end: number): unknown {
  if (!(err instanceof OvsdbError) || err.opIndex === undefined) return err;
  const rebased = new OvsdbError({
    code: err.code,
    stage: err.stage,
    database: err.database,
    table: err.table,
    opIndex: err.opIndex - start,
    details: err.details,
    method: err.method,
    results: err.results?.slice(start, end),
  });
  rebased.cause = err;
  return rebased;
}

function memberAt(offsets: number[], opIndex: number): number {
  let lo = 0;
  let hi = offsets.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid]! <= opIndex) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Ops that would change the fate of everyone in a merged transaction run on their own. */
function mustRunAlone(ops: Operation[]): boolean {
  for (const op of ops) {
    if (op.op === 'abort' || op.op === 'commit') return true;
    if (op.op === 'wait' && op.timeout !== undefined && op.timeout > 0) return true;
  }
  return false;
}

function declaredNames(ops: Operation[]): string[] {
  let names: string[] | undefined;
  for (const op of ops) if (op.op === 'insert' && op['uuid-name'] !== undefined) (names ??= []).push(op['uuid-name']);
  return names ?? [];
}

function merge(batch: Member[]): { ops: Operation[]; offsets: number[]; tails: number[][] } {
  const offsets: number[] = [0];
  const ops: Operation[] = [];
  const used = new Set<string>();
  const fused = new Map<string, { op: MutateOp; atoms: Atom[] }>();
  const memberTailKeys: string[][] = [];
  for (const m of batch) {
    let memberOps = m.ops;
    let tail = m.tail;
    if (m.names.some((n) => used.has(n))) {
      const prefix = `c${++renameSeq}_`;
      memberOps = renameNamedUuids(m.ops, prefix);
      if (tail.length > 0) tail = renameNamedUuids(tail, prefix) as MutateOp[];
    }
    for (const n of declaredNamesOf(memberOps, m)) used.add(n);
    for (const op of memberOps) ops.push(op);
    offsets.push(ops.length);
    const keys: string[] = [];
    for (const t of tail) {
      const [column, , value] = t.mutations[0]!;
      const key = tailKey(t.table, column, t.where);
      let f = fused.get(key);
      if (!f) fused.set(key, (f = { op: t, atoms: [] }));
      if (Array.isArray(value) && value[0] === 'set') for (const a of value[1] as Atom[]) f.atoms.push(a);
      else f.atoms.push(value as Atom);
      keys.push(key);
    }
    memberTailKeys.push(keys);
  }
  const indexOfKey = new Map<string, number>();
  for (const [key, f] of fused) {
    const [column] = f.op.mutations[0]!;
    indexOfKey.set(key, ops.length);
    ops.push({ op: 'mutate', table: f.op.table, where: f.op.where, mutations: [[column, 'insert', ['set', f.atoms]]] });
  }
  return { ops, offsets, tails: memberTailKeys.map((keys) => keys.map((k) => indexOfKey.get(k)!)) };
}

/** Fusion key: table, column and target row; the common `_uuid == [uuid]` target avoids JSON. */
function tailKey(table: string, column: string, where: Condition[]): string {
  if (where.length === 1) {
    const [col, fn, v] = where[0]!;
    if (col === '_uuid' && fn === '==' && Array.isArray(v) && v[0] === 'uuid') return `${table}\u0000${column}\u0000u:${v[1] as string}`;
  }
  return `${table}\u0000${column}\u0000${JSON.stringify(where)}`;
}

function declaredNamesOf(ops: Operation[], m: Member): string[] {
  return ops === m.ops ? m.names : declaredNames(ops);
}

/** Copies `ops` with every uuid-name and named-uuid reference prefixed, so members cannot clash. */
export function renameNamedUuids(ops: Operation[], prefix: string): Operation[] {
  const renameValue = (v: Value): Value => {
    if (!Array.isArray(v)) return v;
    if (v[0] === 'named-uuid') return ['named-uuid', prefix + (v[1] as string)];
    if (v[0] === 'set') return ['set', (v[1] as Atom[]).map((a) => renameValue(a) as Atom)];
    if (v[0] === 'map') return ['map', (v[1] as [Atom, Atom][]).map(([k, x]) => [renameValue(k) as Atom, renameValue(x) as Atom])];
    return v;
  };
  const renameRow = (row: Row): Row => {
    const out: Row = {};
    for (const [k, v] of Object.entries(row)) out[k] = renameValue(v);
    return out;
  };
  const renameWhere = (where: Condition[]): Condition[] => where.map(([c, f, v]) => [c, f, renameValue(v)]);
  const renameMutations = (ms: Mutation[]): Mutation[] => ms.map(([c, m, v]) => [c, m, renameValue(v)]);
  return ops.map((op): Operation => {
    switch (op.op) {
      case 'insert':
        return { ...op, row: renameRow(op.row), ...(op['uuid-name'] !== undefined ? { 'uuid-name': prefix + op['uuid-name'] } : {}) };
      case 'update':
        return { ...op, where: renameWhere(op.where), row: renameRow(op.row) };
      case 'mutate':
        return { ...op, where: renameWhere(op.where), mutations: renameMutations(op.mutations) };
      case 'select':
      case 'delete':
        return { ...op, where: renameWhere(op.where) };
      case 'wait':
        return { ...op, where: renameWhere(op.where), rows: op.rows.map(renameRow) };
      default:
        return op;
    }
  });
}
