// The pure-TypeScript IPAM backend: the reference of record for docs/ipam.md. Every operation
// first checks everything that can fail, then commits, so a failed call changes nothing.
import type {
  AddressRecord,
  Allocation,
  AllocateRequest,
  BackendOptions,
  FamilyStats,
  IpamBackend,
  IpFamily,
  RestoreConflict,
  RestoreResult,
  StaticRequest,
  SubnetSpec,
  SubnetStats,
  SubnetUpdateResult,
} from '../types.ts';
import { IpamError, q } from '../errors.ts';
import { SplitMix64, macKey, parseIp, parseMac } from './addr.ts';
import type { Idx, IdxSet } from './bitset.ts';
import { FamilyState, type NicRecord, type PoolFamily, inOffRanges, nextIdx, zeroIdx } from './family.ts';
import { type Ranges, contains, count, equal, format, intersect, normalize, subtract, subtractPoints, union, fromPoints } from './ranges.ts';
import { TombMap } from './tombmap.ts';
import { MacTable } from './mactable.ts';
import { type FamilyDef, formatAbs, parseEntries, parseStaticIps, parseSubnetSpec } from './spec.ts';

const KINDS: readonly IpFamily[] = ['ipv4', 'ipv6'];
const V4_ONLY: readonly IpFamily[] = ['ipv4'];
const V6_ONLY: readonly IpFamily[] = ['ipv6'];

interface Pool {
  readonly name: string;
  /** raw per-family sets of the pool's entries (named pools; empty for the default pool) */
  raw: { ipv4: Ranges; ipv6: Ranges };
  ipv4: PoolFamily | undefined;
  ipv6: PoolFamily | undefined;
}

interface Subnet {
  readonly name: string;
  ipv4: FamilyState | undefined;
  ipv6: FamilyState | undefined;
  /** "" is the default pool */
  readonly pools: Map<string, Pool>;
  /** by macKey() */
  readonly macs: MacTable<NicRecord>;
}

/** A pick planned for one family, committed only once every check passed. */
interface Pick {
  fam: FamilyState;
  kind: IpFamily;
  pool: Pool;
  /** the address picked, or undefined when the NIC keeps its current one */
  pick: Idx | undefined;
  /** the NIC's skipped address, released before the pick */
  moving: Idx | undefined;
}

function famKey(kind: IpFamily): 'v4' | 'v6' {
  return kind === 'ipv4' ? 'v4' : 'v6';
}

function poolLabel(name: string): string {
  return q(name);
}

export class TsBackend implements IpamBackend {
  private readonly subnets = new Map<string, Subnet>();
  private readonly owners = new TombMap<string, NicRecord[]>();
  private readonly rng: SplitMix64;

  constructor(options: BackendOptions) {
    this.rng = new SplitMix64(options.macSeed);
  }

  // ---- subnets ---------------------------------------------------------------------------

  addOrUpdateSubnet(spec: SubnetSpec): SubnetUpdateResult {
    const def = parseSubnetSpec(spec);
    const existing = this.subnets.get(spec.name);
    if (!existing) {
      const subnet: Subnet = { name: spec.name, ipv4: undefined, ipv6: undefined, pools: new Map(), macs: new MacTable() };
      subnet.pools.set('', { name: '', raw: { ipv4: [], ipv6: [] }, ipv4: undefined, ipv6: undefined });
      for (const kind of KINDS) {
        const fd = def[kind];
        if (fd) this.installFamily(subnet, kind, new FamilyState(fd));
      }
      this.subnets.set(spec.name, subnet);
      return { invalidated: [] };
    }
    return this.updateSubnet(existing, def[KINDS[0]!], def[KINDS[1]!]);
  }

