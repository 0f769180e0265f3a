//! A subnet's validated spec and its per-family state: usable range, gateway, excluded set,
//! holder index (address -> NIC), plus the subnet's pools and MAC index.

use hashbrown::HashTable;

use crate::addr::{Cidr, Family, format_ip, parse_ip};
use crate::error::{ErrorCode, IpamError, Result, q};
use crate::hash::hash_u128;
use crate::nic::{NicId, NicStore};
use crate::pool::PoolFamily;
use crate::ranges::RangeList;

pub const FAMILIES: [Family; 2] = [Family::V4, Family::V6];

#[inline]
pub fn fidx(f: Family) -> usize {
    match f {
        Family::V4 => 0,
        Family::V6 => 1,
    }
}

/// One family of a validated subnet spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FamilySpec {
    pub cidr: Cidr,
    pub usable: (u128, u128),
    pub gateway: u128,
    /// clipped excludeIps ∪ {gateway}
    pub excluded: RangeList,
}

pub struct FamilyState {
    pub spec: FamilySpec,
    pub holders: HashTable<NicId>,
}

impl FamilyState {
    pub fn usable_list(&self) -> RangeList {
        RangeList::single(self.spec.usable.0, self.spec.usable.1)
    }
}

pub struct Pool {
    pub name: String,
    /// The pool's entries per family, as given (named pools only).
    pub raw: [RangeList; 2],
    pub fams: [Option<PoolFamily>; 2],
}

pub struct Subnet {
    pub name: String,
    pub fams: [Option<FamilyState>; 2],
    /// pools[0] is the default pool (name ""); named pools follow in ascending name order.
    pub pools: Vec<Pool>,
    pub macs: HashTable<NicId>,
}

/// Address -> NIC lookups over a family's holder table (the table stores NIC ids; the address
/// is read back from the NIC record).
pub fn holder_of(t: &HashTable<NicId>, nics: &NicStore, seed: u64, v6: bool, a: u128) -> Option<NicId> {
    t.find(hash_u128(seed, a), |&id| nics.get(id).addr(v6) == Some(a)).copied()
}

/// The NIC record must already carry `a` (a rehash reads every member's address).
pub fn holder_insert(t: &mut HashTable<NicId>, nics: &NicStore, seed: u64, v6: bool, a: u128, id: NicId) {
    t.insert_unique(hash_u128(seed, a), id, |&other| hash_u128(seed, nics.get(other).addr(v6).unwrap_or(0)));
}

pub fn holder_remove(t: &mut HashTable<NicId>, nics: &NicStore, seed: u64, v6: bool, a: u128) {
    if let Ok(e) = t.find_entry(hash_u128(seed, a), |&id| nics.get(id).addr(v6) == Some(a)) {
        e.remove();
    }
}

pub fn mac_holder(t: &HashTable<NicId>, nics: &NicStore, seed: u64, mac: u64) -> Option<NicId> {
    t.find(hash_u128(seed, u128::from(mac)), |&id| nics.get(id).mac() == Some(mac)).copied()
}

pub fn mac_insert(t: &mut HashTable<NicId>, nics: &NicStore, seed: u64, mac: u64, id: NicId) {
    t.insert_unique(hash_u128(seed, u128::from(mac)), id, |&other| hash_u128(seed, u128::from(nics.get(other).mac().unwrap_or(0))));
}

pub fn mac_remove(t: &mut HashTable<NicId>, nics: &NicStore, seed: u64, mac: u64) {
    if let Ok(e) = t.find_entry(hash_u128(seed, u128::from(mac)), |&id| nics.get(id).mac() == Some(mac)) {
        e.remove();
    }
}

impl Subnet {
    pub fn fam(&self, f: Family) -> Option<&FamilyState> {
        self.fams[fidx(f)].as_ref()
    }

