// Per-address sets for a pool's free and released addresses, indexed by offset from the first
// usable address of the family.
// - DenseSet: a hierarchical bitmap (32-bit words, each summary level has one bit per word of
//   the level below), so the lowest set bit at or after any position is a few word scans.
//   Used when the family has at most 2^24 usable addresses (IPv4 /8 and narrower).
// - SparseSet: for huge families (IPv6 /64 ...). The set is kept as "base ranges minus holes
//   plus extras", so a freshly built free set costs nothing per address and memory grows only
//   with the addresses that were taken or given back. Indexes are bigints.
import type { Ranges } from './ranges.ts';

export type Idx = number | bigint;

export interface IdxSet {
  isEmpty(): boolean;
  has(i: Idx): boolean;
  /** adds i; returns false if it was already present */
  add(i: Idx): boolean;
  /** removes i; returns false if it was absent */
  delete(i: Idx): boolean;
  /** the lowest member >= from, or undefined */
  lowestAtLeast(from: Idx): Idx | undefined;
  /** moves every member of `other` (disjoint from this set) into this set */
  absorb(other: IdxSet): void;
  /** a new empty set of the same kind and span */
  emptyLike(): IdxSet;
}

export const DENSE_LIMIT = 1 << 24;

function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

export class DenseSet implements IdxSet {
  /** the set covers offsets lo .. lo+bits-1 (a named pool spans only its own members) */
  private readonly lo: number;
  private readonly bits: number;
  /** levels[0] holds the members; levels[k] has one bit per non-zero word of levels[k-1] */
  private levels: Uint32Array[] | undefined;
  private count = 0;

  constructor(bits: number, lo = 0) {
    this.bits = bits;
    this.lo = lo;
  }

  emptyLike(): DenseSet {
    return new DenseSet(this.bits, this.lo);
  }

  private ensure(): Uint32Array[] {
    if (this.levels) return this.levels;
    const levels: Uint32Array[] = [];
    let words = Math.max(1, Math.ceil(this.bits / 32));
    for (;;) {
      levels.push(new Uint32Array(words));
      if (words === 1) break;
      words = Math.ceil(words / 32);
    }
    this.levels = levels;
    return levels;
  }

  isEmpty(): boolean {
    return this.count === 0;
  }

  get size(): number {
    return this.count;
  }

  has(i: Idx): boolean {
    const n = (i as number) - this.lo;
    if (!this.levels || n < 0 || n >= this.bits) return false;
    return (this.levels[0]![n >>> 5]! & (1 << (n & 31))) !== 0;
  }

  add(i: Idx): boolean {
    const levels = this.ensure();
    let n = (i as number) - this.lo;
    if (n < 0 || n >= this.bits) throw new Error(`DenseSet.add: offset ${i as number} outside ${this.lo}+${this.bits}`);
    const words = levels[0]!;
    const w = n >>> 5;
    const mask = 1 << (n & 31);
    const old = words[w]!;
    if ((old & mask) !== 0) return false;
    words[w] = old | mask;
    this.count++;
    if (old !== 0) return true;
    n = w;
    for (let k = 1; k < levels.length; k++) {
      const lv = levels[k]!;
      const word = n >>> 5;
      const prev = lv[word]!;
      lv[word] = prev | (1 << (n & 31));
      if (prev !== 0) break;
      n = word;
    }
    return true;
  }

  delete(i: Idx): boolean {
    const levels = this.levels;
    let n = (i as number) - this.lo;
    if (!levels || n < 0 || n >= this.bits) return false;
    const words = levels[0]!;
    const w = n >>> 5;
    const mask = 1 << (n & 31);
    const old = words[w]!;
    if ((old & mask) === 0) return false;
    const now = old & ~mask;
    words[w] = now;
    this.count--;
    if (now !== 0) return true;
    n = w;
    for (let k = 1; k < levels.length; k++) {
      const lv = levels[k]!;
      const word = n >>> 5;
      const left = lv[word]! & ~(1 << (n & 31));
      lv[word] = left;
      if (left !== 0) break;
      n = word;
    }
    return true;
  }

  lowestAtLeast(from: Idx): Idx | undefined {
    if (this.count === 0 || !this.levels) return undefined;
    const start = (from as number) - this.lo;
    if (start >= this.bits) return undefined;
    const found = this.next(0, start < 0 ? 0 : start);
    return found < 0 ? undefined : found + this.lo;
  }