  private updateSubnet(subnet: Subnet, v4: FamilyDef | undefined, v6: FamilyDef | undefined): SubnetUpdateResult {
    const lost = new Map<NicRecord, AddressRecord>();
    const defs = { ipv4: v4, ipv6: v6 };
    const changed: IpFamily[] = KINDS.filter((k) => familyChanged(subnet[k]?.def, defs[k]));
    for (const kind of changed) {
      const old = subnet[kind];
      const def = defs[kind];
      const fam = def ? new FamilyState(def) : undefined;
      const key = famKey(kind);
      if (old) {
        for (const [i, rec] of old.held) {
          const abs = old.abs(i);
          const still = fam && abs >= fam.def.first && abs <= fam.def.last && abs !== fam.def.gateway;
          if (still) {
            const o = fam.off(abs);
            fam.held.set(o, rec);
            rec[key] = o;
          } else {
            rec[key] = undefined;
            let r = lost.get(rec);
            if (!r) {
              r = { subnet: subnet.name, owner: rec.owner, nic: rec.nic };
              lost.set(rec, r);
            }
            r[key] = old.format(i);
          }
        }
      }
      subnet[kind] = fam;
      if (fam) this.installFamily(subnet, kind, fam);
      else for (const pool of subnet.pools.values()) pool[kind] = undefined;
    }
    for (const [rec, r] of lost) {
      if (rec.v4 === undefined && rec.v6 === undefined) {
        if (rec.mac !== undefined) r.mac = rec.mac;
        this.dropNic(subnet, rec);
      }
    }
    const invalidated = [...lost.values()].sort(byOwnerNic);
    return { invalidated };
  }

  /** (Re)computes every pool of one family from the pools' entries: released sets reset. */
  private installFamily(subnet: Subnet, kind: IpFamily, fam: FamilyState): void {
    subnet[kind] = fam;
    const usable: Ranges = [[fam.def.first, fam.def.last]];
    const held = fam.heldSorted();
    let rest = usable;
    for (const pool of subnet.pools.values()) {
      if (pool.name === '') continue;
      const members = intersect(pool.raw[kind], usable);
      rest = subtract(rest, members);
      pool[kind] = fam.buildPool(members, held, false);
    }
    subnet.pools.get('')![kind] = fam.buildPool(rest, held, true);
  }

  deleteSubnet(name: string): void {
    const subnet = this.subnets.get(name);
    if (!subnet) return;
    // Rare: walk the owner index rather than keep a per-subnet NIC set on the hot path.
    for (const [owner, list] of [...this.owners.entries()]) {
      const kept = list.filter((r) => r.subnet !== name);
      if (kept.length === 0) this.owners.delete(owner);
      else if (kept.length !== list.length) this.owners.set(owner, kept);
    }
    this.subnets.delete(name);
  }

  // ---- pools -----------------------------------------------------------------------------

  addOrUpdatePool(subnetName: string, poolName: string, ips: string[]): void {
    if (poolName === '') throw new IpamError('InvalidArgument', 'pool name must not be empty', { subnet: subnetName, pool: poolName });
    const raw = parseEntries(ips, true, subnetName);
    const subnet = this.requireSubnet(subnetName, { pool: poolName });
    const others = [...subnet.pools.keys()].filter((n) => n !== '' && n !== poolName).sort();
    for (const other of others) {
      const o = subnet.pools.get(other)!;
      for (const kind of KINDS) {
        const overlap = intersect(raw[kind], o.raw[kind]);
        if (overlap.length > 0) {
          throw new IpamError(
            'AddressConflict',
            `pool ${q(poolName)} overlaps pool ${q(other)} in subnet ${q(subnetName)}: ${format(overlap, (v) => formatAbs(kind, v))}`,
            { subnet: subnetName, pool: poolName },
          );
        }
      }
    }
    let pool = subnet.pools.get(poolName);
    if (!pool) {
      pool = { name: poolName, raw, ipv4: undefined, ipv6: undefined };
      subnet.pools.set(poolName, pool);
    } else {
      pool.raw = raw;
    }
    const def = subnet.pools.get('')!;
    for (const kind of KINDS) {
      const fam = subnet[kind];
      if (!fam) continue;
      const usable: Ranges = [[fam.def.first, fam.def.last]];
      const held = fam.heldSorted();
      const members = intersect(raw[kind], usable);
      let rest = usable;
      for (const p of subnet.pools.values()) {
        if (p.name === '') continue;
        rest = subtract(rest, p === pool ? members : p[kind]!.members);
      }
      pool[kind] = fam.buildPool(members, held, false);
      def[kind] = fam.buildPool(rest, held, true);
    }
  }

