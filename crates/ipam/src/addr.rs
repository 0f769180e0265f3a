//! Address parsing and formatting. Both families are carried as `u128` so one set of range and
//! bitmap code serves IPv4 and IPv6; the family travels beside the number.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn bits(self) -> u32 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    /// The name used in `family` requests and in error messages.
    pub fn protocol_name(self) -> &'static str {
        match self {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        }
    }
}

/// Strict dotted-quad IPv4: four decimal parts 0..=255, no leading zeros, nothing else.
pub fn parse_v4(s: &str) -> Option<u32> {
    let bytes = s.as_bytes();
    if bytes.len() < 7 || bytes.len() > 15 {
        return None;
    }
    let (mut value, mut octet, mut digits, mut dots) = (0u32, 0u32, 0u32, 0u32);
    for &c in bytes {
        if c == b'.' {
            if digits == 0 || dots == 3 {
                return None;
            }
            value = (value << 8) | octet;
            (octet, digits) = (0, 0);
            dots += 1;
        } else if c.is_ascii_digit() {
            if digits > 0 && octet == 0 {
                return None; // leading zero
            }
            octet = octet * 10 + u32::from(c - b'0');
            digits += 1;
            if octet > 255 {
                return None;
            }
        } else {
            return None;
        }
    }
    if dots != 3 || digits == 0 {
        return None;
    }
    Some((value << 8) | octet)
}

/// IPv6 text form (RFC 4291 §2.2 forms 1 and 2): hex groups of 1..=4 digits, at most one `::`;
/// no embedded dotted quad, no zone index, no brackets.
pub fn parse_v6(s: &str) -> Option<u128> {
    if s.len() < 2 || s.len() > 39 {
        return None;
    }
    let (head, tail, compressed) = match s.find("::") {
        Some(pos) => {
            if s[pos + 1..].len() > 1 && s[pos + 2..].contains("::") {
                return None;
            }
            (&s[..pos], &s[pos + 2..], true)
        }
        None => (s, "", false),
    };
    let mut groups = [0u16; 8];
    let mut n_head = 0;
    let mut n_tail = 0;
    let mut tail_groups = [0u16; 8];
    if !head.is_empty() {
        for part in head.split(':') {
            if n_head == 8 {
                return None;
            }
            groups[n_head] = parse_group(part)?;
            n_head += 1;
        }
    }
    if !tail.is_empty() {
        for part in tail.split(':') {
            if n_tail == 8 {
                return None;
            }
            tail_groups[n_tail] = parse_group(part)?;
            n_tail += 1;
        }
    }
    let total = n_head + n_tail;
    if compressed {
        // "::" stands for at least one zero group.
        if total > 7 {
            return None;
        }
    } else if total != 8 {
        return None;
    }
    groups[8 - n_tail..].copy_from_slice(&tail_groups[..n_tail]);
    Some(groups.iter().fold(0u128, |acc, &g| (acc << 16) | u128::from(g)))
}

fn parse_group(part: &str) -> Option<u16> {
    if part.is_empty() || part.len() > 4 {
        return None;
    }
    let mut g: u16 = 0;
    for c in part.bytes() {
        let d = (c as char).to_digit(16)?;
        g = (g << 4) | d as u16;
    }
    Some(g)
}

/// Parses an address of either family.
pub fn parse_ip(s: &str) -> Option<(Family, u128)> {
    if s.contains(':') {
        parse_v6(s).map(|v| (Family::V6, v))
    } else {
        parse_v4(s).map(|v| (Family::V4, u128::from(v)))
    }
}

pub fn format_v4(v: u32) -> String {
    let mut out = String::with_capacity(15);
    push_v4(&mut out, v);
    out
}

/// Dotted quad without the formatting machinery (this runs on every allocation).
pub fn push_v4(out: &mut String, v: u32) {
    for (i, shift) in [24u32, 16, 8, 0].into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        let o = ((v >> shift) & 0xff) as u8;
        if o >= 100 {
            out.push((b'0' + o / 100) as char);
        }
        if o >= 10 {
            out.push((b'0' + (o / 10) % 10) as char);
        }
        out.push((b'0' + o % 10) as char);
    }
}