  /** lowest set bit >= pos in the given level, or -1 */
  private next(level: number, pos: number): number {
    const levels = this.levels!;
    const words = levels[level]!;
    const w = pos >>> 5;
    if (w >= words.length) return -1;
    const m = words[w]! & (-1 << (pos & 31));
    if (m !== 0) return (w << 5) + ctz(m);
    let nw: number;
    if (level + 1 < levels.length) {
      nw = this.next(level + 1, w + 1);
      if (nw < 0) return -1;
    } else {
      nw = w + 1;
      while (nw < words.length && words[nw] === 0) nw++;
      if (nw >= words.length) return -1;
    }
    return (nw << 5) + ctz(words[nw]!);
  }

  /** Sets every offset of the given inclusive ranges (bulk build, one summary pass). */
  fillRanges(ranges: ReadonlyArray<readonly [number, number]>): void {
    const words = this.ensure()[0]!;
    for (const [start, end] of ranges) this.fillWords(words, start - this.lo, end - this.lo);
    this.rebuildSummary();
  }

  private fillWords(words: Uint32Array, start: number, end: number): void {
    let i = start;
    while (i <= end) {
      const w = i >>> 5;
      const b = i & 31;
      const span = Math.min(32 - b, end - i + 1);
      const mask = span === 32 ? -1 : ((1 << span) - 1) << b;
      const old = words[w]!;
      words[w] = old | mask;
      this.count += popcount(mask & ~old);
      i += span;
    }
  }

  private rebuildSummary(): void {
    const levels = this.levels!;
    for (let k = 1; k < levels.length; k++) {
      const below = levels[k - 1]!;
      const lv = levels[k]!;
      lv.fill(0);
      for (let j = 0; j < below.length; j++) if (below[j] !== 0) lv[j >>> 5]! |= 1 << (j & 31);
    }
  }

  forEach(fn: (i: number) => void): void {
    if (!this.levels) return;
    const words = this.levels[0]!;
    for (let w = 0; w < words.length; w++) {
      let m = words[w]!;
      while (m !== 0) {
        const b = ctz(m);
        fn((w << 5) + b + this.lo);
        m &= m - 1;
      }
    }
  }

  absorb(other: IdxSet): void {
    if (!(other instanceof DenseSet)) throw new Error('DenseSet.absorb: mixed set kinds');
    other.forEach((i) => this.add(i));
  }
}

function popcount(x: number): number {
  let v = x >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Sparse point bits in 256-bit chunks keyed by index >> 8. */
class ChunkBits {
  readonly chunks = new Map<bigint, Uint32Array>();
  /** chunk keys in ascending order; rebuilt lazily after a chunk is created */
  private sorted: bigint[] | undefined = [];
  count = 0n;

  has(i: bigint): boolean {
    const c = this.chunks.get(i >> 8n);
    if (!c) return false;
    const b = Number(i & 255n);
    return (c[b >>> 5]! & (1 << (b & 31))) !== 0;
  }

  set(i: bigint): boolean {
    const key = i >> 8n;
    let c = this.chunks.get(key);
    if (!c) {
      c = new Uint32Array(8);
      this.chunks.set(key, c);
      this.sorted = undefined;
    }
    const b = Number(i & 255n);
    const mask = 1 << (b & 31);
    const old = c[b >>> 5]!;
    if ((old & mask) !== 0) return false;
    c[b >>> 5] = old | mask;
    this.count++;
    return true;
  }

  clear(i: bigint): boolean {
    const key = i >> 8n;
    const c = this.chunks.get(key);
    if (!c) return false;
    const b = Number(i & 255n);
    const mask = 1 << (b & 31);
    const old = c[b >>> 5]!;
    if ((old & mask) === 0) return false;
    c[b >>> 5] = old & ~mask;
    this.count--;
    // Empty chunks stay: deleting and re-creating one key is slow in V8 maps (see tombmap.ts).
    return true;
  }

  /** lowest set index >= from */
  nextSet(from: bigint): bigint | undefined {
    if (this.count === 0n) return undefined;
    if (!this.sorted) this.sorted = [...this.chunks.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const keys = this.sorted;
    const fromKey = from >> 8n;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keys[mid]! < fromKey) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo; k < keys.length; k++) {
      const key = keys[k]!;
      const c = this.chunks.get(key)!;
      const startBit = key === fromKey ? Number(from & 255n) : 0;
      for (let w = startBit >>> 5; w < 8; w++) {
        const m = w === startBit >>> 5 ? c[w]! & (-1 << (startBit & 31)) : c[w]!;
        if (m !== 0) return (key << 8n) + BigInt((w << 5) + ctz(m));
      }
    }
    return undefined;
  }

  /** lowest clear index >= from (unbounded above) */
  nextClear(from: bigint): bigint {
    let pos = from;
    for (;;) {
      const key = pos >> 8n;
      const c = this.chunks.get(key);
      if (!c) return pos;
      const startBit = Number(pos & 255n);
      for (let w = startBit >>> 5; w < 8; w++) {
        const inv = ~c[w]! & (w === startBit >>> 5 ? -1 << (startBit & 31) : -1);
        if (inv !== 0) return (key << 8n) + BigInt((w << 5) + ctz(inv));
      }
      pos = (key + 1n) << 8n;
    }
  }

  absorb(other: ChunkBits): void {
    for (const [key, oc] of other.chunks) {
      const c = this.chunks.get(key);
      if (!c) {
        this.chunks.set(key, oc.slice());
        this.sorted = undefined;
      } else {
        for (let w = 0; w < 8; w++) c[w]! |= oc[w]!;
      }
    }
    this.count += other.count;
  }
}

