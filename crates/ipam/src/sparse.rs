//! Chunked sparse bit set over the full u128 space: 256-bit blocks kept in a B-tree, so memory
//! follows the number of members, never the width of the range.

use std::collections::BTreeMap;

const BLOCK_BITS: u32 = 8;
const WORDS: usize = 4;
type Block = [u64; WORDS];

#[derive(Clone, Debug, Default)]
pub struct SparseBits {
    blocks: BTreeMap<u128, Block>,
    count: u128,
}

#[inline]
fn split(v: u128) -> (u128, usize, u64) {
    let off = (v & 0xff) as usize;
    (v >> BLOCK_BITS, off >> 6, 1u64 << (off & 63))
}

impl SparseBits {
    pub fn new() -> Self {
        SparseBits { blocks: BTreeMap::new(), count: 0 }
    }

    pub fn count(&self) -> u128 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Estimated heap use: B-tree leaves hold up to 11 entries of (16 B key + 32 B block).
    pub fn heap_bytes(&self) -> usize {
        // Nodes are on average ~2/3 full; each entry costs key + value, plus per-node headers.
        let per_entry = 16 + 32;
        (self.blocks.len() * per_entry * 3) / 2 + 64
    }

    pub fn contains(&self, v: u128) -> bool {
        let (b, w, bit) = split(v);
        self.blocks.get(&b).is_some_and(|blk| blk[w] & bit != 0)
    }

    pub fn insert(&mut self, v: u128) -> bool {
        let (b, w, bit) = split(v);
        let blk = self.blocks.entry(b).or_insert([0; WORDS]);
        if blk[w] & bit != 0 {
            return false;
        }
        blk[w] |= bit;
        self.count += 1;
        true
    }

    pub fn remove(&mut self, v: u128) -> bool {
        let (b, w, bit) = split(v);
        let Some(blk) = self.blocks.get_mut(&b) else { return false };
        if blk[w] & bit == 0 {
            return false;
        }
        blk[w] &= !bit;
        self.count -= 1;
        if blk.iter().all(|&x| x == 0) {
            self.blocks.remove(&b);
        }
        true
    }

    /// The lowest member >= from.
    pub fn next_set(&self, from: u128) -> Option<u128> {
        let (b0, _, _) = split(from);
        for (&b, blk) in self.blocks.range(b0..) {
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

    /// The lowest non-member >= from (None only if every value from `from` to u128::MAX is set).
    pub fn next_clear(&self, from: u128) -> Option<u128> {
        let (b0, _, _) = split(from);
        let mut expected = b0;
        for (&b, blk) in self.blocks.range(b0..) {
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

    /// Members in order.
    pub fn iter(&self) -> impl Iterator<Item = u128> + '_ {
        self.blocks.iter().flat_map(|(&b, blk)| {
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

    /// Maximal runs of members, in order.
    pub fn runs(&self) -> Vec<(u128, u128)> {
        let mut out: Vec<(u128, u128)> = Vec::new();
        for v in self.iter() {
            match out.last_mut() {
                Some(last) if last.1 + 1 == v => last.1 = v,
                _ => out.push((v, v)),
            }
        }
        out
    }

    pub fn clear(&mut self) {
        self.blocks.clear();
        self.count = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