  removePool(subnetName: string, poolName: string): void {
    if (poolName === '') throw new IpamError('InvalidArgument', 'pool name must not be empty', { subnet: subnetName, pool: poolName });
    const subnet = this.requireSubnet(subnetName, { pool: poolName });
    const pool = subnet.pools.get(poolName);
    if (!pool) return;
    const def = subnet.pools.get('')!;
    for (const kind of KINDS) {
      const fam = subnet[kind];
      const pf = pool[kind];
      const df = def[kind];
      if (!fam || !pf || !df) continue;
      df.members = union(df.members, pf.members);
      df.membersOff = fam.offRanges(df.members);
      df.free.absorb(pf.free);
      df.released.absorb(pf.released);
    }
    subnet.pools.delete(poolName);
  }

  // ---- allocation ------------------------------------------------------------------------

  allocate(req: AllocateRequest): Allocation {
    const { owner, nic } = req;
    const mac = req.mac === undefined || req.mac === null ? req.mac : this.parseMacOption(req.mac, { subnet: req.subnet, owner, nic });
    const skip = req.skip === undefined || req.skip.length === 0 ? undefined : parseSkip(req.skip, { subnet: req.subnet, owner, nic });
    const subnet = this.requireSubnet(req.subnet, { owner, nic });
    let kinds: readonly IpFamily[] = KINDS;
    if (req.family !== undefined) {
      if (!subnet[req.family]) {
        throw new IpamError('InvalidIPFamily', `subnet ${q(subnet.name)} has no ${req.family} addresses`, { subnet: subnet.name, owner, nic });
      }
      kinds = req.family === 'ipv4' ? V4_ONLY : V6_ONLY;
    }
    const poolName = req.pool ?? '';
    const pool = subnet.pools.get(poolName);
    if (!pool) {
      throw new IpamError('NoAvailableAddress', `subnet ${q(subnet.name)} has no pool ${q(poolName)}`, { subnet: subnet.name, owner, nic, pool: poolName });
    }
    const rec = this.findNic(subnet.name, owner, nic);

    // Plan every family before touching anything (docs/ipam.md §4).
    let p4: Pick | undefined;
    let p6: Pick | undefined;
    for (const kind of kinds) {
      const fam = subnet[kind];
      if (!fam) continue;
      const cur = kind === 'ipv4' ? rec?.v4 : rec?.v6;
      const skipSet = skip ? skipOffsets(fam, skip) : undefined;
      const p: Pick =
        cur !== undefined && !(skipSet && skipSet.has(cur))
          ? { fam, kind, pool, pick: undefined, moving: undefined }
          : this.planPick(subnet, fam, kind, pool, skipSet, cur, owner, nic);
      if (kind === 'ipv4') p4 = p;
      else p6 = p;
    }
    if (typeof mac === 'string') this.checkMac(subnet, mac, rec, owner, false, { subnet: subnet.name, owner, nic });

    const target = rec ?? this.createNic(subnet, owner, nic);
    const out: Allocation = {};
    if (p4) {
      this.commitPick(subnet, p4, target);
      out.v4 = p4.fam.format(target.v4!);
    }
    if (p6) {
      this.commitPick(subnet, p6, target);
      out.v6 = p6.fam.format(target.v6!);
    }
    this.commitMac(subnet, target, mac);
    if (target.mac !== undefined) out.mac = target.mac;
    return out;
  }