const NONE = -1n;

export class SparseSet implements IdxSet {
  /** members before holes/extras, as offset ranges */
  private base: Ranges;
  private baseCount: bigint;
  /** base members that are absent */
  private readonly holes = new ChunkBits();
  /** members outside base */
  private readonly extras = new ChunkBits();
  /** every member is >= minHint (NONE: no bound known beyond 0) */
  private minHint = 0n;
  private exhausted = false;

  constructor(base: Ranges = []) {
    this.base = base;
    let n = 0n;
    for (const [s, e] of base) n += e - s + 1n;
    this.baseCount = n;
  }

  get size(): bigint {
    return this.baseCount - this.holes.count + this.extras.count;
  }

  isEmpty(): boolean {
    return this.size === 0n;
  }

  private baseIndex(i: bigint): number {
    const list = this.base;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [s, e] = list[mid]!;
      if (i < s) hi = mid - 1;
      else if (i > e) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  has(i: Idx): boolean {
    const n = i as bigint;
    return this.baseIndex(n) >= 0 ? !this.holes.has(n) : this.extras.has(n);
  }

  add(i: Idx): boolean {
    const n = i as bigint;
    const added = this.baseIndex(n) >= 0 ? this.holes.clear(n) : this.extras.set(n);
    if (added && (this.exhausted || n < this.minHint)) {
      this.minHint = n;
      this.exhausted = false;
    }
    return added;
  }

  delete(i: Idx): boolean {
    const n = i as bigint;
    return this.baseIndex(n) >= 0 ? this.holes.set(n) : this.extras.clear(n);
  }

  lowestAtLeast(from: Idx): Idx | undefined {
    if (this.exhausted) return undefined;
    const f = from as bigint;
    const start = f > this.minHint ? f : this.minHint;
    let best: bigint = NONE;
    // base minus holes
    let lo = 0;
    let hi = this.base.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.base[mid]![1] < start) lo = mid + 1;
      else hi = mid;
    }
    for (let r = lo; r < this.base.length; r++) {
      const [s, e] = this.base[r]!;
      const c = this.holes.nextClear(s > start ? s : start);
      if (c <= e) {
        best = c;
        break;
      }
    }
    const x = this.extras.nextSet(start);
    if (x !== undefined && (best === NONE || x < best)) best = x;
    if (f <= this.minHint) {
      if (best === NONE) this.exhausted = true;
      else this.minHint = best;
    }
    return best === NONE ? undefined : best;
  }

  emptyLike(): SparseSet {
    return new SparseSet();
  }

  absorb(other: IdxSet): void {
    if (!(other instanceof SparseSet)) throw new Error('SparseSet.absorb: mixed set kinds');
    const merged = this.base.concat(other.base).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.base = merged;
    this.baseCount += other.baseCount;
    this.holes.absorb(other.holes);
    this.extras.absorb(other.extras);
    this.minHint = 0n;
    this.exhausted = false;
  }
}
