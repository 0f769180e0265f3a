// Seeded random operations through the Rust encoder, the TS encoder and JSON.stringify (of the
// same request built with keys in canonical order): all three must give the same bytes. Some
// transactions carry what ovsdb-server cannot take (U+0000, lone surrogates, subnormal numbers);
// both encoders must then refuse them at the same place. Whether a transaction is refusable is
// decided here, independently of the encoders. A failure names its seed; rerun one with
// OVSDB_DIFF_SEED=<seed>.
import { describe, expect, it } from 'vitest';
import { createEncoder, EncodeError } from '../../src/ovsdb/encoder.ts';
import type { Atom, Operation, Row, RpcId, Value } from '../../src/ovsdb/protocol.ts';
import { mulberry32 as rng } from '../support/rng.ts';

const native = createEncoder('native');
const ts = createEncoder('ts');

/** Lone surrogates do not survive a UTF-8 round trip; U+0000 is refused on its own. */
function serverRefuses(s: string): boolean {
  return s.includes('\u0000') || Buffer.from(s, 'utf8').toString('utf8') !== s;
}

class Gen {
  readonly next: () => number;
  /** Chance per string piece / number of drawing something the server cannot take. */
  unsafeRate = 0;
  /** Set when something refusable was drawn since the last reset. */
  unsafe = false;
  constructor(seed: number) {
    this.next = rng(seed);
  }

