//! Chunked sparse bit set over the full u128 space: 256-bit blocks kept in a B-tree, so memory
//! follows the number of members, never the width of the range. Members just above a chosen
//! base (where sequential allocation puts them) live in a dense hierarchical bitmap "window" that
//! grows while it stays dense enough (at most 64 bits per member, so it costs at most 8 bytes per
//! member it was sized for), so the hot end of a huge range costs bit operations, not tree walks.

use std::collections::BTreeMap;

use crate::bitmap::HierBitmap;

/// A hard ceiling for the window (2^36 bits, 8 GiB), far above anything the density rule lets a
/// real set reach. The density rule is the real bound: a fixed small ceiling (it was 2^26) sends
/// every pick past it into the tree once a long churn has walked the frontier that far, which
/// made a /64's release+pick several times slower after ~67M operations.
const WINDOW_MAX: u128 = 1 << 36;
/// A window may always grow to this size (8 KiB), whatever the member count.
const WINDOW_FREE: u128 = 1 << 16;

const BLOCK_BITS: u32 = 8;
const WORDS: usize = 4;
type Block = [u64; WORDS];

#[derive(Clone, Debug, Default)]
pub struct SparseBits {
    /// members outside the window
    blocks: BTreeMap<u128, Block>,
    /// all members
    count: u128,
    base: u128,
    window: Option<HierBitmap>,
}

#[inline]
fn split(v: u128) -> (u128, usize, u64) {
    let off = (v & 0xff) as usize;
    (v >> BLOCK_BITS, off >> 6, 1u64 << (off & 63))
}

impl SparseBits {
    /// A set with no window (members anywhere, all in the tree).
    pub fn new() -> Self {
        SparseBits { blocks: BTreeMap::new(), count: 0, base: 0, window: None }
    }

    /// A set whose dense window starts at `base` (the start of the range it serves).
    pub fn with_base(base: u128) -> Self {
        SparseBits { blocks: BTreeMap::new(), count: 0, base: base & !63, window: None }
    }

    pub fn count(&self) -> u128 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Estimated heap use: B-tree leaves hold up to 11 entries of (16 B key + 32 B block),
    /// about 2/3 full; plus the window.
    pub fn heap_bytes(&self) -> usize {
        let per_entry = 16 + 32;
        (self.blocks.len() * per_entry * 3) / 2 + 64 + self.window.as_ref().map_or(0, HierBitmap::heap_bytes)
    }

    fn window_end(&self) -> u128 {
        self.base + self.window.as_ref().map_or(0, |w| u128::from(w.len()))
    }

    /// The window offset of v, if v is inside the window.
    #[inline]
    fn in_window(&self, v: u128) -> Option<u64> {
        let w = self.window.as_ref()?;
        (v >= self.base && v - self.base < u128::from(w.len())).then(|| (v - self.base) as u64)
    }

    /// Grows (or opens) the window to cover v when it stays dense enough; moves the tree's
    /// members that the window now covers into it.
    fn try_grow(&mut self, v: u128) -> Option<u64> {
        if v < self.base {
            return None;
        }
        let off = v - self.base;
        if off >= WINDOW_MAX || off >= WINDOW_FREE.max(64 * (self.count + 1)) {
            return None;
        }
        let new_len = (off + 1).next_power_of_two().clamp(4096, WINDOW_MAX) as u64;
        let old_end = self.window_end();
        match self.window.as_mut() {
            Some(w) => w.grow(new_len),
            None => self.window = Some(HierBitmap::new(new_len)),
        }
        let new_end = self.base + u128::from(new_len);
        let moved: Vec<u128> = self.tree_members_in(old_end.max(self.base), new_end);
        let w = self.window.as_mut().expect("opened above");
        for m in moved {
            tree_remove(&mut self.blocks, m);
            w.insert((m - self.base) as u64);
        }
        Some(off as u64)
    }

    fn tree_members_in(&self, lo: u128, hi_excl: u128) -> Vec<u128> {
        let mut out = Vec::new();
        let mut x = lo;
        while let Some(m) = tree_next_set(&self.blocks, x) {
            if m >= hi_excl {
                break;
            }
            out.push(m);
            x = m + 1;
        }
        out
    }

    pub fn contains(&self, v: u128) -> bool {
        if let Some(off) = self.in_window(v) {
            return self.window.as_ref().is_some_and(|w| w.contains(off));
        }
        tree_contains(&self.blocks, v)
    }

    pub fn insert(&mut self, v: u128) -> bool {
        let off = match self.in_window(v) {
            Some(off) => Some(off),
            None => self.try_grow(v),
        };
        let added = match off {
            Some(off) => self.window.as_mut().expect("window covers v").insert(off),
            None => tree_insert(&mut self.blocks, v),
        };
        if added {
            self.count += 1;
        }
        added
    }

