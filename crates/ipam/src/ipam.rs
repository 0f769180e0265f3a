//! The IPAM operations of docs/ipam.md: every call validates and plans without touching state,
//! then commits, so a failed call leaves nothing behind.

use std::collections::HashMap;

use hashbrown::HashTable;

use crate::addr::{Family, format_ip, parse_ip};
use crate::error::{ErrorCode, IpamError, Result, q};
use crate::hash::NameHash;
use crate::mac::{SplitMix64, format_mac, parse_mac};
use crate::nic::{NicId, NicStore};
use crate::pool::{Pick, PickFailure, PoolFamily};
use crate::ranges::{RangeList, format_ranges};
use crate::subnet::{
    FAMILIES, FamilySpec, FamilyState, Pool, Subnet, fidx, held_within, holder_insert, holder_of, holder_remove, invalid_ip,
    mac_holder, mac_insert, mac_remove, parse_entry, parse_subnet_cidr,
};

pub type SubnetId = u32;

/// `mac` of a request: omitted, explicitly none, or a static value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacRequest<'a> {
    Omitted,
    Null,
    Static(&'a str),
}

pub struct SubnetSpecIn<'a> {
    pub name: &'a str,
    pub cidr: &'a str,
    pub gateway: Option<&'a str>,
    pub exclude_ips: &'a [&'a str],
}

pub struct AllocateIn<'a> {
    pub subnet: &'a str,
    pub owner: &'a str,
    pub nic: &'a str,
    pub pool: Option<&'a str>,
    pub family: Option<Family>,
    pub mac: MacRequest<'a>,
    pub skip: &'a [&'a str],
}

pub struct StaticIn<'a> {
    pub subnet: &'a str,
    pub owner: &'a str,
    pub nic: &'a str,
    pub ips: &'a str,
    pub mac: MacRequest<'a>,
    pub force: bool,
}

#[derive(Clone, Copy, Debug)]
pub struct RecordIn<'a> {
    pub subnet: &'a str,
    pub owner: &'a str,
    pub nic: &'a str,
    pub v4: Option<&'a str>,
    pub v6: Option<&'a str>,
    pub mac: Option<&'a str>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allocation {
    pub v4: Option<String>,
    pub v6: Option<String>,
    pub mac: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub subnet: String,
    pub owner: String,
    pub nic: String,
    pub v4: Option<String>,
    pub v6: Option<String>,
    pub mac: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FamilyStats {
    pub available: String,
    pub using: String,
    pub available_range: String,
    pub using_range: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub v4: Option<FamilyStats>,
    pub v6: Option<FamilyStats>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreConflict {
    /// index of the record in the input
    pub index: usize,
    pub error: IpamError,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreOutcome {
    pub restored: usize,
    pub conflicts: Vec<RestoreConflict>,
}

/// What the plan for one family of an allocation decided.
#[derive(Clone, Copy, Debug)]
enum FamilyPlan {
    Keep,
    /// release `moved` (if any) first, then take `pick` from pool `pool`
    Pick { moved: Option<u128>, pool: usize, pick: Pick },
}

pub struct Ipam {
    rng: SplitMix64,
    nics: NicStore,
    subnets: Vec<Option<Subnet>>,
    by_name: HashMap<String, SubnetId, NameHash>,
    /// (name length, id) of the subnet looked up last; validated against `subnets` on use
    last_subnet: std::cell::Cell<(u32, SubnetId)>,
    seed: u64,
}

// Names (subnet, pool, owner, NIC) are checked by the facade (docs/ipam.md §1); like the TS
// backend, the core takes any text as a name, so the two backends agree even when called directly.

fn family_word(f: Family) -> &'static str {
    f.protocol_name()
}

fn mac_parse(text: &str) -> Result<u64> {
    parse_mac(text).ok_or_else(|| IpamError::new(ErrorCode::InvalidMac, format!("invalid MAC address {}", q(text))).address(text))
}

/// The request's subnet / owner / NIC, copied into every error it raises.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    subnet: &'a str,
    owner: Option<&'a str>,
    nic: Option<&'a str>,
}

impl<'a> Ctx<'a> {
    fn nic(subnet: &'a str, owner: &'a str, nic: &'a str) -> Self {
        Ctx { subnet, owner: Some(owner), nic: Some(nic) }
    }
    fn on(&self, mut e: IpamError) -> IpamError {
        e.subnet = Some(self.subnet.to_string());
        e.owner = self.owner.map(str::to_string);
        e.nic = self.nic.map(str::to_string);
        e
    }
}

fn out_of_range(subnet: &str, f: Family, a: u128) -> IpamError {
    let text = format_ip(f, a);
    IpamError::new(ErrorCode::AddressOutOfRange, format!("address {text} is out of range of subnet {}", q(subnet)))
        .subnet(subnet)
        .address(&text)
}

fn gateway_conflict(subnet: &str, f: Family, a: u128) -> IpamError {
    let text = format_ip(f, a);
    IpamError::new(ErrorCode::AddressConflict, format!("address {text} is the gateway of subnet {}", q(subnet)))
        .subnet(subnet)
        .address(&text)
}

fn held_by_owner(subnet: &str, f: Family, a: u128, held_by: &str) -> IpamError {
    let text = format_ip(f, a);
    IpamError::new(ErrorCode::AddressConflict, format!("address {text} in subnet {} is held by {}", q(subnet), q(held_by)))
        .subnet(subnet)
        .address(&text)
        .held_by(held_by)
}

fn held_by_nic(subnet: &str, f: Family, a: u128, held_by: &str, holder_nic: &str) -> IpamError {
    let text = format_ip(f, a);
    IpamError::new(
        ErrorCode::AddressConflict,
        format!("address {text} in subnet {} is held by {} nic {}", q(subnet), q(held_by), q(holder_nic)),
    )
    .subnet(subnet)
    .address(&text)
    .held_by(held_by)
}

