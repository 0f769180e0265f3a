//! One pool's addresses of one family and the free / released discipline (docs/ipam.md §3):
//! picks take the lowest free address; released addresses wait until free runs dry, then the
//! whole released set becomes the next free generation ("turnover").

use crate::addrset::AddrSet;
use crate::sparse::SparseBits;
use crate::ranges::RangeList;

/// Spans up to this size keep their released set as a bitmap too (128 KiB), so churn never
/// touches a tree; larger spans keep it sparse so an empty /8 stays within one bit per address.
const DENSE_RELEASED_LIMIT: u128 = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickFailure {
    /// free and released are both empty
    NoAvailable,
    /// every candidate is in `skip`
    AllSkipped,
}

/// The outcome of planning a pick without changing anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pick {
    pub address: u128,
    pub turnover: bool,
}

#[derive(Clone, Debug)]
pub struct PoolFamily {
    pub members: RangeList,
    pub free: AddrSet,
    pub released: AddrSet,
}

fn span_of(members: &RangeList) -> Option<(u128, u128)> {
    Some((members.first()?, members.last()?))
}

fn empty_released(span: Option<(u128, u128)>) -> AddrSet {
    match span {
        Some((lo, hi)) if hi - lo < DENSE_RELEASED_LIMIT => AddrSet::empty(span),
        // Sparse, with its dense window at the start of the span, where addresses are handed out.
        Some((lo, _)) => AddrSet::Sparse(SparseBits::with_base(lo)),
        None => AddrSet::empty(None),
    }
}

impl PoolFamily {
    /// free = members − excluded − held − released_keep; released = released_keep.
    pub fn build(members: RangeList, excluded: &RangeList, held: &[u128], released_keep: &[u128]) -> PoolFamily {
        let span = span_of(&members);
        let mut free = AddrSet::from_ranges(&members.subtract(excluded), span);
        for &h in held {
            free.remove(h);
        }
        let mut released = empty_released(span);
        for &r in released_keep {
            if members.contains(r) && !excluded.contains(r) {
                free.remove(r);
                released.insert(r);
            }
        }
        PoolFamily { members, free, released }
    }

    pub fn heap_bytes(&self) -> usize {
        self.free.heap_bytes() + self.released.heap_bytes() + self.members.ranges().len() * 32
    }

    /// Plans a pick. `moved_in`: the NIC's own skipped address is about to be released into this
    /// pool, so it joins the turnover (though, being skipped, it can never be the pick).
    pub fn plan(&self, skip: &[u128], moved_in: bool) -> Result<Pick, PickFailure> {
        if skip.is_empty()
            && let Some(address) = self.free.next_ge(0)
        {
            return Ok(Pick { address, turnover: false });
        }
        if !self.free.is_empty() {
            return self.free.lowest_not_in(skip).map(|address| Pick { address, turnover: false }).ok_or(PickFailure::AllSkipped);
        }
        if self.released.is_empty() && !moved_in {
            return Err(PickFailure::NoAvailable);
        }
        self.released.lowest_not_in(skip).map(|address| Pick { address, turnover: true }).ok_or(PickFailure::AllSkipped)
    }

    pub fn commit(&mut self, pick: Pick) {
        if pick.turnover {
            self.turn_over();
        }
        let taken = self.free.remove(pick.address);
        debug_assert!(taken, "planned pick must be free");
    }

    fn turn_over(&mut self) {
        let span = span_of(&self.members);
        match (&mut self.free, &mut self.released) {
            (AddrSet::Dense { base: fb, bits: f }, AddrSet::Dense { base: rb, bits: r }) if fb == rb && f.len() == r.len() => {
                std::mem::swap(f, r);
                r.clear();
            }
            (AddrSet::Dense { .. }, _) => {
                let members = self.released.members();
                for m in members {
                    self.free.insert(m);
                }
                self.released = empty_released(span);
            }
            _ => {
                self.free = std::mem::replace(&mut self.released, empty_released(span));
            }
        }
    }