  private planPick(
    subnet: Subnet,
    fam: FamilyState,
    kind: IpFamily,
    pool: Pool,
    skip: Set<Idx> | undefined,
    moving: Idx | undefined,
    owner: string,
    nic: string,
  ): Pick {
    const pf = pool[kind]!;
    let candidates = pf.free;
    if (candidates.isEmpty()) {
      // Turnover (docs/ipam.md §3); a skipped address this NIC gives up joins it first.
      const movingJoins = moving !== undefined && !fam.isExcluded(moving) && this.poolOf(subnet, fam, kind, moving) === pool;
      if (pf.released.isEmpty() && !movingJoins) {
        throw new IpamError(
          'NoAvailableAddress',
          `subnet ${q(subnet.name)} pool ${poolLabel(pool.name)} has no available ${kind} address for ${owner}/${nic}`,
          { subnet: subnet.name, pool: pool.name, owner, nic },
        );
      }
      candidates = pf.released;
    }
    let c = candidates.lowestAtLeast(zeroIdx(fam));
    if (skip) while (c !== undefined && skip.has(c)) c = candidates.lowestAtLeast(nextIdx(c));
    if (c === undefined) {
      throw new IpamError(
        'AddressConflict',
        `subnet ${q(subnet.name)} pool ${poolLabel(pool.name)}: every free ${kind} address is in skip for ${owner}/${nic}`,
        { subnet: subnet.name, pool: pool.name, owner, nic },
      );
    }
    return { fam, kind, pool, pick: c, moving };
  }

  private commitPick(subnet: Subnet, p: Pick, rec: NicRecord): void {
    if (p.pick === undefined) return;
    if (p.moving !== undefined) this.releaseAddress(subnet, p.fam, p.kind, p.moving);
    const pf = p.pool[p.kind]!;
    if (pf.free.isEmpty()) {
      pf.free = pf.released;
      pf.released = pf.free.emptyLike();
    }
    pf.free.delete(p.pick);
    p.fam.held.set(p.pick, rec);
    rec[famKey(p.kind)] = p.pick;
  }

  allocateStatic(req: StaticRequest): Allocation {
    const { owner, nic } = req;
    const force = req.force === true;
    const fields = { subnet: req.subnet, owner, nic };
    const given = parseStaticIps(req.ips, req.subnet, owner, nic);
    const mac = this.parseMacOption(req.mac, fields);
    const subnet = this.requireSubnet(req.subnet, { owner, nic });
    const rec = this.findNic(subnet.name, owner, nic);

    const takes: Array<{ fam: FamilyState; kind: IpFamily; off: Idx; victim: NicRecord | undefined }> = [];
    for (const [kind, value] of given) {
      const fam = subnet[kind];
      const off = fam?.offOf(kind === 'ipv4' ? Number(value) : value);
      if (!fam || off === undefined) {
        const address = formatAbs(kind, value);
        throw new IpamError('AddressOutOfRange', `address ${address} is out of range of subnet ${q(subnet.name)}`, { ...fields, address });
      }
      const victim = this.checkAddressFree(subnet, fam, off, rec, owner, force, fields);
      takes.push({ fam, kind, off, victim });
    }
    const picks: Pick[] = [];
    if (given.length === 1 && subnet.ipv4 && subnet.ipv6) {
      const kind: IpFamily = given[0]![0] === 'ipv4' ? 'ipv6' : 'ipv4';
      const fam = subnet[kind]!;
      if (rec?.[famKey(kind)] === undefined) {
        picks.push(this.planPick(subnet, fam, kind, subnet.pools.get('')!, undefined, undefined, owner, nic));
      }
    }
    const macVictim = typeof mac === 'string' ? this.checkMac(subnet, mac, rec, owner, force, fields) : undefined;

    const target = rec ?? this.createNic(subnet, owner, nic);
    const victims = new Set<NicRecord>();
    for (const t of takes) {
      const key = famKey(t.kind);
      const cur = target[key];
      if (cur === t.off) continue;
      if (cur !== undefined) this.releaseAddress(subnet, t.fam, t.kind, cur);
      if (t.victim) {
        t.victim[key] = undefined;
        victims.add(t.victim);
      } else {
        this.takeFromPool(subnet, t.fam, t.kind, t.off);
      }
      t.fam.held.set(t.off, target);
      target[key] = t.off;
    }
    for (const p of picks) this.commitPick(subnet, p, target);
    if (macVictim) {
      subnet.macs.delete(macVictim.macKey);
      macVictim.mac = undefined;
    }
    for (const v of victims) if (v.v4 === undefined && v.v6 === undefined) this.dropNic(subnet, v);
    this.commitMac(subnet, target, mac);

    const out: Allocation = {};
    if (target.v4 !== undefined && subnet.ipv4) out.v4 = subnet.ipv4.format(target.v4);
    if (target.v6 !== undefined && subnet.ipv6) out.v6 = subnet.ipv6.format(target.v6);
    if (target.mac !== undefined) out.mac = target.mac;
    return out;
  }