fn mac_held(subnet: &str, mac: u64, held_by: &str) -> IpamError {
    let text = format_mac(mac);
    IpamError::new(ErrorCode::AddressConflict, format!("mac {text} in subnet {} is held by {}", q(subnet), q(held_by)))
        .subnet(subnet)
        .address(&text)
        .held_by(held_by)
}

fn no_subnet(subnet: &str) -> IpamError {
    IpamError::new(ErrorCode::NoSubnet, format!("subnet {} does not exist", q(subnet))).subnet(subnet)
}

fn empty_pool(subnet: &str) -> IpamError {
    IpamError::new(ErrorCode::InvalidArgument, "pool name must not be empty".to_string()).subnet(subnet).pool("")
}

fn no_pool(subnet: &str, pool: &str) -> IpamError {
    IpamError::new(ErrorCode::NoAvailableAddress, format!("subnet {} has no pool {}", q(subnet), q(pool))).subnet(subnet).pool(pool)
}

fn pick_failure(e: PickFailure, subnet: &str, pool: &str, f: Family, owner: &str, nic: &str) -> IpamError {
    let err = match e {
        PickFailure::NoAvailable => IpamError::new(
            ErrorCode::NoAvailableAddress,
            format!("subnet {} pool {} has no available {} address for {owner}/{nic}", q(subnet), q(pool), family_word(f)),
        ),
        PickFailure::AllSkipped => IpamError::new(
            ErrorCode::AddressConflict,
            format!("subnet {} pool {}: every free {} address is in skip for {owner}/{nic}", q(subnet), q(pool), family_word(f)),
        ),
    };
    err.subnet(subnet).pool(pool).owner(owner).nic(nic)
}

impl Ipam {
    pub fn new(mac_seed: u64) -> Self {
        // The hash seed only spreads table buckets; results never depend on it.
        let seed = 0x9e37_79b9_7f4a_7c15 ^ mac_seed.rotate_left(17);
        Ipam {
            rng: SplitMix64::new(mac_seed),
            nics: NicStore::new(seed),
            subnets: Vec::new(),
            by_name: HashMap::default(),
            last_subnet: std::cell::Cell::new((u32::MAX, SubnetId::MAX)),
            seed,
        }
    }

    /// Bytes of heap this IPAM holds (explicit accounting; the binding also counts allocations).
    pub fn heap_bytes(&self) -> usize {
        let mut total = self.nics.heap_bytes() + self.subnets.capacity() * std::mem::size_of::<Option<Subnet>>();
        for s in self.subnets.iter().flatten() {
            total += s.macs.capacity() * 5 + s.name.capacity();
            for st in s.fams.iter().flatten() {
                total += st.holders.capacity() * 5 + st.spec.excluded.ranges().len() * 32;
            }
            for p in &s.pools {
                total += p.fams.iter().flatten().map(PoolFamily::heap_bytes).sum::<usize>();
            }
        }
        total
    }

    pub fn nic_count(&self) -> usize {
        self.nics.len()
    }

    pub fn subnet_id(&self, name: &str) -> Option<SubnetId> {
        // Most calls name the same subnet as the previous one: compare before hashing.
        let (last_name, last_id) = self.last_subnet.get();
        if let Some(s) = self.subnets.get(last_id as usize).and_then(Option::as_ref)
            && last_name == s.name.len() as u32
            && s.name == name
        {
            return Some(last_id);
        }
        let id = self.by_name.get(name).copied()?;
        if let Some(s) = self.subnets[id as usize].as_ref() {
            self.last_subnet.set((s.name.len() as u32, id));
        }
        Some(id)
    }

    fn subnet_ref(&self, name: &str) -> Result<(SubnetId, &Subnet)> {
        let id = self.subnet_id(name).ok_or_else(|| no_subnet(name))?;
        Ok((id, self.subnets[id as usize].as_ref().expect("indexed subnet exists")))
    }

    fn subnet_name(&self, id: SubnetId) -> &str {
        self.subnets[id as usize].as_ref().map(|s| s.name.as_str()).unwrap_or("")
    }

    // ---- subnets ------------------------------------------------------------------------

    fn validate_subnet(spec: &SubnetSpecIn<'_>) -> Result<[Option<FamilySpec>; 2]> {
        let name = spec.name;
        let cidrs = parse_subnet_cidr(name, spec.cidr)?;
        let mut gateways: [Option<u128>; 2] = [None, None];
        match spec.gateway {
            Some(g) if !g.is_empty() => {
                let bad_set = || {
                    IpamError::new(
                        ErrorCode::InvalidArgument,
                        format!("subnet {}: gateway {} must give one address per family of the subnet", q(name), q(g)),
                    )
                    .subnet(name)
                    .address(g)
                };
                for part in g.split(',') {
                    let (f, v) = parse_ip(part).ok_or_else(|| invalid_ip(part).subnet(name))?;
                    let slot = &mut gateways[fidx(f)];
                    if slot.is_some() || cidrs[fidx(f)].is_none() {
                        return Err(bad_set());
                    }
                    *slot = Some(v);
                }
                if FAMILIES.iter().any(|&f| cidrs[fidx(f)].is_some() != gateways[fidx(f)].is_some()) {
                    return Err(bad_set());
                }
                for f in FAMILIES {
                    if let (Some(c), Some(gw)) = (cidrs[fidx(f)], gateways[fidx(f)]) {
                        let (lo, hi) = c.usable().expect("validated");
                        if gw < lo || gw > hi {
                            return Err(out_of_range(name, f, gw));
                        }
                    }
                }
            }
            _ => {
                for f in FAMILIES {
                    gateways[fidx(f)] = cidrs[fidx(f)].map(|c| c.usable().expect("validated").0);
                }
            }
        }
        let mut excluded: [Vec<(u128, u128)>; 2] = [Vec::new(), Vec::new()];
        for &entry in spec.exclude_ips {
            let (f, lo, hi) = parse_entry(entry, false).map_err(|e| e.subnet(name))?;
            if let Some(c) = cidrs[fidx(f)] {
                let (ulo, uhi) = c.usable().expect("validated");
                let (a, b) = (lo.max(ulo), hi.min(uhi));
                if a <= b {
                    excluded[fidx(f)].push((a, b));
                }
            }
        }
        let mut out: [Option<FamilySpec>; 2] = [None, None];
        for f in FAMILIES {
            if let Some(c) = cidrs[fidx(f)] {
                let gw = gateways[fidx(f)].expect("set above");
                let mut ex = std::mem::take(&mut excluded[fidx(f)]);
                ex.push((gw, gw));
                out[fidx(f)] = Some(FamilySpec { cidr: c, usable: c.usable().expect("validated"), gateway: gw, excluded: RangeList::from_ranges(ex) });
            }
        }
        Ok(out)
    }

