// MAC -> holder index: open addressing over the 48-bit MAC value split into two uint32 words,
// linear probing, backward-shift deletion. Every allocation draws a random MAC and checks it,
// so this is on the hot path; a Map would allocate a heap number per key and keep dead
// entries until it rehashes.
export class MacTable<V> {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private vals: Array<V | undefined>;
  private mask: number;
  private count = 0;

  constructor(capacity = 64) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.vals = new Array<V | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  private slot(hi: number, lo: number): number {
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) & this.mask;
  }

  private find(key: number): number {
    const hi = Math.floor(key / 4294967296);
    const lo = key >>> 0;
    let i = this.slot(hi, lo);
    for (;;) {
      if (this.vals[i] === undefined) return ~i;
      if (this.lo[i] === lo && this.hi[i] === hi) return i;
      i = (i + 1) & this.mask;
    }
  }

  get(key: number): V | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.vals[i];
  }

  has(key: number): boolean {
    return this.find(key) >= 0;
  }

  set(key: number, value: V): void {
    let i = this.find(key);
    if (i >= 0) {
      this.vals[i] = value;
      return;
    }
    if ((this.count + 1) * 2 > this.vals.length) {
      this.grow();
      i = this.find(key);
    }
    i = ~i;
    this.hi[i] = Math.floor(key / 4294967296);
    this.lo[i] = key >>> 0;
    this.vals[i] = value;
    this.count++;
  }

  delete(key: number): boolean {
    let i = this.find(key);
    if (i < 0) return false;
    this.count--;
    // Backward-shift: pull later members of the probe run into the hole.
    let j = i;
    for (;;) {
      j = (j + 1) & this.mask;
      if (this.vals[j] === undefined) break;
      const home = this.slot(this.hi[j]!, this.lo[j]!);
      // j's entry may move to i only if its home is not in (i, j] cyclically
      const movable = i <= j ? home <= i || home > j : home <= i && home > j;
      if (movable) {
        this.hi[i] = this.hi[j]!;
        this.lo[i] = this.lo[j]!;
        this.vals[i] = this.vals[j];
        i = j;
      }
    }
    this.vals[i] = undefined;
    return true;
  }

  private grow(): void {
    const oldHi = this.hi;
    const oldLo = this.lo;
    const oldVals = this.vals;
    const cap = oldVals.length * 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.vals = new Array<V | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
    this.count = 0;
    for (let k = 0; k < oldVals.length; k++) {
      const v = oldVals[k];
      if (v !== undefined) this.set(oldHi[k]! * 4294967296 + oldLo[k]!, v);
    }
  }
}