    pub fn families(&self) -> impl Iterator<Item = Family> + '_ {
        FAMILIES.into_iter().filter(|f| self.fams[fidx(*f)].is_some())
    }

    pub fn pool_index(&self, name: &str) -> Option<usize> {
        if name.is_empty() {
            return Some(0);
        }
        self.pools[1..].binary_search_by(|p| p.name.as_str().cmp(name)).ok().map(|i| i + 1)
    }

    /// The pool an address of family f belongs to now.
    pub fn pool_of(&self, f: Family, a: u128) -> Option<usize> {
        let fi = fidx(f);
        for (i, p) in self.pools.iter().enumerate().skip(1) {
            if p.fams[fi].as_ref().is_some_and(|pf| pf.members.contains(a)) {
                return Some(i);
            }
        }
        self.pools[0].fams[fi].as_ref().filter(|pf| pf.members.contains(a)).map(|_| 0)
    }

    pub fn is_excluded(&self, f: Family, a: u128) -> bool {
        self.fam(f).is_some_and(|s| s.spec.excluded.contains(a))
    }

    /// Gives back a held address: to its pool's released set unless it is excluded.
    pub fn release_address(&mut self, f: Family, a: u128) {
        if self.is_excluded(f, a) {
            return;
        }
        if let Some(p) = self.pool_of(f, a)
            && let Some(pf) = self.pools[p].fams[fidx(f)].as_mut()
        {
            pf.release(a);
        }
    }

    /// Takes a specific address out of free / released of its pool.
    pub fn take_address(&mut self, f: Family, a: u128) {
        if let Some(p) = self.pool_of(f, a)
            && let Some(pf) = self.pools[p].fams[fidx(f)].as_mut()
        {
            pf.take(a);
        }
    }

    pub fn held_addresses(&self, f: Family, nics: &NicStore) -> Vec<u128> {
        let v6 = f == Family::V6;
        match self.fam(f) {
            Some(s) => s.holders.iter().filter_map(|&id| nics.get(id).addr(v6)).collect(),
            None => Vec::new(),
        }
    }

    /// Recomputes every pool's members of family f and resets free / released
    /// (free = members − excluded − held, released = ∅).
    pub fn rebuild_family(&mut self, f: Family, nics: &NicStore) {
        let fi = fidx(f);
        let Some(state) = self.fams[fi].as_ref() else {
            for p in &mut self.pools {
                p.fams[fi] = None;
            }
            return;
        };
        let usable = state.usable_list();
        let excluded = state.spec.excluded.clone();
        let mut held = self.held_addresses(f, nics);
        held.sort_unstable();
        let mut named_union = RangeList::new();
        for p in self.pools.iter_mut().skip(1) {
            let members = p.raw[fi].intersect(&usable);
            named_union = named_union.union(&members);
            let mine = held_within(&held, &members);
            p.fams[fi] = Some(PoolFamily::build(members, &excluded, &mine, &[]));
        }
        let members = usable.subtract(&named_union);
        let mine = held_within(&held, &members);
        self.pools[0].fams[fi] = Some(PoolFamily::build(members, &excluded, &mine, &[]));
    }

    pub fn fmt(&self, f: Family, a: u128) -> String {
        format_ip(f, a)
    }
}

pub fn held_within(sorted_held: &[u128], members: &RangeList) -> Vec<u128> {
    sorted_held.iter().copied().filter(|&h| members.contains(h)).collect()
}

/// Parses `cidr` ("a/n" or "a/n,b/m") into one CIDR per family (docs/ipam.md §2).
pub fn parse_subnet_cidr(name: &str, cidr: &str) -> Result<[Option<Cidr>; 2]> {
    let invalid = || IpamError::new(ErrorCode::CidrInvalid, format!("subnet {}: invalid cidr {}", q(name), q(cidr))).subnet(name);
    let mut out: [Option<Cidr>; 2] = [None, None];
    if cidr.is_empty() {
        return Err(invalid());
    }
    let parts: Vec<&str> = cidr.split(',').collect();
    if parts.len() > 2 {
        return Err(invalid());
    }
    for part in parts {
        let c = Cidr::parse(part).ok_or_else(invalid)?;
        if c.usable().is_none() {
            return Err(invalid());
        }
        let slot = &mut out[fidx(c.family)];
        if slot.is_some() {
            return Err(invalid());
        }
        *slot = Some(c);
    }
    Ok(out)
}

pub fn invalid_ip(text: &str) -> IpamError {
    IpamError::new(ErrorCode::InvalidArgument, format!("invalid IP address {}", q(text))).address(text)
}

pub fn invalid_range(text: &str) -> IpamError {
    IpamError::new(ErrorCode::InvalidArgument, format!("invalid IP range {}", q(text))).address(text)
}

/// An address, "a..b", or (when `allow_cidr`) a CIDR, as (family, lo, hi).
pub fn parse_entry(text: &str, allow_cidr: bool) -> Result<(Family, u128, u128)> {
    if let Some((a, b)) = text.split_once("..") {
        let (fa, va) = parse_ip(a).ok_or_else(|| invalid_range(text))?;
        let (fb, vb) = parse_ip(b).ok_or_else(|| invalid_range(text))?;
        if fa != fb || va > vb {
            return Err(invalid_range(text));
        }
        return Ok((fa, va, vb));
    }
    if text.contains('/') {
        if !allow_cidr {
            return Err(invalid_range(text));
        }
        let c = Cidr::parse(text).ok_or_else(|| invalid_range(text))?;
        return Ok((c.family, c.network, c.broadcast()));
    }
    let (f, v) = parse_ip(text).ok_or_else(|| invalid_ip(text))?;
    Ok((f, v, v))
}
