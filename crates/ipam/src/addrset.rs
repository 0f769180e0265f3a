//! A set of addresses in whichever form costs least: a hierarchical bitmap when the span is
//! small enough to hold one bit per address (an IPv4 /8 is 2 MiB), otherwise a sparse form whose
//! memory follows what was taken out of (or put into) the set, not the size of the range.

use std::cell::Cell;

use crate::bitmap::HierBitmap;
use crate::ranges::RangeList;
use crate::sparse::SparseBits;

/// Largest span held as a flat bitmap (8 MiB of leaves).
pub const DENSE_LIMIT: u128 = 1 << 26;

#[derive(Clone, Debug)]
pub enum AddrSet {
    /// Members are `base + i` for each set bit i.
    Dense { base: u128, bits: HierBitmap },
    /// Members listed explicitly.
    Sparse(SparseBits),
    /// Members are `universe` minus `holes` (holes ⊆ universe). `hint` is a lower bound of the
    /// smallest member, so a sequential fill does not rescan the holes it already made.
    Complement { universe: RangeList, holes: SparseBits, hint: Cell<u128> },
}

impl AddrSet {
    /// The set holding exactly `ranges`; `span` bounds every value that may later be inserted.
    pub fn from_ranges(ranges: &RangeList, span: Option<(u128, u128)>) -> AddrSet {
        match span {
            Some((lo, hi)) if hi - lo < DENSE_LIMIT => {
                let mut bits = HierBitmap::new((hi - lo + 1) as u64);
                for &(a, b) in ranges.ranges() {
                    bits.insert_range((a - lo) as u64, (b - lo) as u64);
                }
                AddrSet::Dense { base: lo, bits }
            }
            _ => AddrSet::Complement {
                universe: ranges.clone(),
                holes: SparseBits::with_base(ranges.first().unwrap_or(0)),
                hint: Cell::new(0),
            },
        }
    }

    /// An empty set able to take values in `span`.
    pub fn empty(span: Option<(u128, u128)>) -> AddrSet {
        match span {
            Some((lo, hi)) if hi - lo < DENSE_LIMIT => AddrSet::Dense { base: lo, bits: HierBitmap::new((hi - lo + 1) as u64) },
            Some((lo, _)) => AddrSet::Sparse(SparseBits::with_base(lo)),
            None => AddrSet::Sparse(SparseBits::new()),
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            AddrSet::Dense { bits, .. } => bits.heap_bytes(),
            AddrSet::Sparse(s) => s.heap_bytes(),
            AddrSet::Complement { universe, holes, .. } => universe.ranges().len() * 32 + holes.heap_bytes(),
        }
    }

    pub fn contains(&self, v: u128) -> bool {
        match self {
            AddrSet::Dense { base, bits } => v >= *base && v - base < u128::from(bits.len()) && bits.contains((v - base) as u64),
            AddrSet::Sparse(s) => s.contains(v),
            AddrSet::Complement { universe, holes, .. } => universe.contains(v) && !holes.contains(v),
        }
    }

    /// Adds v; returns whether it was absent. A Dense set must have v inside its span.
    pub fn insert(&mut self, v: u128) -> bool {
        match self {
            AddrSet::Dense { base, bits } => {
                debug_assert!(v >= *base && v - *base < u128::from(bits.len()));
                if v < *base || v - *base >= u128::from(bits.len()) {
                    return false;
                }
                bits.insert((v - *base) as u64)
            }
            AddrSet::Sparse(s) => s.insert(v),
            AddrSet::Complement { universe, holes, hint } => {
                if v < hint.get() {
                    hint.set(v);
                }
                if universe.contains(v) {
                    holes.remove(v)
                } else {
                    *universe = universe.union(&RangeList::single(v, v));
                    true
                }
            }
        }
    }

    /// Removes v; returns whether it was present.
    pub fn remove(&mut self, v: u128) -> bool {
        match self {
            AddrSet::Dense { base, bits } => v >= *base && v - *base < u128::from(bits.len()) && bits.remove((v - *base) as u64),
            AddrSet::Sparse(s) => s.remove(v),
            AddrSet::Complement { universe, holes, hint } => {
                let removed = universe.contains(v) && holes.insert(v);
                // Still a lower bound: nothing below v is a member, and v no longer is.
                if removed && v == hint.get() && v != u128::MAX {
                    hint.set(v + 1);
                }
                removed
            }
        }
    }