    pub fn add_or_update_subnet(&mut self, spec: &SubnetSpecIn<'_>) -> Result<Vec<Record>> {
        let new_specs = Self::validate_subnet(spec)?;
        let Some(id) = self.subnet_id(spec.name) else {
            let mut subnet = Subnet {
                name: spec.name.to_string(),
                fams: [None, None],
                pools: vec![Pool { name: String::new(), raw: [RangeList::new(), RangeList::new()], fams: [None, None] }],
                macs: HashTable::new(),
            };
            for f in FAMILIES {
                subnet.fams[fidx(f)] = new_specs[fidx(f)].clone().map(|s| FamilyState { spec: s, holders: HashTable::new() });
                subnet.rebuild_family(f, &self.nics);
            }
            let id = match self.subnets.iter().position(Option::is_none) {
                Some(free) => {
                    self.subnets[free] = Some(subnet);
                    free as SubnetId
                }
                None => {
                    self.subnets.push(Some(subnet));
                    (self.subnets.len() - 1) as SubnetId
                }
            };
            self.by_name.insert(spec.name.to_string(), id);
            return Ok(Vec::new());
        };
        let seed = self.seed;
        let subnet = self.subnets[id as usize].as_mut().expect("indexed subnet exists");
        let changed: Vec<Family> =
            FAMILIES.into_iter().filter(|&f| subnet.fams[fidx(f)].as_ref().map(|s| &s.spec) != new_specs[fidx(f)].as_ref()).collect();
        if changed.is_empty() {
            return Ok(Vec::new());
        }
        // 1. Invalidate holders that the new spec no longer allows.
        let mut lost: Vec<(NicId, Family, u128)> = Vec::new();
        for &f in &changed {
            let v6 = f == Family::V6;
            let Some(state) = subnet.fams[fidx(f)].as_ref() else { continue };
            let new = new_specs[fidx(f)].as_ref();
            for &nic in state.holders.iter() {
                let a = self.nics.get(nic).addr(v6).expect("holder has address");
                let valid = new.is_some_and(|n| a >= n.usable.0 && a <= n.usable.1 && a != n.gateway);
                if !valid {
                    lost.push((nic, f, a));
                }
            }
        }
        for &(nic, f, a) in &lost {
            let v6 = f == Family::V6;
            let state = subnet.fams[fidx(f)].as_mut().expect("family had holders");
            holder_remove(&mut state.holders, &self.nics, seed, v6, a);
            self.nics.get_mut(nic).set_addr(v6, None);
        }
        // Carry the holder tables over to the new spec.
        for &f in &changed {
            let fi = fidx(f);
            match new_specs[fi].clone() {
                Some(s) => match subnet.fams[fi].as_mut() {
                    Some(state) => state.spec = s,
                    None => subnet.fams[fi] = Some(FamilyState { spec: s, holders: HashTable::new() }),
                },
                None => subnet.fams[fi] = None,
            }
        }
        // 2./3. Pool membership, free = members − excluded − held, released = ∅.
        for &f in &changed {
            subnet.rebuild_family(f, &self.nics);
        }
        // Report per NIC, dropping NICs left with nothing.
        let mut by_nic: Vec<NicId> = lost.iter().map(|l| l.0).collect();
        by_nic.sort_unstable();
        by_nic.dedup();
        let mut out = Vec::new();
        for nic in by_nic {
            let (owner, nic_name) = self.nics.names(nic);
            let mut rec = Record { subnet: subnet.name.clone(), owner: owner.to_string(), nic: nic_name.to_string(), v4: None, v6: None, mac: None };
            for &(n, f, a) in &lost {
                if n == nic {
                    match f {
                        Family::V4 => rec.v4 = Some(format_ip(f, a)),
                        Family::V6 => rec.v6 = Some(format_ip(f, a)),
                    }
                }
            }
            if !self.nics.get(nic).has_any_addr() {
                if let Some(m) = self.nics.get(nic).mac() {
                    rec.mac = Some(format_mac(m));
                    mac_remove(&mut subnet.macs, &self.nics, seed, m);
                }
                self.nics.remove(nic);
            }
            out.push(rec);
        }
        out.sort_by(|a, b| (a.owner.as_str(), a.nic.as_str()).cmp(&(b.owner.as_str(), b.nic.as_str())));
        Ok(out)
    }

    pub fn delete_subnet(&mut self, name: &str) -> Result<()> {
        let Some(id) = self.by_name.remove(name) else { return Ok(()) };
        let subnet = self.subnets[id as usize].take().expect("indexed subnet exists");
        let mut nics: Vec<NicId> = subnet.fams.iter().flatten().flat_map(|s| s.holders.iter().copied()).collect();
        nics.sort_unstable();
        nics.dedup();
        for nic in nics {
            self.nics.remove(nic);
        }
        Ok(())
    }

    // ---- pools --------------------------------------------------------------------------