    pub fn remove(&mut self, v: u128) -> bool {
        let removed = match self.in_window(v) {
            Some(off) => self.window.as_mut().expect("window covers v").remove(off),
            None => tree_remove(&mut self.blocks, v),
        };
        if removed {
            self.count -= 1;
        }
        removed
    }

    /// The lowest member >= from.
    pub fn next_set(&self, from: u128) -> Option<u128> {
        let in_tree = if self.blocks.is_empty() { None } else { tree_next_set(&self.blocks, from) };
        let in_window = self.window.as_ref().and_then(|w| {
            let start = from.saturating_sub(self.base);
            if start >= u128::from(w.len()) {
                return None;
            }
            w.next_set(start as u64).map(|o| self.base + u128::from(o))
        });
        match (in_tree, in_window) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The lowest non-member >= from (None only if every value from `from` to u128::MAX is set).
    pub fn next_clear(&self, from: u128) -> Option<u128> {
        let mut x = from;
        loop {
            if let Some(off) = self.in_window(x) {
                let w = self.window.as_ref().expect("window covers x");
                match w.next_clear(off) {
                    Some(o) => return Some(self.base + u128::from(o)),
                    None => x = self.window_end(),
                }
                continue;
            }
            let c = tree_next_clear(&self.blocks, x)?;
            // A clear tree position inside the window is decided by the window.
            if self.in_window(c).is_some() {
                x = c;
                continue;
            }
            return Some(c);
        }
    }

    /// Members in order.
    pub fn iter(&self) -> impl Iterator<Item = u128> + '_ {
        let mut all: Vec<u128> = tree_iter(&self.blocks).collect();
        if let Some(w) = self.window.as_ref() {
            for (a, b) in w.runs() {
                all.extend((a..=b).map(|o| self.base + u128::from(o)));
            }
            all.sort_unstable();
        }
        all.into_iter()
    }

    /// Maximal runs of members, in order.
    pub fn runs(&self) -> Vec<(u128, u128)> {
        let mut out: Vec<(u128, u128)> = Vec::new();
        let mut pieces: Vec<(u128, u128)> = Vec::new();
        for v in tree_iter(&self.blocks) {
            match pieces.last_mut() {
                Some(last) if last.1 + 1 == v => last.1 = v,
                _ => pieces.push((v, v)),
            }
        }
        if let Some(w) = self.window.as_ref() {
            pieces.extend(w.runs().into_iter().map(|(a, b)| (self.base + u128::from(a), self.base + u128::from(b))));
            pieces.sort_unstable();
        }
        for (a, b) in pieces {
            match out.last_mut() {
                Some(last) if last.1.checked_add(1) == Some(a) => last.1 = b,
                _ => out.push((a, b)),
            }
        }
        out
    }

    pub fn clear(&mut self) {
        self.blocks.clear();
        self.count = 0;
        if let Some(w) = self.window.as_mut() {
            w.clear();
        }
    }
}

fn tree_contains(blocks: &BTreeMap<u128, Block>, v: u128) -> bool {
    let (b, w, bit) = split(v);
    blocks.get(&b).is_some_and(|blk| blk[w] & bit != 0)
}

fn tree_insert(blocks: &mut BTreeMap<u128, Block>, v: u128) -> bool {
    let (b, w, bit) = split(v);
    let blk = blocks.entry(b).or_insert([0; WORDS]);
    if blk[w] & bit != 0 {
        return false;
    }
    blk[w] |= bit;
    true
}

fn tree_remove(blocks: &mut BTreeMap<u128, Block>, v: u128) -> bool {
    let (b, w, bit) = split(v);
    let Some(blk) = blocks.get_mut(&b) else { return false };
    if blk[w] & bit == 0 {
        return false;
    }
    blk[w] &= !bit;
    if blk.iter().all(|&x| x == 0) {
        blocks.remove(&b);
    }
    true
}

fn tree_next_set(blocks: &BTreeMap<u128, Block>, from: u128) -> Option<u128> {
    let (b0, _, _) = split(from);
    for (&b, blk) in blocks.range(b0..) {
        let start = if b == b0 { (from & 0xff) as usize } else { 0 };
        for (w, &value) in blk.iter().enumerate().skip(start >> 6) {
            let mut word = value;
            if w == start >> 6 {
                word &= u64::MAX << (start & 63);
            }
            if word != 0 {
                return Some((b << BLOCK_BITS) | ((w as u128) << 6) | u128::from(word.trailing_zeros()));
            }
        }
    }
    None
}