  /**
   * Gateway / holder checks for a static address. Returns the same-owner NIC that loses it
   * under `force`, or undefined when the address is free (or already this NIC's).
   */
  private checkAddressFree(
    subnet: Subnet,
    fam: FamilyState,
    off: Idx,
    rec: NicRecord | undefined,
    owner: string,
    force: boolean,
    fields: { subnet: string; owner: string; nic: string },
  ): NicRecord | undefined {
    if (off === fam.gatewayOff) {
      const address = fam.format(off);
      throw new IpamError('AddressConflict', `address ${address} is the gateway of subnet ${q(subnet.name)}`, { ...fields, address });
    }
    const holder = fam.held.get(off);
    if (!holder || holder === rec) return undefined;
    const address = fam.format(off);
    if (holder.owner !== owner) {
      throw new IpamError('AddressConflict', `address ${address} in subnet ${q(subnet.name)} is held by ${q(holder.owner)}`, {
        ...fields,
        address,
        heldBy: holder.owner,
      });
    }
    if (!force) {
      throw new IpamError(
        'AddressConflict',
        `address ${address} in subnet ${q(subnet.name)} is held by ${q(holder.owner)} nic ${q(holder.nic)}`,
        { ...fields, address, heldBy: holder.owner },
      );
    }
    return holder;
  }

  /** Returns the same-owner NIC losing the MAC under `force`; throws on a conflict. */
  private checkMac(
    subnet: Subnet,
    mac: string,
    rec: NicRecord | undefined,
    owner: string,
    force: boolean,
    fields: { subnet: string; owner: string; nic: string },
  ): NicRecord | undefined {
    const holder = subnet.macs.get(macKey(mac));
    if (!holder || holder === rec) return undefined;
    if (force && holder.owner === owner) return holder;
    throw new IpamError('AddressConflict', `mac ${mac} in subnet ${q(subnet.name)} is held by ${q(holder.owner)}`, {
      ...fields,
      address: mac,
      heldBy: holder.owner,
    });
  }

  private commitMac(subnet: Subnet, rec: NicRecord, mac: string | null | undefined): void {
    if (mac === null) return;
    if (mac === undefined) {
      if (rec.mac !== undefined) return;
      let m = this.rng.nextMac();
      while (subnet.macs.has(this.rng.lastMacKey)) m = this.rng.nextMac();
      rec.mac = m;
      rec.macKey = this.rng.lastMacKey;
      subnet.macs.set(rec.macKey, rec);
      return;
    }
    if (rec.mac === mac) return;
    if (rec.mac !== undefined) subnet.macs.delete(rec.macKey);
    rec.mac = mac;
    rec.macKey = macKey(mac);
    subnet.macs.set(rec.macKey, rec);
  }

  private parseMacOption(mac: string | null | undefined, fields: { subnet: string; owner: string; nic: string }): string | null | undefined {
    if (typeof mac !== 'string') return mac;
    const m = parseMac(mac);
    if (m === undefined) throw new IpamError('InvalidMAC', `invalid MAC address ${q(mac)}`, { ...fields, address: mac });
    return m;
  }

  // ---- release ---------------------------------------------------------------------------