    pub fn add_or_update_pool(&mut self, subnet_name: &str, pool: &str, ips: &[&str]) -> Result<()> {
        if pool.is_empty() {
            return Err(empty_pool(subnet_name));
        }
        let mut raw: [Vec<(u128, u128)>; 2] = [Vec::new(), Vec::new()];
        for &entry in ips {
            let (f, lo, hi) = parse_entry(entry, true).map_err(|e| e.subnet(subnet_name))?;
            raw[fidx(f)].push((lo, hi));
        }
        let raw = raw.map(RangeList::from_ranges);
        let (id, subnet) = self.subnet_ref(subnet_name).map_err(|e| e.pool(pool))?;
        for other in subnet.pools.iter().skip(1) {
            if other.name == pool {
                continue;
            }
            for f in FAMILIES {
                let overlap = raw[fidx(f)].intersect(&other.raw[fidx(f)]);
                if !overlap.is_empty() {
                    let range = format_ranges(overlap.ranges().iter().copied(), |v| format_ip(f, v));
                    return Err(IpamError::new(
                        ErrorCode::AddressConflict,
                        format!("pool {} overlaps pool {} in subnet {}: {range}", q(pool), q(&other.name), q(subnet_name)),
                    )
                    .subnet(subnet_name)
                    .pool(pool));
                }
            }
        }
        let subnet = self.subnets[id as usize].as_mut().expect("indexed subnet exists");
        match subnet.pool_index(pool) {
            Some(i) => subnet.pools[i].raw = raw,
            None => {
                let at = subnet.pools[1..].partition_point(|p| p.name.as_str() < pool) + 1;
                subnet.pools.insert(at, Pool { name: pool.to_string(), raw, fams: [None, None] });
            }
        }
        let nics = &self.nics;
        for f in FAMILIES {
            let fi = fidx(f);
            let Some(state) = subnet.fams[fi].as_ref() else { continue };
            let usable = state.usable_list();
            let excluded = state.spec.excluded.clone();
            let mut held = subnet.held_addresses(f, nics);
            held.sort_unstable();
            let mut named_union = RangeList::new();
            for p in subnet.pools.iter_mut().skip(1) {
                let members = p.raw[fi].intersect(&usable);
                named_union = named_union.union(&members);
                if p.name == pool {
                    let mine = held_within(&held, &members);
                    p.fams[fi] = Some(PoolFamily::build(members, &excluded, &mine, &[]));
                }
            }
            let members = usable.subtract(&named_union);
            let mine = held_within(&held, &members);
            subnet.pools[0].fams[fi] = Some(PoolFamily::build(members, &excluded, &mine, &[]));
        }
        Ok(())
    }

    pub fn remove_pool(&mut self, subnet_name: &str, pool: &str) -> Result<()> {
        if pool.is_empty() {
            return Err(empty_pool(subnet_name));
        }
        let (id, _) = self.subnet_ref(subnet_name).map_err(|e| e.pool(pool))?;
        let subnet = self.subnets[id as usize].as_mut().expect("indexed subnet exists");
        let Some(i) = subnet.pool_index(pool) else { return Ok(()) };
        let removed = subnet.pools.remove(i);
        let nics = &self.nics;
        for f in FAMILIES {
            let fi = fidx(f);
            let Some(state) = subnet.fams[fi].as_ref() else { continue };
            let excluded = state.spec.excluded.clone();
            let mut held = subnet.held_addresses(f, nics);
            held.sort_unstable();
            let old = subnet.pools[0].fams[fi].take();
            let gone = removed.fams[fi].as_ref();
            let members = match (&old, gone) {
                (Some(o), Some(g)) => o.members.union(&g.members),
                (Some(o), None) => o.members.clone(),
                (None, Some(g)) => g.members.clone(),
                (None, None) => RangeList::new(),
            };
            let mut released: Vec<u128> = Vec::new();
            for pf in old.iter().chain(gone) {
                released.extend(pf.released.members());
            }
            released.sort_unstable();
            let mine = held_within(&held, &members);
            subnet.pools[0].fams[fi] = Some(PoolFamily::build(members, &excluded, &mine, &released));
        }
        Ok(())
    }

    // ---- allocation ---------------------------------------------------------------------

    fn plan_family(
        &self,
        subnet: &Subnet,
        nic: Option<NicId>,
        f: Family,
        pool: usize,
        skip: &[u128],
    ) -> std::result::Result<FamilyPlan, PickFailure> {
        let held = nic.and_then(|n| self.nics.get(n).addr(f == Family::V6));
        if let Some(a) = held
            && !skip.contains(&a)
        {
            return Ok(FamilyPlan::Keep);
        }
        let moved_in = held.is_some_and(|a| !subnet.is_excluded(f, a) && subnet.pool_of(f, a) == Some(pool));
        let pf = subnet.pools[pool].fams[fidx(f)].as_ref().ok_or(PickFailure::NoAvailable)?;
        let pick = pf.plan(skip, moved_in)?;
        Ok(FamilyPlan::Pick { moved: held, pool, pick })
    }

    fn commit_family(&mut self, id: SubnetId, nic: NicId, f: Family, plan: FamilyPlan) {
        let seed = self.seed;
        let v6 = f == Family::V6;
        let FamilyPlan::Pick { moved, pool, pick } = plan else { return };
        let subnet = self.subnets[id as usize].as_mut().expect("planned subnet exists");
        if let Some(a) = moved {
            let state = subnet.fams[fidx(f)].as_mut().expect("family exists");
            holder_remove(&mut state.holders, &self.nics, seed, v6, a);
            self.nics.get_mut(nic).set_addr(v6, None);
            subnet.release_address(f, a);
        }
        subnet.pools[pool].fams[fidx(f)].as_mut().expect("planned pool family").commit(pick);
        self.nics.get_mut(nic).set_addr(v6, Some(pick.address));
        let state = subnet.fams[fidx(f)].as_mut().expect("family exists");
        holder_insert(&mut state.holders, &self.nics, seed, v6, pick.address, nic);
    }

