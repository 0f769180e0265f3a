//! Hierarchical bitmap over offsets 0..len: leaf words of 64 bits plus summary levels where a
//! set bit means "that word below is non-zero", so the lowest set bit at or after any offset is
//! found in one word scan per level (at most 5 levels for 2^30 bits).

#[derive(Clone, Debug)]
pub struct HierBitmap {
    len: u64,
    count: u64,
    /// levels[0] are the leaves; the last level has exactly one word.
    levels: Vec<Vec<u64>>,
    /// a lower bound of the lowest set bit: allocation asks for the lowest one over and over
    lowest: std::cell::Cell<u64>,
}

impl HierBitmap {
    pub fn new(len: u64) -> Self {
        let mut levels = Vec::new();
        let mut words = len.div_ceil(64).max(1) as usize;
        loop {
            levels.push(vec![0u64; words]);
            if words == 1 {
                break;
            }
            words = words.div_ceil(64);
        }
        HierBitmap { len, count: 0, levels, lowest: std::cell::Cell::new(0) }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn heap_bytes(&self) -> usize {
        self.levels.iter().map(|l| l.capacity() * 8).sum::<usize>() + self.levels.capacity() * 24
    }

    #[inline]
    pub fn contains(&self, i: u64) -> bool {
        i < self.len && self.levels[0][(i >> 6) as usize] & (1u64 << (i & 63)) != 0
    }

    /// Sets bit i; returns whether it was clear.
    #[inline]
    pub fn insert(&mut self, i: u64) -> bool {
        debug_assert!(i < self.len);
        let mut idx = i as usize;
        let w = &mut self.levels[0][idx >> 6];
        let bit = 1u64 << (idx & 63);
        if *w & bit != 0 {
            return false;
        }
        let was_zero = *w == 0;
        *w |= bit;
        self.count += 1;
        if (i) < self.lowest.get() {
            self.lowest.set(i);
        }
        if was_zero {
            for level in 1..self.levels.len() {
                idx >>= 6;
                let w = &mut self.levels[level][idx >> 6];
                let was_zero = *w == 0;
                *w |= 1u64 << (idx & 63);
                if !was_zero {
                    break;
                }
            }
        }
        true
    }

    /// Clears bit i; returns whether it was set.
    #[inline]
    pub fn remove(&mut self, i: u64) -> bool {
        if i >= self.len {
            return false;
        }
        let mut idx = i as usize;
        let w = &mut self.levels[0][idx >> 6];
        let bit = 1u64 << (idx & 63);
        if *w & bit == 0 {
            return false;
        }
        *w &= !bit;
        self.count -= 1;
        if i == self.lowest.get() {
            self.lowest.set(i + 1);
        }
        if *w == 0 {
            for level in 1..self.levels.len() {
                idx >>= 6;
                let w = &mut self.levels[level][idx >> 6];
                *w &= !(1u64 << (idx & 63));
                if *w != 0 {
                    break;
                }
            }
        }
        true
    }

    /// Sets every bit in lo..=hi (word at a time).
    pub fn insert_range(&mut self, lo: u64, hi: u64) {
        debug_assert!(lo <= hi && hi < self.len);
        if lo < self.lowest.get() {
            self.lowest.set(lo);
        }
        let mut i = lo;
        while i <= hi {
            if i & 63 == 0 && hi - i >= 63 {
                let w = (i >> 6) as usize;
                let before = self.levels[0][w];
                if before != u64::MAX {
                    self.count += u64::from((!before).count_ones());
                    self.levels[0][w] = u64::MAX;
                    if before == 0 {
                        self.mark_summary(w);
                    }
                }
                i += 64;
            } else {
                self.insert(i);
                i += 1;
            }
        }
    }

    fn mark_summary(&mut self, word: usize) {
        let mut idx = word;
        for level in 1..self.levels.len() {
            let w = &mut self.levels[level][idx >> 6];
            let was_zero = *w == 0;
            *w |= 1u64 << (idx & 63);
            if !was_zero {
                break;
            }
            idx >>= 6;
        }
    }

    /// The lowest set bit >= from.
    #[inline]
    pub fn next_set(&self, from: u64) -> Option<u64> {
        let lowest = self.lowest.get();
        let start = from.max(lowest);
        if start >= self.len {
            return None;
        }
        let found = self.next_in_level(0, start as usize).map(|v| v as u64);
        if from <= lowest {
            // Nothing is set below `found`.
            self.lowest.set(found.unwrap_or(self.len));
        }
        found
    }

    fn next_in_level(&self, level: usize, pos: usize) -> Option<usize> {
        let words = &self.levels[level];
        let w = pos >> 6;
        if w >= words.len() {
            return None;
        }
        let masked = words[w] & (u64::MAX << (pos & 63));
        if masked != 0 {
            return Some((w << 6) | masked.trailing_zeros() as usize);
        }
        if level + 1 == self.levels.len() {
            return None;
        }
        let next_word = self.next_in_level(level + 1, w + 1)?;
        Some((next_word << 6) | words[next_word].trailing_zeros() as usize)
    }

    /// Maximal runs of set bits, in order.
    pub fn runs(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut pos = 0u64;
        while let Some(start) = self.next_set(pos) {
            let mut end = start;
            // Extend through the run word by word.
            loop {
                let w = (end >> 6) as usize;
                let inv = !self.levels[0][w] & (u64::MAX << (end & 63));
                if inv != 0 {
                    end = ((w as u64) << 6) + u64::from(inv.trailing_zeros());
                    break;
                }
                end = ((w as u64) + 1) << 6;
                if end >= self.len {
                    end = self.len;
                    break;
                }
            }
            out.push((start, end - 1));
            pos = end;
        }
        out
    }

    /// Grows to `new_len` bits, keeping every set bit.
    pub fn grow(&mut self, new_len: u64) {
        if new_len <= self.len {
            return;
        }
        let mut grown = HierBitmap::new(new_len);
        for (w, &word) in self.levels[0].iter().enumerate() {
            if word != 0 {
                grown.levels[0][w] = word;
                grown.mark_summary(w);
            }
        }
        grown.count = self.count;
        grown.lowest.set(self.lowest.get());
        *self = grown;
    }

    /// The lowest clear bit >= from (None if every bit from there to the end is set).
    pub fn next_clear(&self, from: u64) -> Option<u64> {
        if from >= self.len {
            return None;
        }
        let words = &self.levels[0];
        let mut w = (from >> 6) as usize;
        let mut inv = !words[w] & (u64::MAX << (from & 63));
        loop {
            if inv != 0 {
                let bit = ((w as u64) << 6) + u64::from(inv.trailing_zeros());
                return (bit < self.len).then_some(bit);
            }
            w += 1;
            if w >= words.len() {
                return None;
            }
            inv = !words[w];
        }
    }

    pub fn clear(&mut self) {
        for l in &mut self.levels {
            l.fill(0);
        }
        self.count = 0;
        self.lowest.set(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_set_bit_across_levels() {
        let mut b = HierBitmap::new(1 << 20);
        assert_eq!(b.next_set(0), None);
        assert!(b.insert(999_999));
        assert!(!b.insert(999_999));
        assert!(b.insert(70));
        assert_eq!(b.next_set(0), Some(70));
        assert_eq!(b.next_set(71), Some(999_999));
        assert_eq!(b.next_set(1_000_000), None);
        assert!(b.remove(70));
        assert!(!b.remove(70));
        assert_eq!(b.next_set(0), Some(999_999));
        assert_eq!(b.count(), 1);
    }

    #[test]
    fn ranges_and_runs_match_a_naive_model() {
        let len = 5000u64;
        let mut b = HierBitmap::new(len);
        let mut model = vec![false; len as usize];
        b.insert_range(3, 200);
        model[3..=200].fill(true);
        b.insert_range(4000, 4999);
        model[4000..5000].fill(true);
        let mut x: u64 = 12345;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let i = (x >> 33) % len;
            if x & 1 == 0 {
                assert_eq!(b.insert(i), !model[i as usize]);
                model[i as usize] = true;
            } else {
                assert_eq!(b.remove(i), model[i as usize]);
                model[i as usize] = false;
            }
            let from = (x >> 20) % len;
            let want = (from..len).find(|&j| model[j as usize]);
            assert_eq!(b.next_set(from), want);
        }
        assert_eq!(b.count(), model.iter().filter(|&&m| m).count() as u64);
        let mut runs = Vec::new();
        let mut i = 0;
        while i < len {
            if model[i as usize] {
                let s = i;
                while i < len && model[i as usize] {
                    i += 1;
                }
                runs.push((s, i - 1));
            } else {
                i += 1;
            }
        }
        assert_eq!(b.runs(), runs);
    }

    #[test]
    fn a_slash_8_costs_about_one_bit_per_address() {
        let b = HierBitmap::new(1 << 24);
        assert!(b.heap_bytes() < 2_200_000, "{}", b.heap_bytes());
    }
}
