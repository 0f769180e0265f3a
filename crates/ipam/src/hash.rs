//! Small, fast hashes for the index tables (keys are pod names, addresses and MACs).

const K: u64 = 0x517c_c1b7_2722_0a95;

#[inline]
fn mix(h: u64) -> u64 {
    let h = (h ^ (h >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    let h = (h ^ (h >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[inline]
pub fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed ^ (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(buf)).wrapping_mul(K);
    }
    mix(h)
}

#[inline]
pub fn hash_u128(seed: u64, v: u128) -> u64 {
    mix(seed ^ (v as u64) ^ mix((v >> 64) as u64 ^ K))
}

/// A `Hasher` over `hash_bytes`, for maps keyed by short names (SipHash costs more than the
/// rest of a lookup there).
#[derive(Default, Clone, Copy)]
pub struct NameHasher(u64);

impl std::hash::Hasher for NameHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = hash_bytes(self.0 ^ K, bytes);
    }
}

pub type NameHash = std::hash::BuildHasherDefault<NameHasher>;