  releaseNic(owner: string, nic: string, subnetName?: string): void {
    if (subnetName !== undefined) {
      const subnet = this.subnets.get(subnetName);
      const rec = subnet && this.findNic(subnet.name, owner, nic);
      if (subnet && rec) this.removeNic(subnet, rec);
      return;
    }
    const recs = this.owners.get(owner);
    if (!recs) return;
    for (const rec of [...recs]) if (rec.nic === nic) this.removeNic(this.subnets.get(rec.subnet)!, rec);
  }

  releaseOwner(owner: string, subnetName?: string): void {
    const recs = this.owners.get(owner);
    if (!recs) return;
    for (const rec of [...recs]) {
      if (subnetName === undefined || rec.subnet === subnetName) this.removeNic(this.subnets.get(rec.subnet)!, rec);
    }
  }

  /** Releases every address of the NIC (§3), frees its MAC, and forgets it. */
  private removeNic(subnet: Subnet, rec: NicRecord): void {
    if (rec.v4 !== undefined && subnet.ipv4) this.releaseAddress(subnet, subnet.ipv4, 'ipv4', rec.v4);
    if (rec.v6 !== undefined && subnet.ipv6) this.releaseAddress(subnet, subnet.ipv6, 'ipv6', rec.v6);
    rec.v4 = undefined;
    rec.v6 = undefined;
    this.dropNic(subnet, rec);
  }

  /** Forgets a NIC that holds no address any more. */
  private dropNic(subnet: Subnet, rec: NicRecord): void {
    if (rec.mac !== undefined) subnet.macs.delete(rec.macKey);
    this.unindexOwner(rec);
  }

  private unindexOwner(rec: NicRecord): void {
    const list = this.owners.get(rec.owner);
    if (!list) return;
    const at = list.indexOf(rec);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.owners.delete(rec.owner);
  }