    /// Applies the MAC rule of §4 to a NIC at commit time.
    fn commit_mac(&mut self, id: SubnetId, nic: NicId, mac: Option<MacChoice>) {
        let seed = self.seed;
        let subnet = self.subnets[id as usize].as_mut().expect("planned subnet exists");
        let current = self.nics.get(nic).mac();
        let wanted = match mac {
            None => return,
            Some(MacChoice::Generate) => {
                if current.is_some() {
                    return;
                }
                loop {
                    let m = self.rng.next_mac();
                    if mac_holder(&subnet.macs, &self.nics, seed, m).is_none() {
                        break m;
                    }
                }
            }
            Some(MacChoice::Static(m, steal_from)) => {
                if current == Some(m) {
                    return;
                }
                if let Some(other) = steal_from {
                    mac_remove(&mut subnet.macs, &self.nics, seed, m);
                    self.nics.get_mut(other).set_mac(None);
                }
                m
            }
        };
        if let Some(old) = current {
            mac_remove(&mut subnet.macs, &self.nics, seed, old);
        }
        self.nics.get_mut(nic).set_mac(Some(wanted));
        mac_insert(&mut subnet.macs, &self.nics, seed, wanted, nic);
    }

    fn result_of(&self, nic: NicId, families: &[Family]) -> Allocation {
        let r = self.nics.get(nic);
        let mut out = Allocation { mac: r.mac().map(format_mac), ..Default::default() };
        for &f in families {
            match f {
                Family::V4 => out.v4 = r.v4().map(|v| format_ip(f, u128::from(v))),
                Family::V6 => out.v6 = r.v6().map(|v| format_ip(f, v)),
            }
        }
        out
    }

    fn nic_or_insert(&mut self, id: SubnetId, existing: Option<NicId>, owner: &str, nic: &str) -> NicId {
        existing.unwrap_or_else(|| self.nics.insert(id, owner, nic))
    }

    pub fn allocate(&mut self, req: &AllocateIn<'_>) -> Result<Allocation> {
        let (nic, families) = self.allocate_nic(req)?;
        Ok(self.result_of(nic, families.iter().flatten().copied().collect::<Vec<_>>().as_slice()))
    }

    /// `allocate`, with the result written as "v4\0v6\0mac" (empty = absent) into `out`:
    /// the binding's form, without intermediate strings.
    pub fn allocate_text(&mut self, req: &AllocateIn<'_>, out: &mut String) -> Result<()> {
        let (nic, families) = self.allocate_nic(req)?;
        let r = self.nics.get(nic);
        if families.contains(&Some(Family::V4))
            && let Some(v) = r.v4()
        {
            crate::addr::push_v4(out, v);
        }
        out.push('\0');
        if families.contains(&Some(Family::V6))
            && let Some(v) = r.v6()
        {
            out.push_str(&format_ip(Family::V6, v));
        }
        out.push('\0');
        if let Some(m) = r.mac() {
            crate::mac::push_mac(out, m);
        }
        Ok(())
    }

    fn allocate_nic(&mut self, req: &AllocateIn<'_>) -> Result<(NicId, [Option<Family>; 2])> {
        let ctx = Ctx::nic(req.subnet, req.owner, req.nic);
        let static_mac = match req.mac {
            MacRequest::Static(text) => Some(mac_parse(text).map_err(|e| ctx.on(e))?),
            _ => None,
        };
        let mut skip: [Vec<u128>; 2] = [Vec::new(), Vec::new()];
        for &s in req.skip {
            let (f, v) = parse_ip(s).ok_or_else(|| ctx.on(invalid_ip(s)))?;
            skip[fidx(f)].push(v);
        }
        let (id, subnet) = self.subnet_ref(req.subnet).map_err(|e| ctx.on(e))?;
        let families: [Option<Family>; 2] = match req.family {
            Some(f) => {
                if subnet.fam(f).is_none() {
                    return Err(ctx.on(IpamError::new(
                        ErrorCode::InvalidIpFamily,
                        format!("subnet {} has no {} addresses", q(req.subnet), family_word(f)),
                    )));
                }
                [Some(f), None]
            }
            None => FAMILIES.map(|f| subnet.fam(f).map(|_| f)),
        };
        let pool_name = req.pool.unwrap_or("");
        let pool = subnet.pool_index(pool_name).ok_or_else(|| ctx.on(no_pool(req.subnet, pool_name)))?;
        let nic = self.nics.find(id, req.owner, req.nic);
        let mut plans: [Option<(Family, FamilyPlan)>; 2] = [None, None];
        for (slot, f) in plans.iter_mut().zip(families) {
            let Some(f) = f else { continue };
            let plan = self
                .plan_family(subnet, nic, f, pool, &skip[fidx(f)])
                .map_err(|e| pick_failure(e, req.subnet, pool_name, f, req.owner, req.nic))?;
            *slot = Some((f, plan));
        }
        let mac_choice = match (req.mac, static_mac) {
            (MacRequest::Static(_), Some(m)) => {
                if let Some(h) = mac_holder(&subnet.macs, &self.nics, self.seed, m)
                    && Some(h) != nic
                {
                    return Err(ctx.on(mac_held(req.subnet, m, self.nics.names(h).0)));
                }
                Some(MacChoice::Static(m, None))
            }
            (MacRequest::Null, _) => None,
            _ => Some(MacChoice::Generate),
        };
        let nic = self.nic_or_insert(id, nic, req.owner, req.nic);
        for (f, plan) in plans.into_iter().flatten() {
            self.commit_family(id, nic, f, plan);
        }
        self.commit_mac(id, nic, mac_choice);
        Ok((nic, families))
    }

