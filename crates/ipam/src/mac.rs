//! MAC text and the deterministic generator (splitmix64, docs/ipam.md §8) shared bit for bit
//! with the TypeScript twin.

/// `aa:bb:cc:dd:ee:ff`, hex digits in either case; nothing else.
pub fn parse_mac(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 17 {
        return None;
    }
    let mut v: u64 = 0;
    for i in 0..6 {
        let hi = (b[i * 3] as char).to_digit(16)?;
        let lo = (b[i * 3 + 1] as char).to_digit(16)?;
        if i < 5 && b[i * 3 + 2] != b':' {
            return None;
        }
        v = (v << 8) | u64::from(hi << 4 | lo);
    }
    Some(v)
}

pub fn format_mac(v: u64) -> String {
    let mut out = String::with_capacity(17);
    push_mac(&mut out, v);
    out
}

/// Lowercase `aa:bb:cc:dd:ee:ff` appended to `out`.
pub fn push_mac(out: &mut String, v: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in 0..6 {
        if i > 0 {
            out.push(':');
        }
        let b = (v >> (40 - 8 * i)) as u8;
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
}

#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A locally administered unicast MAC from the top six bytes of the next output.
    pub fn next_mac(&mut self) -> u64 {
        let x = self.next_u64() >> 16;
        let b0 = (((x >> 40) as u8) | 0x02) & 0xfe;
        (x & 0x00ff_ffff_ffff) | (u64::from(b0) << 40)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_the_spec_check_value() {
        let mut r = SplitMix64::new(0);
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(format_mac(r.next_mac()), "e2:20:a8:39:7b:1d");
    }

    #[test]
    fn mac_text() {
        assert_eq!(parse_mac("0A:58:0a:10:00:05"), Some(0x0a58_0a10_0005));
        assert_eq!(format_mac(0x0a58_0a10_0005), "0a:58:0a:10:00:05");
        for bad in ["", "0a:58:0a:10:00", "0a:58:0a:10:00:05:", "0a-58-0a-10-00-05", "0a:58:0a:10:00:0g", "a:58:0a:10:00:05f", "+a:58:0a:10:00:05"] {
            assert_eq!(parse_mac(bad), None, "{bad}");
        }
    }
}