    /// The lowest member >= from.
    pub fn next_ge(&self, from: u128) -> Option<u128> {
        match self {
            AddrSet::Dense { base, bits } => {
                let start = from.saturating_sub(*base);
                if start >= u128::from(bits.len()) {
                    return None;
                }
                bits.next_set(start as u64).map(|i| *base + u128::from(i))
            }
            AddrSet::Sparse(s) => s.next_set(from),
            AddrSet::Complement { universe, holes, hint } => {
                let from_hint = from <= hint.get();
                let mut x = from.max(hint.get());
                let found = loop {
                    let Some(candidate) = universe.next_ge(x) else { break None };
                    if !holes.contains(candidate) {
                        break Some(candidate);
                    }
                    match holes.next_clear(candidate) {
                        Some(next) => x = next,
                        None => break None,
                    }
                };
                if from_hint {
                    // Everything below `found` is a hole or outside the universe.
                    hint.set(found.unwrap_or(u128::MAX));
                }
                found
            }
        }
    }

    /// The lowest member not listed in `skip`.
    pub fn lowest_not_in(&self, skip: &[u128]) -> Option<u128> {
        let mut x = 0u128;
        loop {
            let m = self.next_ge(x)?;
            if !skip.contains(&m) {
                return Some(m);
            }
            if m == u128::MAX {
                return None;
            }
            x = m + 1;
        }
    }

    pub fn count(&self) -> u128 {
        match self {
            AddrSet::Dense { bits, .. } => u128::from(bits.count()),
            AddrSet::Sparse(s) => s.count(),
            AddrSet::Complement { universe, holes, .. } => universe.count() - holes.count(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            AddrSet::Dense { bits, .. } => bits.is_empty(),
            AddrSet::Sparse(s) => s.is_empty(),
            AddrSet::Complement { .. } => self.next_ge(0).is_none(),
        }
    }

    /// Maximal runs of members, in order.
    pub fn runs(&self) -> Vec<(u128, u128)> {
        match self {
            AddrSet::Dense { base, bits } => bits.runs().into_iter().map(|(a, b)| (base + u128::from(a), base + u128::from(b))).collect(),
            AddrSet::Sparse(s) => s.runs(),
            AddrSet::Complement { universe, holes, .. } => RangeList::from_ranges(universe.ranges().to_vec())
                .subtract(&RangeList::from_ranges(holes.runs()))
                .ranges()
                .to_vec(),
        }
    }

    /// Members in order (callers only use this on sets known to be small, e.g. released ones).
    pub fn members(&self) -> Vec<u128> {
        match self {
            AddrSet::Sparse(s) => s.iter().collect(),
            _ => self.runs().into_iter().flat_map(|(a, b)| a..=b).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_against_model(mut set: AddrSet, universe: &[(u128, u128)]) {
        let mut model: std::collections::BTreeSet<u128> = universe.iter().flat_map(|&(a, b)| a..=b).collect();
        let lo = universe[0].0;
        let span = universe.last().unwrap().1 - lo + 1;
        let mut x: u64 = 99;
        for _ in 0..5000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let v = lo + u128::from(x >> 33) % span;
            let in_universe = universe.iter().any(|&(a, b)| v >= a && v <= b);
            if x & 3 != 0 {
                assert_eq!(set.remove(v), model.remove(&v));
            } else if in_universe {
                assert_eq!(set.insert(v), model.insert(v));
            }
            let from = lo + u128::from(x >> 17) % span;
            assert_eq!(set.next_ge(from), model.range(from..).next().copied());
            assert_eq!(set.next_ge(0), model.iter().next().copied());
        }
        assert_eq!(set.count(), model.len() as u128);
        let members: Vec<u128> = set.members();
        assert_eq!(members, model.iter().copied().collect::<Vec<_>>());
        let skip: Vec<u128> = model.iter().take(3).copied().collect();
        assert_eq!(set.lowest_not_in(&skip), model.iter().nth(3).copied());
    }

    #[test]
    fn dense_and_complement_agree_with_a_model() {
        let universe = [(10u128, 900u128), (1000, 3000)];
        let rl = RangeList::from_ranges(universe.to_vec());
        check_against_model(AddrSet::from_ranges(&rl, Some((10, 3000))), &universe);
        check_against_model(AddrSet::from_ranges(&rl, None), &universe);
        let big = 1u128 << 90;
        let universe = [(big, big + 4000)];
        check_against_model(AddrSet::from_ranges(&RangeList::from_ranges(universe.to_vec()), Some((big, u128::MAX))), &universe);
    }

    #[test]
    fn huge_ranges_cost_what_was_taken() {
        let lo = 1u128 << 64;
        let rl = RangeList::single(lo + 1, lo + (1u128 << 64) - 2);
        let mut set = AddrSet::from_ranges(&rl, Some((lo + 1, lo + (1u128 << 64) - 2)));
        for _ in 0..100_000 {
            let v = set.next_ge(0).unwrap();
            set.remove(v);
        }
        assert_eq!(set.next_ge(0), Some(lo + 100_001));
        assert!(set.heap_bytes() < 100_000 / 8 * 3, "{}", set.heap_bytes());
        assert_eq!(set.count(), (1u128 << 64) - 2 - 100_000);
    }
}