  startTransaction(): void {
    this.unsafeRate = this.chance(0.15) ? 0.04 : 0;
    this.unsafe = false;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  list<T>(max: number, make: () => T): T[] {
    return Array.from({ length: this.int(max + 1) }, make);
  }

  awkwardString(): string {
    const pieces = [
      () => 'abcxyz-/.:'.charAt(this.int(10)),
      () => '"',
      () => '\\',
      () => String.fromCharCode(1 + this.int(0x1f)),
      () => '\u007f',
      () => this.pick(['\u2028', '\u2029']),
      () => this.pick(['😀', '𝄞', '🇩🇪']),
      () => this.pick(['é', 'ß', '中', '\u00a0', '\ufeff', '\uffff']),
      () => this.pick(['{', '}', '[', ']', ',', ':']),
      () => String.fromCharCode(0x80 + this.int(0xd800 - 0x80)),
    ];
    if (this.chance(0.2)) return this.pick(['', 'ovn-default', 'default/nginx-0', '00:00:00:AA:BB:CC 10.16.0.5']);
    const len = this.chance(0.05) ? 200 + this.int(400) : this.int(12);
    const unsafePieces = [
      () => '\u0000',
      () => String.fromCharCode(0xd800 + this.int(0x400)), // a high surrogate, lone unless a low one follows
      () => String.fromCharCode(0xdc00 + this.int(0x400)),
    ];
    let s = '';
    for (let i = 0; i < len; i++) s += this.chance(this.unsafeRate) ? this.pick(unsafePieces)() : this.pick(pieces)();
    if (serverRefuses(s)) this.unsafe = true;
    return s;
  }

  id(): string {
    const first = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_';
    const rest = `${first}0123456789`;
    let s = this.pick([...first]);
    for (let i = this.int(15); i > 0; i--) s += this.pick([...rest]);
    return s;
  }

  uuid(): string {
    const hex = () => '0123456789abcdefABCDEF'.charAt(this.int(22));
    const part = (n: number) => Array.from({ length: n }, hex).join('');
    return `${part(8)}-${part(4)}-${part(4)}-${part(4)}-${part(12)}`;
  }

  number(): number {
    if (this.chance(this.unsafeRate)) {
      this.unsafe = true;
      return this.pick([5e-324, -2.225073858507201e-308, 1e-310]);
    }
    return this.pick([
      () => this.int(100),
      () => -this.int(1e6),
      () => 2 ** 53 + this.int(1000) - 500,
      () => -(2 ** 63),
      () => 1e21 * (1 + this.int(9)),
      () => (this.next() - 0.5) * 10 ** (this.int(40) - 20),
      () => this.next(),
      () => this.pick([2.2250738585072014e-308, -0, 1.7976931348623157e308, 0.1 + 0.2, 1e-7, 123e-20, 2 ** 64]),
    ])();
  }

  atom(): Atom {
    switch (this.int(6)) {
      case 0:
      case 1:
        return this.awkwardString();
      case 2:
        return this.number();
      case 3:
        return this.chance(0.5);
      case 4:
        return ['uuid', this.uuid()];
      default:
        return ['named-uuid', this.id()];
    }
  }

  value(): Value {
    const r = this.int(5);
    if (r === 0) return ['set', this.list(4, () => this.atom())];
    if (r === 1) return ['map', this.list(4, () => [this.atom(), this.atom()] as [Atom, Atom])];
    return this.atom();
  }

  row(): Row {
    const row: Row = {};
    for (let i = this.int(6); i > 0; i--) row[this.id()] = this.value();
    return row;
  }

  where(): [string, '==', Value][] {
    const fns = ['<', '<=', '==', '!=', '>=', '>', 'includes', 'excludes'] as const;
    return this.list(3, () => [this.id(), this.pick(fns) as '==', this.value()]);
  }

  // Keys in canonical order, so JSON.stringify of these objects is the expected wire text.
  op(): Operation {
    const table = this.id();
    switch (this.int(10)) {
      case 0: {
        if (this.chance(0.3)) return { op: 'insert', table, row: this.row() };
        return { op: 'insert', table, 'uuid-name': this.id(), row: this.row() };
      }
      case 1: {
        if (this.chance(0.5)) return { op: 'select', table, where: this.where() };
        return { op: 'select', table, where: this.where(), columns: this.list(4, () => this.id()) };
      }
      case 2:
        return { op: 'update', table, where: this.where(), row: this.row() };
      case 3: {
        const mutators = ['+=', '-=', '*=', '/=', '%=', 'insert', 'delete'] as const;
        return { op: 'mutate', table, where: this.where(), mutations: this.list(3, () => [this.id(), this.pick(mutators), this.value()]) };
      }
      case 4:
        return { op: 'delete', table, where: this.where() };
      case 5: {
        const until = this.pick(['==', '!='] as const);
        const rows = this.list(2, () => this.row());
        const columns = this.list(3, () => this.id());
        if (this.chance(0.5)) return { op: 'wait', table, where: this.where(), columns, until, rows };
        return { op: 'wait', table, timeout: this.number(), where: this.where(), columns, until, rows } as unknown as Operation;
      }
      case 6:
        return { op: 'commit', durable: this.chance(0.5) };
      case 7:
        return { op: 'abort' };
      case 8:
        return { op: 'comment', comment: this.awkwardString() };
      default:
        return { op: 'assert', lock: this.awkwardString() };
    }
  }

  rpcId(): RpcId {
    const r = this.int(3);
    if (r === 0) return null;
    if (r === 1) return this.number();
    return this.awkwardString();
  }
}

/** A valid op made invalid in one place the encoders must both refuse. */
function spoil(g: Gen, ops: Operation[]): number {
  const at = g.int(ops.length);
  const bad = g.pick<(op: Operation) => Operation>([
    () => ({ op: 'insert', table: 'T', 'uuid-name': `${g.int(9)}x`, row: {} }),
    () => ({ op: 'insert', table: 'T', row: { c: ['named-uuid', 'bad-name'] } }),
    () => ({ op: 'delete', table: 'T', where: [['_uuid', '==', ['uuid', g.uuid().slice(1)]]] }),
    () => ({ op: 'insert', table: 'T', row: { c: ['set', [Number.NaN]] } }),
    () => ({ op: 'delete', table: `${g.id()}-x`, where: [] }),
    () => ({ op: 'insert', table: 'T', row: { 'bad col': 1 } }),
    () => ({ op: 'wait', table: 'T', where: [], columns: ['x y'], until: '==', rows: [] }),
    () => ({ op: 'select', table: 'T', where: [['c', 'like', 1]] }) as unknown as Operation,
  ])(ops[at] as Operation);
  ops[at] = bad;
  return at;
}

function expected(id: RpcId, database: string, ops: Operation[]): string {
  return JSON.stringify({ method: 'transact', params: [database, ...ops], id });
}

const fixedSeeds = Array.from({ length: 20 }, (_, i) => i + 1);
const envSeed = process.env.OVSDB_DIFF_SEED;
const seeds = envSeed ? [Number(envSeed)] : [...fixedSeeds, Date.now() % 1_000_000_007];

let refusedOverall = 0;

describe('encoder differential: Rust vs TS vs JSON.stringify', () => {
  it.each(seeds)('seed %i: 100 random transactions and a batch of them', (seed) => {
    const g = new Gen(seed);
    const items: { id: RpcId; database: string; ops: Operation[] }[] = [];
    let refused = 0;
    for (let i = 0; i < 100; i++) {
      g.startTransaction();
      const id = g.rpcId();
      const database = g.chance(0.8) ? 'OVN_Northbound' : g.awkwardString();
      const ops = g.list(6, () => g.op());
      if (g.unsafe) {
        refused++;
        const [fromTs, fromNative] = [ts, native].map((enc) => {
          try {
            enc.transact(id, database, ops);
          } catch (err) {
            return err;
          }
          return new Error('encoded without complaint');
        });
        expect(fromTs, `seed ${seed} transaction ${i}: TS must refuse`).toBeInstanceOf(EncodeError);
        expect(fromNative, `seed ${seed} transaction ${i}: Rust must refuse`).toBeInstanceOf(EncodeError);
        expect((fromNative as EncodeError).context, `seed ${seed} transaction ${i}: same place`).toEqual((fromTs as EncodeError).context);
        expect((fromNative as EncodeError).reason.replace(/ at index \d+/, ''), `seed ${seed} transaction ${i}`).toMatch(/U\+0000|lone surrogate|subnormal/);
        continue;
      }
      items.push({ id, database, ops });
      const want = expected(id, database, ops);
      const fromTs = ts.transact(id, database, ops).toString('utf8');
      const fromNative = native.transact(id, database, ops).toString('utf8');
      expect(fromTs, `seed ${seed} transaction ${i}: TS vs JSON.stringify`).toBe(want);
      expect(fromNative, `seed ${seed} transaction ${i}: Rust vs JSON.stringify`).toBe(want);
    }
    expect(refused, `seed ${seed}: most transactions should be encodable`).toBeLessThan(50);
    refusedOverall += refused;
    const wantBatch = Buffer.from(items.map((it) => expected(it.id, it.database, it.ops)).join(''));
    expect(ts.transactBatch(items).equals(wantBatch), `seed ${seed}: TS batch`).toBe(true);
    expect(native.transactBatch(items).equals(wantBatch), `seed ${seed}: Rust batch`).toBe(true);
  });

  it.each(seeds)('seed %i: both refuse the same spoiled op at the same place', (seed) => {
    const g = new Gen(seed ^ 0x5eed);
    for (let i = 0; i < 50; i++) {
      const ops = Array.from({ length: 1 + g.int(5) }, () => g.op());
      const at = spoil(g, ops);
      const errors = [ts, native].map((enc) => {
        try {
          enc.transactBatch([{ id: 1, database: 'db', ops: [] }, { id: 2, database: 'db', ops }]);
        } catch (err) {
          return err;
        }
        return undefined;
      });
      for (const err of errors) {
        expect(err, `seed ${seed} case ${i}: expected an EncodeError`).toBeInstanceOf(EncodeError);
        expect((err as EncodeError).context, `seed ${seed} case ${i}`).toMatchObject({ batchIndex: 1, opIndex: at });
      }
    }
  });

  it.each(seeds)('seed %i: generic params and replies match JSON.stringify', (seed) => {
    const g = new Gen(seed ^ 0xbeef);
    const json = (depth: number): unknown => {
      const r = g.int(depth > 3 ? 4 : 6);
      if (r === 0) return g.awkwardString();
      if (r === 1) return g.number();
      if (r === 2) return g.pick([true, false, null]);
      if (r === 3) return g.atom();
      if (r === 4) return g.list(4, () => json(depth + 1));
      const obj: Record<string, unknown> = {};
      for (let i = g.int(4); i > 0; i--) obj[g.awkwardString()] = json(depth + 1);
      return obj;
    };
    for (let i = 0; i < 50; i++) {
      g.startTransaction();
      const params = g.list(4, () => json(0));
      const id = g.rpcId();
      if (g.unsafe) {
        for (const enc of [ts, native]) expect(() => enc.echo(id, params), `seed ${seed} case ${i}`).toThrow(EncodeError);
        continue;
      }
      for (const enc of [ts, native]) {
        expect(enc.echo(id, params).toString(), `seed ${seed} case ${i}`).toBe(JSON.stringify({ method: 'echo', params, id }));
        expect(enc.reply(id, params).toString(), `seed ${seed} case ${i}`).toBe(JSON.stringify({ id, result: params, error: null }));
      }
    }
  });

  it('drew refusable transactions in the seeded runs above', () => {
    expect(refusedOverall).toBeGreaterThan(envSeed ? -1 : 20);
  });
});