    /// Range, gateway and holder checks for a given address (§6). Returns the same-owner NIC
    /// that loses it under `force`.
    fn check_address_free(&self, ctx: &Ctx<'_>, subnet: &Subnet, nic: Option<NicId>, f: Family, a: u128, force: bool) -> Result<Option<NicId>> {
        let Some(state) = subnet.fam(f) else { return Err(ctx.on(out_of_range(ctx.subnet, f, a))) };
        if a < state.spec.usable.0 || a > state.spec.usable.1 {
            return Err(ctx.on(out_of_range(ctx.subnet, f, a)));
        }
        if a == state.spec.gateway {
            return Err(ctx.on(gateway_conflict(ctx.subnet, f, a)));
        }
        let Some(h) = holder_of(&state.holders, &self.nics, self.seed, f == Family::V6, a) else { return Ok(None) };
        if Some(h) == nic {
            return Ok(None);
        }
        let (h_owner, h_nic) = self.nics.names(h);
        if Some(h_owner) != ctx.owner {
            return Err(ctx.on(held_by_owner(ctx.subnet, f, a, h_owner)));
        }
        if !force {
            return Err(ctx.on(held_by_nic(ctx.subnet, f, a, h_owner, h_nic)));
        }
        Ok(Some(h))
    }

    pub fn allocate_static(&mut self, req: &StaticIn<'_>) -> Result<Allocation> {
        let ctx = Ctx::nic(req.subnet, req.owner, req.nic);
        let bad_list = || ctx.on(IpamError::new(ErrorCode::InvalidArgument, format!("invalid static ips {}", q(req.ips))).address(req.ips));
        let parts: Vec<&str> = req.ips.split(',').collect();
        if parts.len() > 2 {
            return Err(bad_list());
        }
        let mut given: Vec<(Family, u128)> = Vec::with_capacity(2);
        for part in parts {
            let Some((f, v)) = parse_ip(part) else { return Err(bad_list()) };
            if given.iter().any(|g| g.0 == f) {
                return Err(bad_list());
            }
            given.push((f, v));
        }
        let static_mac = match req.mac {
            MacRequest::Static(text) => Some(mac_parse(text).map_err(|e| ctx.on(e))?),
            _ => None,
        };
        let (id, subnet) = self.subnet_ref(req.subnet).map_err(|e| ctx.on(e))?;
        let nic = self.nics.find(id, req.owner, req.nic);
        // NICs of the same owner that lose the address to this one (force).
        let mut steals: Vec<(Family, u128, NicId)> = Vec::new();
        for &(f, a) in &given {
            if let Some(h) = self.check_address_free(&ctx, subnet, nic, f, a, req.force)? {
                steals.push((f, a, h));
            }
        }
        let mut other: Option<(Family, FamilyPlan)> = None;
        if given.len() == 1 && subnet.families().count() == 2 {
            let f = if given[0].0 == Family::V4 { Family::V6 } else { Family::V4 };
            let plan = self.plan_family(subnet, nic, f, 0, &[]).map_err(|e| pick_failure(e, req.subnet, "", f, req.owner, req.nic))?;
            other = Some((f, plan));
        }
        let mac_choice = match (req.mac, static_mac) {
            (MacRequest::Static(_), Some(m)) => match mac_holder(&subnet.macs, &self.nics, self.seed, m) {
                Some(h) if Some(h) != nic => {
                    let h_owner = self.nics.names(h).0;
                    if h_owner == req.owner && req.force {
                        Some(MacChoice::Static(m, Some(h)))
                    } else {
                        return Err(ctx.on(mac_held(req.subnet, m, h_owner)));
                    }
                }
                _ => Some(MacChoice::Static(m, None)),
            },
            (MacRequest::Null, _) => None,
            _ => Some(MacChoice::Generate),
        };
        // Commit.
        let seed = self.seed;
        let nic = self.nic_or_insert(id, nic, req.owner, req.nic);
        for &(f, a) in &given {
            let v6 = f == Family::V6;
            let old = self.nics.get(nic).addr(v6);
            if old == Some(a) {
                continue;
            }
            let subnet = self.subnets[id as usize].as_mut().expect("planned subnet exists");
            if let Some(b) = old {
                let state = subnet.fams[fidx(f)].as_mut().expect("family exists");
                holder_remove(&mut state.holders, &self.nics, seed, v6, b);
                self.nics.get_mut(nic).set_addr(v6, None);
                subnet.release_address(f, b);
            }
            if let Some(&(_, _, h)) = steals.iter().find(|s| s.0 == f) {
                let state = subnet.fams[fidx(f)].as_mut().expect("family exists");
                holder_remove(&mut state.holders, &self.nics, seed, v6, a);
                self.nics.get_mut(h).set_addr(v6, None);
            } else {
                subnet.take_address(f, a);
            }
            self.nics.get_mut(nic).set_addr(v6, Some(a));
            let state = subnet.fams[fidx(f)].as_mut().expect("family exists");
            holder_insert(&mut state.holders, &self.nics, seed, v6, a, nic);
        }
        // NICs of this owner left with nothing after a forced move disappear.
        let mut emptied: Vec<NicId> = steals.iter().map(|s| s.2).filter(|&h| !self.nics.get(h).has_any_addr()).collect();
        emptied.sort_unstable();
        emptied.dedup();
        let mut mac_choice = mac_choice;
        for h in emptied {
            let subnet = self.subnets[id as usize].as_mut().expect("planned subnet exists");
            if let Some(m) = self.nics.get(h).mac() {
                mac_remove(&mut subnet.macs, &self.nics, seed, m);
                if let Some(MacChoice::Static(want, Some(from))) = mac_choice
                    && from == h
                {
                    mac_choice = Some(MacChoice::Static(want, None));
                }
            }
            self.nics.remove(h);
        }
        let mut families: Vec<Family> = given.iter().map(|g| g.0).collect();
        if let Some((f, plan)) = other {
            self.commit_family(id, nic, f, plan);
            families.push(f);
        }
        self.commit_mac(id, nic, mac_choice);
        families.sort_by_key(|&f| fidx(f));
        Ok(self.result_of(nic, &families))
    }

    // ---- release ------------------------------------------------------------------------

