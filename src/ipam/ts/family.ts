// One address family of a subnet: its usable range, excluded set, holders, and the free and
// released sets of each pool (docs/ipam.md §2, §3, §7). Addresses are handled as offsets
// ("Idx") from the first usable address: numbers for dense families (<= 2^24 addresses),
// bigints for sparse ones, so the hot IPv4 path never touches bigint.
import type { IpFamily } from '../types.ts';
import { DENSE_LIMIT, DenseSet, type Idx, type IdxSet, SparseSet } from './bitset.ts';

/** Largest families that use the dense forms; lowered only by tests to exercise the sparse ones. */
const layout = { denseLimit: BigInt(DENSE_LIMIT), arrayHeldLimit: 1n << 20n };

/** Test seam: families created afterwards use the sparse forms above these sizes. */
export function setLayoutLimitsForTests(denseLimit = BigInt(DENSE_LIMIT), arrayHeldLimit = 1n << 20n): void {
  layout.denseLimit = denseLimit;
  layout.arrayHeldLimit = arrayHeldLimit;
}
import { formatGroups, formatV4, formatV6 } from './addr.ts';
import { type Ranges, contains, subtract, subtractPoints } from './ranges.ts';
import type { FamilyDef } from './spec.ts';
import { ArrayHeld, type HeldIndex, TombMap } from './tombmap.ts';

export interface NicRecord {
  readonly subnet: string;
  readonly owner: string;
  readonly nic: string;
  v4: Idx | undefined;
  v6: Idx | undefined;
  mac: string | undefined;
  /** macKey(mac) while mac is set */
  macKey: number;
}

export interface PoolFamily {
  /** absolute member ranges */
  members: Ranges;
  /** member ranges as offsets, for membership tests on the hot path */
  membersOff: Array<[Idx, Idx]>;
  free: IdxSet;
  released: IdxSet;
}

export class FamilyState {
  readonly kind: IpFamily;
  readonly def: FamilyDef;
  readonly dense: boolean;
  /** number of usable addresses */
  readonly size: bigint;
  readonly gatewayOff: Idx;
  readonly excludedOff: Array<[Idx, Idx]>;
  readonly held: HeldIndex<NicRecord>;
  private readonly firstNum: number;
  /** IPv6 /64 and narrower: the first four groups, and the first usable address's low 64 bits */
  private readonly v6HighGroups: number[] | undefined;
  private readonly v6FirstLow: number = 0;

  constructor(def: FamilyDef) {
    this.kind = def.kind;
    this.def = def;
    this.size = def.last - def.first + 1n;
    this.dense = this.size <= layout.denseLimit;
    this.firstNum = def.kind === 'ipv4' ? Number(def.first) : 0;
    if (def.kind === 'ipv6' && def.prefix >= 64 && (def.first & 0xffffffffffffffffn) < 1n << 53n) {
      const hi = def.first >> 64n;
      this.v6HighGroups = [Number(hi >> 48n), Number((hi >> 32n) & 0xffffn), Number((hi >> 16n) & 0xffffn), Number(hi & 0xffffn)];
      this.v6FirstLow = Number(def.first & 0xffffffffffffffffn);
    }
    this.held = this.dense && this.size <= layout.arrayHeldLimit ? new ArrayHeld<NicRecord>(Number(this.size)) : new TombMap<Idx, NicRecord>();
    this.gatewayOff = this.off(def.gateway);
    this.excludedOff = this.offRanges(def.excluded);
  }

  /** offset of an absolute address known to be usable */
  off(abs: bigint): Idx {
    return this.dense ? Number(abs - this.def.first) : abs - this.def.first;
  }

  offRanges(list: Ranges): Array<[Idx, Idx]> {
    return list.map(([s, e]) => [this.off(s), this.off(e)]);
  }

  abs(i: Idx): bigint {
    return this.def.first + BigInt(i);
  }

  /** offset of an IPv4 number / IPv6 bigint, or undefined if it is not usable */
  offOf(value: number | bigint): Idx | undefined {
    if (this.kind === 'ipv4' && this.dense) {
      const o = (value as number) - this.firstNum;
      return o >= 0 && o < Number(this.size) ? o : undefined;
    }
    const v = BigInt(value);
    if (v < this.def.first || v > this.def.last) return undefined;
    return this.off(v);
  }

  format(i: Idx): string {
    if (this.kind === 'ipv4') return formatV4(this.dense ? this.firstNum + (i as number) : Number(this.def.first + (i as bigint)));
    const hi = this.v6HighGroups;
    if (hi !== undefined && i < 9007199254740991 - this.v6FirstLow) {
      // /64 and narrower: the top four groups are the network's; the low 64 bits fit a number.
      const low = this.v6FirstLow + Number(i);
      const top = Math.floor(low / 4294967296);
      const bottom = low % 4294967296;
      return formatGroups([hi[0]!, hi[1]!, hi[2]!, hi[3]!, Math.floor(top / 65536), top % 65536, Math.floor(bottom / 65536), bottom % 65536]);
    }
    return formatV6(this.def.first + BigInt(i));
  }

  isExcluded(i: Idx): boolean {
    return inOffRanges(this.excludedOff, i);
  }

  /** absolute held addresses, ascending */
  heldSorted(): bigint[] {
    const out: bigint[] = [];
    for (const i of this.held.keys()) out.push(this.abs(i));
    if (this.held instanceof ArrayHeld) return out;
    return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * A pool family whose free set is members − excluded − held and released is empty. The
   * default pool's dense sets span the whole family (pools removed later are absorbed into
   * it); a named pool's span only its own members, so many pools in a /8 stay small.
   */
  buildPool(members: Ranges, heldSorted: bigint[], wholeFamily: boolean): PoolFamily {
    const unexcluded = subtract(members, this.def.excluded);
    let free: IdxSet;
    if (this.dense) {
      const freeAbs = subtractPoints(unexcluded, heldSorted);
      let lo = 0;
      let bits = Number(this.size);
      if (!wholeFamily) {
        lo = members.length === 0 ? 0 : (this.off(members[0]![0]) as number);
        bits = members.length === 0 ? 0 : (this.off(members[members.length - 1]![1]) as number) - lo + 1;
      }
      const d = new DenseSet(bits, lo);
      d.fillRanges(freeAbs.map(([s, e]) => [this.off(s) as number, this.off(e) as number]));
      free = d;
    } else {
      // Holders become holes, so the base stays a few ranges however many addresses are held.
      const first = this.def.first;
      const sparse = new SparseSet(unexcluded.map(([s, e]) => [s - first, e - first]));
      for (const a of heldSorted) if (contains(unexcluded, a)) sparse.delete(a - first);
      free = sparse;
    }
    return { members, membersOff: this.offRanges(members), free, released: free.emptyLike() };
  }
}

export function inOffRanges(list: Array<[Idx, Idx]>, i: Idx): boolean {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = list[mid]!;
    if (i < r[0]) hi = mid - 1;
    else if (i > r[1]) lo = mid + 1;
    else return true;
  }
  return false;
}

export function nextIdx(i: Idx): Idx {
  return typeof i === 'number' ? i + 1 : i + 1n;
}

export function zeroIdx(fam: FamilyState): Idx {
  return fam.dense ? 0 : 0n;
}

export function isUsable(fam: FamilyState, abs: bigint): boolean {
  return abs >= fam.def.first && abs <= fam.def.last;
}

export { contains };
