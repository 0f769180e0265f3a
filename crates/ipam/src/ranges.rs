//! Sorted, disjoint, non-adjacent inclusive ranges: the shape of pool address lists, excludes and
//! the bounds of a free set. Small by construction (user input), so plain vectors.

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeList {
    ranges: Vec<(u128, u128)>,
}

impl RangeList {
    pub fn new() -> Self {
        RangeList { ranges: Vec::new() }
    }

    pub fn single(lo: u128, hi: u128) -> Self {
        RangeList { ranges: vec![(lo, hi)] }
    }

    /// Normalises arbitrary inclusive ranges (lo <= hi) into sorted, merged form.
    pub fn from_ranges(mut input: Vec<(u128, u128)>) -> Self {
        input.sort_unstable();
        let mut ranges: Vec<(u128, u128)> = Vec::with_capacity(input.len());
        for (lo, hi) in input {
            debug_assert!(lo <= hi);
            if let Some(last) = ranges.last_mut()
                && (lo <= last.1 || lo == last.1.wrapping_add(1) && last.1 != u128::MAX)
            {
                if hi > last.1 {
                    last.1 = hi;
                }
                continue;
            }
            ranges.push((lo, hi));
        }
        RangeList { ranges }
    }

    pub fn ranges(&self) -> &[(u128, u128)] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn first(&self) -> Option<u128> {
        self.ranges.first().map(|r| r.0)
    }

    pub fn last(&self) -> Option<u128> {
        self.ranges.last().map(|r| r.1)
    }

    /// Number of addresses; saturates at u128::MAX (only a full ::/0 list would need 2^128).
    pub fn count(&self) -> u128 {
        self.ranges.iter().fold(0u128, |acc, &(lo, hi)| acc.saturating_add(hi - lo).saturating_add(1))
    }

    fn index_of(&self, v: u128) -> Result<usize, usize> {
        self.ranges.binary_search_by(|&(lo, hi)| {
            if hi < v {
                std::cmp::Ordering::Less
            } else if lo > v {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
    }

    pub fn contains(&self, v: u128) -> bool {
        self.index_of(v).is_ok()
    }

    /// The smallest member >= v.
    pub fn next_ge(&self, v: u128) -> Option<u128> {
        match self.index_of(v) {
            Ok(_) => Some(v),
            Err(i) => self.ranges.get(i).map(|r| r.0),
        }
    }

    /// The range holding v.
    pub fn range_of(&self, v: u128) -> Option<(u128, u128)> {
        self.index_of(v).ok().map(|i| self.ranges[i])
    }

    pub fn union(&self, other: &RangeList) -> RangeList {
        let mut all = self.ranges.clone();
        all.extend_from_slice(&other.ranges);
        RangeList::from_ranges(all)
    }

    pub fn intersect(&self, other: &RangeList) -> RangeList {
        let (a, b) = (&self.ranges, &other.ranges);
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < a.len() && j < b.len() {
            let lo = a[i].0.max(b[j].0);
            let hi = a[i].1.min(b[j].1);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a[i].1 < b[j].1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        RangeList { ranges: out }
    }

    pub fn subtract(&self, other: &RangeList) -> RangeList {
        let mut out = Vec::new();
        let mut j = 0;
        for &(lo, hi) in &self.ranges {
            let mut cur = lo;
            let mut alive = true;
            while j < other.ranges.len() && other.ranges[j].1 < cur {
                j += 1;
            }
            let mut k = j;
            while alive && k < other.ranges.len() && other.ranges[k].0 <= hi {
                let (olo, ohi) = other.ranges[k];
                if olo > cur {
                    out.push((cur, olo - 1));
                }
                if ohi >= hi {
                    alive = false;
                } else {
                    cur = ohi + 1;
                    k += 1;
                }
            }
            if alive {
                out.push((cur, hi));
            }
        }
        RangeList { ranges: out }
    }

    pub fn overlaps(&self, other: &RangeList) -> bool {
        !self.intersect(other).is_empty()
    }
}

/// Joins ranges as "a-b,c" with `format` turning a number into text.
pub fn format_ranges(ranges: impl IntoIterator<Item = (u128, u128)>, format: impl Fn(u128) -> String) -> String {
    let mut out = String::new();
    for (lo, hi) in ranges {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(&format(lo));
        if hi != lo {
            out.push('-');
            out.push_str(&format(hi));
        }
    }
    out
}

/// Merges two sorted streams of disjoint ranges into one sorted stream with adjacent ranges
/// joined (used for "available" = free ∪ released).
pub fn merge_sorted(mut a: Vec<(u128, u128)>, b: Vec<(u128, u128)>) -> Vec<(u128, u128)> {
    a.extend(b);
    RangeList::from_ranges(a).ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rl(v: &[(u128, u128)]) -> RangeList {
        RangeList::from_ranges(v.to_vec())
    }

    #[test]
    fn normalises_overlaps_and_adjacency() {
        assert_eq!(rl(&[(5, 9), (1, 3), (4, 4), (20, 30), (25, 26)]).ranges(), &[(1, 9), (20, 30)]);
        assert_eq!(rl(&[(u128::MAX - 1, u128::MAX), (0, 0)]).ranges(), &[(0, 0), (u128::MAX - 1, u128::MAX)]);
    }

    #[test]
    fn set_operations() {
        let a = rl(&[(1, 10), (20, 30)]);
        let b = rl(&[(5, 22), (30, 40)]);
        assert_eq!(a.intersect(&b).ranges(), &[(5, 10), (20, 22), (30, 30)]);
        assert_eq!(a.subtract(&b).ranges(), &[(1, 4), (23, 29)]);
        assert_eq!(b.subtract(&a).ranges(), &[(11, 19), (31, 40)]);
        assert_eq!(a.union(&b).ranges(), &[(1, 40)]);
        assert_eq!(a.count(), 21);
        assert_eq!(a.next_ge(11), Some(20));
        assert_eq!(a.next_ge(31), None);
        assert!(a.contains(20) && !a.contains(15));
        assert_eq!(rl(&[(1, 10)]).subtract(&rl(&[(1, 10)])).ranges(), &[]);
        assert_eq!(rl(&[(1, 10)]).subtract(&rl(&[(3, 3), (5, 6)])).ranges(), &[(1, 2), (4, 4), (7, 10)]);
    }

    #[test]
    fn formats_ranges() {
        assert_eq!(format_ranges([(2, 9), (12, 12)], |v| v.to_string()), "2-9,12");
        assert_eq!(format_ranges([], |v: u128| v.to_string()), "");
    }
}