    fn release_nic_id(&mut self, nic: NicId) {
        let seed = self.seed;
        let id = self.nics.get(nic).subnet;
        let subnet = self.subnets[id as usize].as_mut().expect("NIC's subnet exists");
        for f in FAMILIES {
            let v6 = f == Family::V6;
            if let Some(a) = self.nics.get(nic).addr(v6) {
                let state = subnet.fams[fidx(f)].as_mut().expect("family exists");
                holder_remove(&mut state.holders, &self.nics, seed, v6, a);
                subnet.release_address(f, a);
            }
        }
        if let Some(m) = self.nics.get(nic).mac() {
            mac_remove(&mut subnet.macs, &self.nics, seed, m);
        }
        self.nics.remove(nic);
    }

    /// Releases never fail: no NIC can exist under a name that is not valid, so such a name just
    /// finds nothing (as in the TS twin; the facade rejects it before it gets here). That lets the
    /// adapter defer releases safely.
    pub fn release_nic(&mut self, owner: &str, nic: &str, subnet: Option<&str>) -> Result<()> {
        if let Some(s) = subnet {
            if let Some(n) = self.subnet_id(s).and_then(|id| self.nics.find(id, owner, nic)) {
                self.release_nic_id(n);
            }
            return Ok(());
        }
        let targets: Vec<NicId> = self.nics.of_owner(owner).into_iter().filter(|&n| self.nics.names(n).1 == nic).collect();
        for n in targets {
            self.release_nic_id(n);
        }
        Ok(())
    }

    /// Never fails, for the reason given at `release_nic`.
    pub fn release_owner(&mut self, owner: &str, subnet: Option<&str>) -> Result<()> {
        let only = match subnet {
            Some(s) => match self.subnet_id(s) {
                Some(id) => Some(id),
                None => return Ok(()),
            },
            None => None,
        };
        let targets: Vec<NicId> = self.nics.of_owner(owner).into_iter().filter(|&n| only.is_none_or(|id| self.nics.get(n).subnet == id)).collect();
        for n in targets {
            self.release_nic_id(n);
        }
        Ok(())
    }

    // ---- queries ------------------------------------------------------------------------

    fn record_of(&self, nic: NicId) -> Record {
        let r = self.nics.get(nic);
        let (owner, nic_name) = self.nics.names(nic);
        Record {
            subnet: self.subnet_name(r.subnet).to_string(),
            owner: owner.to_string(),
            nic: nic_name.to_string(),
            v4: r.v4().map(|v| format_ip(Family::V4, u128::from(v))),
            v6: r.v6().map(|v| format_ip(Family::V6, v)),
            mac: r.mac().map(format_mac),
        }
    }

    pub fn addresses_of(&self, owner: &str) -> Result<Vec<Record>> {
        let mut out: Vec<Record> = self.nics.of_owner(owner).into_iter().map(|n| self.record_of(n)).collect();
        out.sort_by(|a, b| (a.subnet.as_str(), a.nic.as_str()).cmp(&(b.subnet.as_str(), b.nic.as_str())));
        Ok(out)
    }

    pub fn owner_of(&self, subnet: &str, ip: &str) -> Result<Option<String>> {
        let (f, a) = parse_ip(ip).ok_or_else(|| invalid_ip(ip).subnet(subnet))?;
        let (_, s) = self.subnet_ref(subnet)?;
        let Some(state) = s.fam(f) else { return Ok(None) };
        Ok(holder_of(&state.holders, &self.nics, self.seed, f == Family::V6, a).map(|n| self.nics.names(n).0.to_string()))
    }

    /// Stats of one family over the whole subnet (`pool` None) or one pool's members.
    fn family_stats(&self, subnet: &Subnet, f: Family, pool: Option<usize>) -> FamilyStats {
        let fi = fidx(f);
        let state = subnet.fam(f).expect("family exists");
        let mut available: u128 = 0;
        let mut runs: Vec<(u128, u128)> = Vec::new();
        for (i, p) in subnet.pools.iter().enumerate() {
            if pool.is_some_and(|only| only != i) {
                continue;
            }
            if let Some(pf) = p.fams[fi].as_ref() {
                let (c, r) = pf.available();
                available += c;
                runs.extend(r);
            }
        }
        let members = pool.and_then(|p| subnet.pools[p].fams[fi].as_ref()).map(|pf| &pf.members);
        let mut using: Vec<u128> = subnet
            .held_addresses(f, &self.nics)
            .into_iter()
            .filter(|&a| !state.spec.excluded.contains(a) && (pool.is_none() || members.is_some_and(|m| m.contains(a))))
            .collect();
        using.sort_unstable();
        let mut using_runs: Vec<(u128, u128)> = Vec::new();
        for a in &using {
            match using_runs.last_mut() {
                Some(last) if last.1 + 1 == *a => last.1 = *a,
                _ => using_runs.push((*a, *a)),
            }
        }
        let available_runs = RangeList::from_ranges(runs);
        FamilyStats {
            available: available.to_string(),
            using: using.len().to_string(),
            available_range: format_ranges(available_runs.ranges().iter().copied(), |v| format_ip(f, v)),
            using_range: format_ranges(using_runs, |v| format_ip(f, v)),
        }
    }

    fn stats_over(&self, s: &Subnet, pool: Option<usize>) -> Stats {
        let mut out = Stats::default();
        for f in s.families() {
            let st = self.family_stats(s, f, pool);
            match f {
                Family::V4 => out.v4 = Some(st),
                Family::V6 => out.v6 = Some(st),
            }
        }
        out
    }

    pub fn subnet_stats(&self, subnet: &str) -> Result<Stats> {
        let (_, s) = self.subnet_ref(subnet)?;
        Ok(self.stats_over(s, None))
    }

    pub fn pool_stats(&self, subnet: &str, pool: &str) -> Result<Stats> {
        let (_, s) = self.subnet_ref(subnet).map_err(|e| e.pool(pool))?;
        let p = s.pool_index(pool).ok_or_else(|| no_pool(subnet, pool))?;
        Ok(self.stats_over(s, Some(p)))
    }

    // ---- restore ------------------------------------------------------------------------