fn tree_next_clear(blocks: &BTreeMap<u128, Block>, from: u128) -> Option<u128> {
    let (b0, _, _) = split(from);
    let mut expected = b0;
    for (&b, blk) in blocks.range(b0..) {
        if b != expected {
            return Some(if expected == b0 { from } else { expected << BLOCK_BITS });
        }
        let start = if b == b0 { (from & 0xff) as usize } else { 0 };
        for (w, &value) in blk.iter().enumerate().skip(start >> 6) {
            let mut inv = !value;
            if w == start >> 6 {
                inv &= u64::MAX << (start & 63);
            }
            if inv != 0 {
                return Some((b << BLOCK_BITS) | ((w as u128) << 6) | u128::from(inv.trailing_zeros()));
            }
        }
        if b == u128::MAX >> BLOCK_BITS {
            return None;
        }
        expected = b + 1;
    }
    Some(if expected == b0 { from } else { expected << BLOCK_BITS })
}

fn tree_iter(blocks: &BTreeMap<u128, Block>) -> impl Iterator<Item = u128> + '_ {
    blocks.iter().flat_map(|(&b, blk)| {
        (0..WORDS).flat_map(move |w| {
            let mut word = blk[w];
            std::iter::from_fn(move || {
                if word == 0 {
                    return None;
                }
                let t = word.trailing_zeros();
                word &= word - 1;
                Some((b << BLOCK_BITS) | ((w as u128) << 6) | u128::from(t))
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windowed_set_matches_a_model() {
        for base in [0u128, 1 << 64, (1 << 90) + 12345] {
            let mut s = SparseBits::with_base(base);
            let mut model = std::collections::BTreeSet::new();
            let mut x: u64 = 0x1234_5678;
            for i in 0..40_000u64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // mostly sequential near the base, some far away, some below the base
                let v = match x % 10 {
                    0 => base + u128::from(x >> 20) % (1 << 30),
                    1 => base.saturating_sub(1 + u128::from(x >> 40) % 1000),
                    _ => base + u128::from(i) + u128::from(x >> 50) % 64,
                };
                if x & (1 << 9) == 0 || x.is_multiple_of(7) {
                    assert_eq!(s.insert(v), model.insert(v));
                } else {
                    assert_eq!(s.remove(v), model.remove(&v));
                }
                let from = base.saturating_sub(500) + u128::from(x >> 33) % 60_000;
                assert_eq!(s.next_set(from), model.range(from..).next().copied(), "next_set({from})");
                let mut c = from;
                while model.contains(&c) {
                    c += 1;
                }
                assert_eq!(s.next_clear(from), Some(c), "next_clear({from})");
                assert_eq!(s.contains(v), model.contains(&v));
            }
            assert_eq!(s.count(), model.len() as u128);
            assert_eq!(s.iter().collect::<Vec<_>>(), model.iter().copied().collect::<Vec<_>>());
            let mut runs: Vec<(u128, u128)> = Vec::new();
            for &v in &model {
                match runs.last_mut() {
                    Some(last) if last.1 + 1 == v => last.1 = v,
                    _ => runs.push((v, v)),
                }
            }
            assert_eq!(s.runs(), runs);
            assert!(s.window.is_some(), "sequential members open a window");
        }
    }

    #[test]
    fn members_and_gaps() {
        let mut s = SparseBits::new();
        let base = 1u128 << 100;
        for i in 0..600u128 {
            assert!(s.insert(base + i));
        }
        assert!(s.insert(base + 1000));
        assert!(!s.insert(base + 1000));
        assert_eq!(s.count(), 601);
        assert_eq!(s.next_set(0), Some(base));
        assert_eq!(s.next_set(base + 600), Some(base + 1000));
        assert_eq!(s.next_clear(base), Some(base + 600));
        assert_eq!(s.next_clear(base + 5), Some(base + 600));
        assert_eq!(s.next_clear(base - 1), Some(base - 1));
        assert_eq!(s.next_clear(base + 1000), Some(base + 1001));
        assert!(s.remove(base + 300));
        assert_eq!(s.next_clear(base), Some(base + 300));
        assert_eq!(s.runs(), vec![(base, base + 299), (base + 301, base + 599), (base + 1000, base + 1000)]);
        for i in 0..600u128 {
            s.remove(base + i);
        }
        s.remove(base + 1000);
        assert!(s.is_empty());
        assert_eq!(s.blocks.len(), 0);
    }

    #[test]
    fn top_of_the_space() {
        let mut s = SparseBits::new();
        for i in 0..256u128 {
            s.insert(u128::MAX - i);
        }
        assert_eq!(s.next_clear(u128::MAX - 255), None);
        assert_eq!(s.next_clear(u128::MAX - 256), Some(u128::MAX - 256));
        assert_eq!(s.next_set(u128::MAX - 3), Some(u128::MAX - 3));
    }
}