  /** NICs are found through the owner index: an owner has few NICs, and no key is built. */
  private findNic(subnet: string, owner: string, nic: string): NicRecord | undefined {
    const list = this.owners.get(owner);
    if (!list) return undefined;
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      if (r.nic === nic && r.subnet === subnet) return r;
    }
    return undefined;
  }

  private createNic(subnet: Subnet, owner: string, nic: string): NicRecord {
    const rec: NicRecord = { subnet: subnet.name, owner, nic, v4: undefined, v6: undefined, mac: undefined, macKey: 0 };
    const list = this.owners.get(owner);
    if (list) list.push(rec);
    else this.owners.set(owner, [rec]);
    return rec;
  }

  private releaseAddress(subnet: Subnet, fam: FamilyState, kind: IpFamily, off: Idx): void {
    fam.held.delete(off);
    if (fam.isExcluded(off)) return;
    this.poolOf(subnet, fam, kind, off)[kind]!.released.add(off);
  }

  /** Takes a static address out of its pool's free or released set (excluded: in neither). */
  private takeFromPool(subnet: Subnet, fam: FamilyState, kind: IpFamily, off: Idx): void {
    const pf = this.poolOf(subnet, fam, kind, off)[kind]!;
    if (!pf.free.delete(off)) pf.released.delete(off);
  }

  private poolOf(subnet: Subnet, fam: FamilyState, kind: IpFamily, off: Idx): Pool {
    const pools = subnet.pools;
    if (pools.size > 1) {
      for (const pool of pools.values()) {
        if (pool.name !== '' && inOffRanges(pool[kind]!.membersOff, off)) return pool;
      }
    }
    void fam;
    return pools.get('')!;
  }

  // ---- queries ---------------------------------------------------------------------------

  addressesOf(owner: string): AddressRecord[] {
    const recs = this.owners.get(owner);
    if (!recs) return [];
    const out: AddressRecord[] = [];
    for (const rec of recs) out.push(this.recordOf(this.subnets.get(rec.subnet)!, rec));
    return out.sort((a, b) => (a.subnet < b.subnet ? -1 : a.subnet > b.subnet ? 1 : a.nic < b.nic ? -1 : a.nic > b.nic ? 1 : 0));
  }

  private recordOf(subnet: Subnet, rec: NicRecord): AddressRecord {
    const r: AddressRecord = { subnet: subnet.name, owner: rec.owner, nic: rec.nic };
    if (rec.v4 !== undefined) r.v4 = subnet.ipv4!.format(rec.v4);
    if (rec.v6 !== undefined) r.v6 = subnet.ipv6!.format(rec.v6);
    if (rec.mac !== undefined) r.mac = rec.mac;
    return r;
  }

  ownerOf(subnetName: string, ip: string): string | undefined {
    const parsed = parseIp(ip);
    if (!parsed) throw new IpamError('InvalidArgument', `invalid IP address ${q(ip)}`, { subnet: subnetName, address: ip });
    const subnet = this.requireSubnet(subnetName, {});
    const fam = subnet[parsed.family];
    const off = fam?.offOf(parsed.value);
    if (!fam || off === undefined) return undefined;
    return fam.held.get(off)?.owner;
  }

  subnetStats(subnetName: string): SubnetStats {
    const subnet = this.requireSubnet(subnetName, {});
    const out: SubnetStats = {};
    for (const kind of KINDS) {
      const fam = subnet[kind];
      if (fam) out[famKey(kind)] = statsOf(fam, [[fam.def.first, fam.def.last]]);
    }
    return out;
  }

  poolStats(subnetName: string, poolName: string): SubnetStats {
    const subnet = this.requireSubnet(subnetName, { pool: poolName });
    const pool = subnet.pools.get(poolName);
    if (!pool) {
      throw new IpamError('NoAvailableAddress', `subnet ${q(subnetName)} has no pool ${q(poolName)}`, { subnet: subnetName, pool: poolName });
    }
    const out: SubnetStats = {};
    for (const kind of KINDS) {
      const fam = subnet[kind];
      const pf = pool[kind];
      if (fam && pf) out[famKey(kind)] = statsOf(fam, pf.members);
    }
    return out;
  }

  // ---- restore ---------------------------------------------------------------------------

  restore(records: AddressRecord[]): RestoreResult {
    let restored = 0;
    const conflicts: RestoreConflict[] = [];
    for (const record of records) {
      try {
        this.restoreOne(record);
        restored++;
      } catch (err) {
        if (!(err instanceof IpamError)) throw err;
        const c: RestoreConflict = { record, code: err.code, message: err.message };
        if (err.heldBy !== undefined) c.heldBy = err.heldBy;
        conflicts.push(c);
      }
    }
    return { restored, conflicts };
  }

  private restoreOne(record: AddressRecord): void {
    const { owner, nic } = record;
    const fields = { subnet: record.subnet, owner, nic };
    const given: Array<[IpFamily, number | bigint, string]> = [];
    if (record.v4 === undefined && record.v6 === undefined) {
      throw new IpamError('InvalidArgument', 'restore record has no address', fields);
    }
    for (const [field, kind] of [['v4', 'ipv4'], ['v6', 'ipv6']] as const) {
      const text = record[field];
      if (text === undefined) continue;
      const p = parseIp(text);
      if (!p) throw new IpamError('InvalidArgument', `invalid IP address ${q(text)}`, { ...fields, address: text });
      if (p.family !== kind) throw new IpamError('InvalidArgument', `${field} ${q(text)} is not an ${kind} address`, { ...fields, address: text });
      given.push([kind, p.value, text]);
    }
    const mac = record.mac === undefined ? undefined : this.parseMacOption(record.mac, fields);
    const subnet = this.requireSubnet(record.subnet, { owner, nic });
    const rec = this.findNic(subnet.name, owner, nic);
    const takes: Array<[FamilyState, IpFamily, Idx]> = [];
    for (const [kind, value] of given) {
      const fam = subnet[kind];
      const off = fam?.offOf(value);
      if (!fam || off === undefined) {
        const address = formatAbs(kind, BigInt(value));
        throw new IpamError('AddressOutOfRange', `address ${address} is out of range of subnet ${q(subnet.name)}`, { ...fields, address });
      }
      this.checkAddressFree(subnet, fam, off, rec, owner, false, fields);
      const cur = rec?.[famKey(kind)];
      if (cur !== undefined && cur !== off) throw alreadyHolds(subnet, rec!, fam.format(cur));
      if (cur === undefined) takes.push([fam, kind, off]);
    }
    if (typeof mac === 'string') {
      this.checkMac(subnet, mac, rec, owner, false, fields);
      if (rec?.mac !== undefined && rec.mac !== mac) throw alreadyHolds(subnet, rec, rec.mac);
    }
    const target = rec ?? this.createNic(subnet, owner, nic);
    for (const [fam, kind, off] of takes) {
      this.takeFromPool(subnet, fam, kind, off);
      fam.held.set(off, target);
      target[famKey(kind)] = off;
    }
    if (typeof mac === 'string' && target.mac === undefined) {
      target.mac = mac;
      target.macKey = macKey(mac);
      subnet.macs.set(target.macKey, target);
    }
  }

  // ---- helpers ---------------------------------------------------------------------------

  private requireSubnet(name: string, extra: { owner?: string; nic?: string; pool?: string }): Subnet {
    const subnet = this.subnets.get(name);
    if (!subnet) throw new IpamError('NoSubnet', `subnet ${q(name)} does not exist`, { subnet: name, ...extra });
    return subnet;
  }
}

