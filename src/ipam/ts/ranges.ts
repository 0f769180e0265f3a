// Sorted, disjoint, non-adjacent lists of inclusive address ranges over absolute address
// values (bigint, exact for IPv6). Used for the slowly changing sets: usable range, excluded
// set, pool members, and for statistics. The hot per-address sets live in bitset.ts.

export type Range = [start: bigint, end: bigint];
export type Ranges = Range[];

/** Sorts and merges overlapping or adjacent ranges. */
export function normalize(list: Ranges): Ranges {
  if (list.length <= 1) return list.map(([s, e]) => [s, e]);
  const sorted = list.slice().sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Ranges = [];
  let [cs, ce] = sorted[0]!;
  for (let i = 1; i < sorted.length; i++) {
    const [s, e] = sorted[i]!;
    if (s <= ce + 1n) {
      if (e > ce) ce = e;
    } else {
      out.push([cs, ce]);
      cs = s;
      ce = e;
    }
  }
  out.push([cs, ce]);
  return out;
}

export function union(a: Ranges, b: Ranges): Ranges {
  return normalize(a.concat(b));
}

export function intersect(a: Ranges, b: Ranges): Ranges {
  const out: Ranges = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [as, ae] = a[i]!;
    const [bs, be] = b[j]!;
    const s = as > bs ? as : bs;
    const e = ae < be ? ae : be;
    if (s <= e) out.push([s, e]);
    if (ae < be) i++;
    else j++;
  }
  return out;
}

/** a minus b. */
export function subtract(a: Ranges, b: Ranges): Ranges {
  const out: Ranges = [];
  let j = 0;
  for (const [s0, e] of a) {
    let s = s0;
    while (j < b.length && b[j]![1] < s) j++;
    let k = j;
    while (s <= e && k < b.length && b[k]![0] <= e) {
      const [bs, be] = b[k]!;
      if (bs > s) out.push([s, bs - 1n]);
      if (be + 1n > s) s = be + 1n;
      if (be >= e) break;
      k++;
    }
    if (s <= e) out.push([s, e]);
  }
  return out;
}

/** a minus a sorted, duplicate-free list of points. */
export function subtractPoints(a: Ranges, points: bigint[]): Ranges {
  const out: Ranges = [];
  let j = 0;
  for (const [s0, e] of a) {
    let s = s0;
    while (j < points.length && points[j]! < s) j++;
    while (j < points.length && points[j]! <= e) {
      const p = points[j]!;
      if (p > s) out.push([s, p - 1n]);
      s = p + 1n;
      j++;
    }
    if (s <= e) out.push([s, e]);
  }
  return out;
}

/** Sorted, duplicate-free points as ranges. */
export function fromPoints(points: bigint[]): Ranges {
  const out: Ranges = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (last !== undefined && last[1] + 1n === p) last[1] = p;
    else out.push([p, p]);
  }
  return out;
}

export function contains(list: Ranges, x: bigint): boolean {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [s, e] = list[mid]!;
    if (x < s) hi = mid - 1;
    else if (x > e) lo = mid + 1;
    else return true;
  }
  return false;
}

export function count(list: Ranges): bigint {
  let n = 0n;
  for (const [s, e] of list) n += e - s + 1n;
  return n;
}

export function equal(a: Ranges, b: Ranges): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
  }
  return true;
}

/** "a-b,c" form of docs/ipam.md §9. */
export function format(list: Ranges, fmt: (value: bigint) => string): string {
  const parts: string[] = [];
  for (const [s, e] of list) parts.push(s === e ? fmt(s) : `${fmt(s)}-${fmt(e)}`);
  return parts.join(',');
}