    pub fn restore(&mut self, records: &[RecordIn<'_>]) -> RestoreOutcome {
        self.restore_iter(records.iter().copied())
    }

    /// `restore` over records produced on the fly (walked twice: once to size the indexes),
    /// so a caller with a packed batch need not build a record array first: at 100k records
    /// that array alone is ~10 MB written once and read twice.
    pub fn restore_iter<'r>(&mut self, records: impl Iterator<Item = RecordIn<'r>> + Clone) -> RestoreOutcome {
        self.reserve_for(records.clone());
        let mut out = RestoreOutcome::default();
        for (index, r) in records.enumerate() {
            match self.restore_one(&r) {
                Ok(()) => out.restored += 1,
                Err(error) => out.conflicts.push(RestoreConflict { index, error }),
            }
        }
        out
    }

    /// Sizes the indexes for a bulk load up front (each growth step would rehash everything).
    fn reserve_for<'r>(&mut self, records: impl Iterator<Item = RecordIn<'r>>) {
        let seed = self.seed;
        let mut total = 0usize;
        // Counted per run of records naming the same subnet (a restore is mostly one long run),
        // so the map is touched once per run rather than once per record.
        let mut per_subnet: HashMap<&str, usize, NameHash> = HashMap::default();
        let mut run: Option<(&str, usize)> = None;
        for r in records {
            total += 1;
            match &mut run {
                Some((name, count)) if *name == r.subnet => *count += 1,
                _ => {
                    if let Some((name, count)) = run {
                        *per_subnet.entry(name).or_default() += count;
                    }
                    run = Some((r.subnet, 1));
                }
            }
        }
        if let Some((name, count)) = run {
            *per_subnet.entry(name).or_default() += count;
        }
        self.nics.reserve(total);
        for (name, count) in per_subnet {
            let Some(id) = self.subnet_id(name) else { continue };
            let subnet = self.subnets[id as usize].as_mut().expect("indexed subnet exists");
            let nics = &self.nics;
            subnet.macs.reserve(count, |&other| crate::hash::hash_u128(seed, u128::from(nics.get(other).mac().unwrap_or(0))));
            for f in FAMILIES {
                let v6 = f == Family::V6;
                if let Some(state) = subnet.fams[fidx(f)].as_mut() {
                    state.holders.reserve(count, |&other| crate::hash::hash_u128(seed, nics.get(other).addr(v6).unwrap_or(0)));
                }
            }
        }
    }

    fn restore_one(&mut self, r: &RecordIn<'_>) -> Result<()> {
        let ctx = Ctx::nic(r.subnet, r.owner, r.nic);
        if r.v4.is_none() && r.v6.is_none() {
            return Err(ctx.on(IpamError::new(ErrorCode::InvalidArgument, "restore record has no address".to_string())));
        }
        // At most one address per family: fixed slots, no allocation per record.
        let mut given: [Option<(Family, u128)>; 2] = [None, None];
        for (slot, (field, text, want)) in given.iter_mut().zip([("v4", r.v4, Family::V4), ("v6", r.v6, Family::V6)]) {
            let Some(text) = text else { continue };
            let (f, v) = parse_ip(text).ok_or_else(|| ctx.on(invalid_ip(text)))?;
            if f != want {
                return Err(ctx.on(
                    IpamError::new(ErrorCode::InvalidArgument, format!("{field} {} is not an {} address", q(text), want.protocol_name()))
                        .address(text),
                ));
            }
            *slot = Some((f, v));
        }
        let mac = r.mac.map(mac_parse).transpose().map_err(|e| ctx.on(e))?;
        let (id, subnet) = self.subnet_ref(r.subnet).map_err(|e| ctx.on(e))?;
        let nic = self.nics.find(id, r.owner, r.nic);
        let already = |what: String| {
            IpamError::new(
                ErrorCode::AddressConflict,
                format!("nic {}/{} in subnet {} already holds {what}", r.owner, r.nic, q(r.subnet)),
            )
            .subnet(r.subnet)
            .owner(r.owner)
            .nic(r.nic)
            .address(&what)
            .held_by(r.owner)
        };
        let mut to_take: [Option<(Family, u128)>; 2] = [None, None];
        for (slot, &(f, a)) in to_take.iter_mut().zip(given.iter().flatten()) {
            let v6 = f == Family::V6;
            self.check_address_free(&ctx, subnet, nic, f, a, false)?;
            if let Some(n) = nic
                && let Some(b) = self.nics.get(n).addr(v6)
            {
                if b != a {
                    return Err(already(format_ip(f, b)));
                }
                continue;
            }
            *slot = Some((f, a));
        }
        let mut set_mac = None;
        if let Some(m) = mac {
            if let Some(h) = mac_holder(&subnet.macs, &self.nics, self.seed, m)
                && Some(h) != nic
            {
                return Err(ctx.on(mac_held(r.subnet, m, self.nics.names(h).0)));
            }
            match nic.and_then(|n| self.nics.get(n).mac()) {
                Some(cur) if cur != m => return Err(already(format_mac(cur))),
                Some(_) => {}
                None => set_mac = Some(m),
            }
        }
        let seed = self.seed;
        let nic = self.nic_or_insert(id, nic, r.owner, r.nic);
        let subnet = self.subnets[id as usize].as_mut().expect("checked above");
        for (f, a) in to_take.into_iter().flatten() {
            let v6 = f == Family::V6;
            subnet.take_address(f, a);
            self.nics.get_mut(nic).set_addr(v6, Some(a));
            let state = subnet.fams[fidx(f)].as_mut().expect("family exists");
            holder_insert(&mut state.holders, &self.nics, seed, v6, a, nic);
        }
        if let Some(m) = set_mac {
            self.nics.get_mut(nic).set_mac(Some(m));
            mac_insert(&mut subnet.macs, &self.nics, seed, m, nic);
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug)]
enum MacChoice {
    /// keep the NIC's MAC, or generate one if it has none
    Generate,
    /// set this MAC, taking it from that NIC of the same owner first (force)
    Static(u64, Option<NicId>),
}