function alreadyHolds(subnet: Subnet, rec: NicRecord, held: string): IpamError {
  return new IpamError('AddressConflict', `nic ${rec.owner}/${rec.nic} in subnet ${q(subnet.name)} already holds ${held}`, {
    subnet: subnet.name,
    owner: rec.owner,
    nic: rec.nic,
    address: held,
    heldBy: rec.owner,
  });
}

function familyChanged(old: FamilyDef | undefined, next: FamilyDef | undefined): boolean {
  if (!old || !next) return old !== next;
  return old.network !== next.network || old.prefix !== next.prefix || old.gateway !== next.gateway || !equal(old.excluded, next.excluded);
}

function byOwnerNic(a: AddressRecord, b: AddressRecord): number {
  if (a.owner !== b.owner) return a.owner < b.owner ? -1 : 1;
  return a.nic < b.nic ? -1 : a.nic > b.nic ? 1 : 0;
}

function parseSkip(skip: string[], fields: { subnet: string; owner: string; nic: string }): Array<[IpFamily, number | bigint]> {
  const out: Array<[IpFamily, number | bigint]> = [];
  for (const text of skip) {
    const p = parseIp(text);
    if (!p) throw new IpamError('InvalidArgument', `invalid IP address ${q(text)}`, { ...fields, address: text });
    out.push([p.family, p.value]);
  }
  return out;
}

function skipOffsets(fam: FamilyState, skip: Array<[IpFamily, number | bigint]>): Set<Idx> {
  const set = new Set<Idx>();
  for (const [kind, value] of skip) {
    if (kind !== fam.kind) continue;
    const off = fam.offOf(value);
    if (off !== undefined) set.add(off);
  }
  return set;
}

/** Stats over a member set (docs/ipam.md §9): using = held − excluded, available = members − excluded − held. */
function statsOf(fam: FamilyState, members: Ranges): FamilyStats {
  const held = fam.heldSorted().filter((a) => contains(members, a));
  const usingPoints = held.filter((a) => !contains(fam.def.excluded, a));
  const using = fromPoints(usingPoints);
  const available = subtractPoints(subtract(members, fam.def.excluded), held);
  const fmt = (v: bigint): string => formatAbs(fam.kind, v);
  return {
    available: count(available).toString(),
    using: BigInt(usingPoints.length).toString(),
    availableRange: format(available, fmt),
    usingRange: format(using, fmt),
  };
}

export function createTsBackend(options: BackendOptions): IpamBackend {
  return new TsBackend(options);
}

// normalize is re-exported for tests that build expected sets.
export { normalize };