/// RFC 5952 canonical text: lowercase, no leading zeros, the longest run (>= 2) of zero groups
/// compressed to `::`, the first such run on a tie.
pub fn format_v6(v: u128) -> String {
    use std::fmt::Write;
    let groups: [u16; 8] = std::array::from_fn(|i| (v >> (112 - 16 * i)) as u16);
    let (mut best_start, mut best_len) = (8usize, 0usize);
    let mut i = 0;
    while i < 8 {
        if groups[i] == 0 {
            let start = i;
            while i < 8 && groups[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best_start = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best_start = 8;
        best_len = 0;
    }
    let mut out = String::with_capacity(39);
    let mut i = 0;
    while i < 8 {
        if i == best_start {
            out.push_str("::");
            i += best_len;
            continue;
        }
        if i > 0 && !out.ends_with(':') {
            out.push(':');
        }
        let _ = write!(out, "{:x}", groups[i]);
        i += 1;
    }
    out
}

pub fn format_ip(family: Family, v: u128) -> String {
    match family {
        Family::V4 => format_v4(v as u32),
        Family::V6 => format_v6(v),
    }
}

/// A parsed CIDR block; host bits of the address are masked off, as Go's `net.ParseCIDR` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub family: Family,
    pub network: u128,
    pub prefix: u32,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (ip, len) = s.split_once('/')?;
        let (family, addr) = parse_ip(ip)?;
        if len.is_empty() || len.len() > 3 || !len.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        if len.len() > 1 && len.starts_with('0') {
            return None;
        }
        let prefix: u32 = len.parse().ok()?;
        if prefix > family.bits() {
            return None;
        }
        let host_bits = family.bits() - prefix;
        let network = if host_bits >= 128 { 0 } else { (addr >> host_bits) << host_bits };
        Some(Cidr { family, network, prefix })
    }

    pub fn host_bits(&self) -> u32 {
        self.family.bits() - self.prefix
    }

    /// The last address of the block.
    pub fn broadcast(&self) -> u128 {
        let hb = self.host_bits();
        if hb >= 128 { u128::MAX } else { self.network | ((1u128 << hb) - 1) }
    }

    pub fn contains(&self, v: u128) -> bool {
        v >= self.network && v <= self.broadcast()
    }

    /// Usable addresses: network+1 .. broadcast-1, except /31 and /127 which use both.
    /// `None` for /32 and /128 (nothing usable).
    pub fn usable(&self) -> Option<(u128, u128)> {
        match self.host_bits() {
            0 => None,
            1 => Some((self.network, self.broadcast())),
            _ => Some((self.network + 1, self.broadcast() - 1)),
        }
    }

    pub fn to_canonical(&self) -> String {
        format!("{}/{}", format_ip(self.family, self.network), self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_parse_is_strict() {
        assert_eq!(parse_v4("10.16.0.5"), Some(0x0a10_0005));
        assert_eq!(parse_v4("255.255.255.255"), Some(u32::MAX));
        for bad in ["", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", "1..2.3", "1.2.3.4 ", "a.b.c.d", "+1.2.3.4"] {
            assert_eq!(parse_v4(bad), None, "{bad}");
        }
    }

    #[test]
    fn v6_parse_and_format_round_trip() {
        let cases = [
            ("::", "::"),
            ("::1", "::1"),
            ("fd00::", "fd00::"),
            ("FD00:0:0:0:0:0:0:9", "fd00::9"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
                        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ];
        for (input, want) in cases {
            let v = parse_v6(input).unwrap_or_else(|| panic!("{input}"));
            assert_eq!(format_v6(v), want, "{input}");
        }
        for bad in ["", ":", ":::", "1::2::3", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "12345::", "g::", "::1%eth0", "::ffff:1.2.3.4", "[::1]", " ::1", ":1::", "1::2:", "1:::2", "1:2:3:4:5:6:7::8:9"] {
            assert_eq!(parse_v6(bad), None, "{bad}");
        }
    }

    #[test]
    fn cidr_usable_ranges() {
        let c = Cidr::parse("10.16.0.0/16").unwrap();
        assert_eq!(c.usable(), Some((0x0a10_0001, 0x0a10_fffe)));
        let c = Cidr::parse("10.16.0.7/31").unwrap();
        assert_eq!(c.usable(), Some((0x0a10_0006, 0x0a10_0007)));
        assert_eq!(Cidr::parse("10.0.0.1/32").unwrap().usable(), None);
        assert_eq!(Cidr::parse("fd00::/127").unwrap().usable(), Some((parse_v6("fd00::").unwrap(), parse_v6("fd00::1").unwrap())));
        assert_eq!(Cidr::parse("::/0").unwrap().usable(), Some((1, u128::MAX - 1)));
        for bad in ["10.0.0.0", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/016", "fd00::/129", "x/8"] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
    }
}