    /// Gives back a held, non-excluded member.
    pub fn release(&mut self, v: u128) {
        self.released.insert(v);
    }

    /// Takes a specific address (static allocation or restore) out of whichever set holds it.
    pub fn take(&mut self, v: u128) {
        if !self.free.remove(v) {
            self.released.remove(v);
        }
    }

    /// Available = free ∪ released: count and runs.
    pub fn available(&self) -> (u128, Vec<(u128, u128)>) {
        let count = self.free.count() + self.released.count();
        let mut runs = self.free.runs();
        runs.extend(self.released.runs());
        (count, RangeList::from_ranges(runs).ranges().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(lo: u128, hi: u128, excluded: &[(u128, u128)]) -> PoolFamily {
        PoolFamily::build(RangeList::single(lo, hi), &RangeList::from_ranges(excluded.to_vec()), &[], &[])
    }

    fn pick(p: &mut PoolFamily, skip: &[u128]) -> Result<u128, PickFailure> {
        let plan = p.plan(skip, false)?;
        p.commit(plan);
        Ok(plan.address)
    }

    #[test]
    fn sequential_then_released_after_free_runs_out() {
        for (lo, hi) in [(1u128, 6u128), (1u128 << 80, (1u128 << 80) + 5)] {
            let mut p = pool(lo, hi, &[(lo, lo)]);
            assert_eq!(pick(&mut p, &[]), Ok(lo + 1));
            assert_eq!(pick(&mut p, &[]), Ok(lo + 2));
            p.release(lo + 1);
            assert_eq!(pick(&mut p, &[]), Ok(lo + 3), "released is not reused while free remains");
            assert_eq!(pick(&mut p, &[lo + 4]), Ok(lo + 5));
            assert_eq!(pick(&mut p, &[]), Ok(lo + 4));
            p.release(lo + 3);
            assert_eq!(pick(&mut p, &[]), Ok(lo + 1), "turnover: released handed out lowest first");
            p.release(lo + 2);
            assert_eq!(pick(&mut p, &[]), Ok(lo + 3));
            assert_eq!(pick(&mut p, &[]), Ok(lo + 2));
            assert_eq!(pick(&mut p, &[]), Err(PickFailure::NoAvailable));
            p.release(lo + 2);
            assert_eq!(p.plan(&[lo + 2], false), Err(PickFailure::AllSkipped));
            assert_eq!(p.plan(&[], true).map(|x| x.turnover), Ok(true));
        }
    }

    #[test]
    fn turnover_from_a_sparse_released_set_into_a_dense_free_one() {
        // span 2^21: free is a bitmap, released is kept sparse
        let top = (1u128 << 21) - 1;
        let mut p = PoolFamily::build(RangeList::single(0, top), &RangeList::single(4, top), &[], &[]);
        assert!(matches!(p.released, AddrSet::Sparse(_)));
        for want in 0..4u128 {
            assert_eq!(pick(&mut p, &[]), Ok(want));
        }
        p.release(2);
        p.release(0);
        assert_eq!(pick(&mut p, &[]), Ok(0));
        assert_eq!(pick(&mut p, &[]), Ok(2));
        assert_eq!(pick(&mut p, &[]), Err(PickFailure::NoAvailable));
        assert_eq!(p.available(), (0, vec![]));
    }

    #[test]
    fn skip_conflict_even_with_released_pending() {
        let mut p = pool(10, 12, &[]);
        assert_eq!(pick(&mut p, &[]), Ok(10));
        p.release(10);
        assert_eq!(p.plan(&[11, 12], false), Err(PickFailure::AllSkipped));
        let empty = pool(10, 10, &[(10, 10)]);
        assert_eq!(empty.plan(&[], true), Err(PickFailure::AllSkipped));
        assert_eq!(empty.plan(&[], false), Err(PickFailure::NoAvailable));
    }
}
