use std::fmt;

use crate::error::EncodeError;

/// A string as it arrives: UTF-8 from Rust callers, or UTF-16 code units from JS. JS strings
/// may hold lone surrogates, which UTF-8 cannot; N-API's UTF-8 conversion would silently turn
/// them into U+FFFD, so the binding reads JS strings as UTF-16 and keeps them exact.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Text<'a> {
    Utf8(&'a str),
    Utf16(&'a [u16]),
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(s: &'a str) -> Self {
        Text::Utf8(s)
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.lossy(), f)
    }
}

impl Text<'_> {
    /// For error messages only (lone surrogates become U+FFFD).
    pub fn lossy(&self) -> String {
        match self {
            Text::Utf8(s) => (*s).to_owned(),
            Text::Utf16(u) => String::from_utf16_lossy(u),
        }
    }

    fn ascii_all(&self, ok: impl Fn(u8, usize) -> bool) -> bool {
        match self {
            Text::Utf8(s) => s.bytes().enumerate().all(|(i, b)| ok(b, i)),
            Text::Utf16(u) => u
                .iter()
                .enumerate()
                .all(|(i, &c)| c < 0x80 && ok(c as u8, i)),
        }
    }

    fn len_units(&self) -> usize {
        match self {
            Text::Utf8(s) => s.len(),
            Text::Utf16(u) => u.len(),
        }
    }
}

/// RFC 7047 `<id>` (`[_a-zA-Z][_a-zA-Z0-9]*`): table and column names, and named-uuids.
pub fn is_id(t: Text<'_>) -> bool {
    // A 128-bit membership table: identifiers are checked once per table, column and named-uuid.
    const fn table(digits: bool) -> u128 {
        let mut bits = 1u128 << b'_';
        let mut c = b'a';
        while c <= b'z' {
            bits |= 1 << c;
            bits |= 1 << (c - 32);
            c += 1;
        }
        if digits {
            let mut d = b'0';
            while d <= b'9' {
                bits |= 1 << d;
                d += 1;
            }
        }
        bits
    }
    const FIRST: u128 = table(false);
    const REST: u128 = table(true);
    fn check<T: Copy + Into<u32>>(units: &[T]) -> bool {
        let Some((first, rest)) = units.split_first() else {
            return false;
        };
        let ok = |c: T, set: u128| {
            let c: u32 = c.into();
            c < 128 && set & (1 << c) != 0
        };
        ok(*first, FIRST) && rest.iter().all(|&c| ok(c, REST))
    }
    match t {
        Text::Utf8(s) => check(s.as_bytes()),
        Text::Utf16(u) => check(u),
    }
}

/// RFC 7047 `<uuid>`: 8-4-4-4-12 hex digits.
pub fn is_uuid(t: Text<'_>) -> bool {
    t.len_units() == 36
        && t.ascii_all(|b, i| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes `t` as [`write_json_string`] does, but refuses what ovsdb-server cannot take
/// (measured on ovsdb-server 3.1): U+0000, on which it drops the connection ("null bytes not
/// supported in quoted strings"), and lone surrogates: a lone high one drops the connection
/// ("malformed escaped surrogate pair"), a lone low one is stored as invalid UTF-8.
/// On error nothing is left in `out`.
pub fn write_ovsdb_string(out: &mut Vec<u8>, t: Text<'_>) -> Result<(), EncodeError> {
    let start = out.len();
    out.push(b'"');
    let fault = match t {
        Text::Utf8(s) => write_utf8_body::<true>(out, s),
        Text::Utf16(u) => write_utf16_body::<true>(out, u),
    };
    if let Err(fault) = fault {
        out.truncate(start);
        return Err(EncodeError::new(fault.describe()));
    }
    out.push(b'"');
    Ok(())
}

/// Writes `t` as a JSON string exactly as JS `JSON.stringify` does: `"` and `\` escaped,
/// \b \t \n \f \r by name, other C0 controls as \u00xx, lone surrogates as \udxxx (lowercase
/// hex, ES2019), everything else (DEL, U+2028, U+2029, non-BMP) as raw UTF-8.
pub fn write_json_string(out: &mut Vec<u8>, t: Text<'_>) {
    out.push(b'"');
    // Without STRICT the body writers never fail.
    let _ = match t {
        Text::Utf8(s) => write_utf8_body::<false>(out, s),
        Text::Utf16(u) => write_utf16_body::<false>(out, u),
    };
    out.push(b'"');
}

/// Something ovsdb-server cannot take, at an index in UTF-16 code units (as JS counts).
enum Fault {
    Nul(usize),
    LoneSurrogate(u16, usize),
}

impl Fault {
    fn describe(&self) -> String {
        match self {
            Fault::Nul(at) => {
                format!(
                    "string contains U+0000 at index {at}, which ovsdb-server refuses by dropping the connection"
                )
            }
            Fault::LoneSurrogate(unit, at) => {
                format!(
                    "string contains a lone surrogate U+{unit:X} at index {at}, which ovsdb-server cannot store"
                )
            }
        }
    }
}

/// Writes an ASCII string that is known to need no escaping (validated ids and uuids).
pub(crate) fn write_plain_ascii(out: &mut Vec<u8>, t: Text<'_>) {
    out.push(b'"');
    match t {
        Text::Utf8(s) => out.extend_from_slice(s.as_bytes()),
        Text::Utf16(u) => narrow_into(out, u),
    }
    out.push(b'"');
}

/// Appends UTF-16 units known to be ASCII as bytes (a loop the compiler vectorizes).
#[inline]
fn narrow_into(out: &mut Vec<u8>, units: &[u16]) {
    let start = out.len();
    out.resize(start + units.len(), 0);
    for (dst, &src) in out[start..].iter_mut().zip(units) {
        *dst = src as u8;
    }
}

fn escape_ascii(out: &mut Vec<u8>, b: u8) {
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x09 => out.extend_from_slice(b"\\t"),
        0x0a => out.extend_from_slice(b"\\n"),
        0x0c => out.extend_from_slice(b"\\f"),
        0x0d => out.extend_from_slice(b"\\r"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[(b >> 4) as usize],
            HEX[(b & 15) as usize],
        ]),
    }
}

#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

fn write_utf8_body<const STRICT: bool>(out: &mut Vec<u8>, s: &str) -> Result<(), Fault> {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if needs_escape(b) {
            if STRICT && b == 0 {
                return Err(Fault::Nul(s[..i].encode_utf16().count()));
            }
            out.extend_from_slice(&bytes[start..i]);
            escape_ascii(out, b);
            start = i + 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
    Ok(())
}

fn write_utf16_body<const STRICT: bool>(out: &mut Vec<u8>, units: &[u16]) -> Result<(), Fault> {
    let n = units.len();
    out.reserve(n);
    let mut i = 0;
    while i < n {
        // Plain ASCII runs (the common case) are copied in bulk.
        let run = i;
        while i < n {
            let c = units[i];
            if !(0x20..0x80).contains(&c) || c == b'"' as u16 || c == b'\\' as u16 {
                break;
            }
            i += 1;
        }
        narrow_into(out, &units[run..i]);
        if i == n {
            break;
        }
        let c = units[i];
        i += 1;
        if c < 0x80 {
            if STRICT && c == 0 {
                return Err(Fault::Nul(i - 1));
            }
            escape_ascii(out, c as u8);
        } else if c < 0x800 {
            out.extend_from_slice(&[0xc0 | (c >> 6) as u8, 0x80 | (c & 0x3f) as u8]);
        } else if (0xd800..0xdc00).contains(&c) && i < n && (0xdc00..0xe000).contains(&units[i]) {
            let cp = 0x10000 + (((c as u32) - 0xd800) << 10) + ((units[i] as u32) - 0xdc00);
            i += 1;
            out.extend_from_slice(&[
                0xf0 | (cp >> 18) as u8,
                0x80 | ((cp >> 12) & 0x3f) as u8,
                0x80 | ((cp >> 6) & 0x3f) as u8,
                0x80 | (cp & 0x3f) as u8,
            ]);
        } else if (0xd800..0xe000).contains(&c) {
            if STRICT {
                return Err(Fault::LoneSurrogate(c, i - 1));
            }
            out.extend_from_slice(&[
                b'\\',
                b'u',
                HEX[(c >> 12) as usize],
                HEX[((c >> 8) & 15) as usize],
                HEX[((c >> 4) & 15) as usize],
                HEX[(c & 15) as usize],
            ]);
        } else {
            out.extend_from_slice(&[
                0xe0 | (c >> 12) as u8,
                0x80 | ((c >> 6) & 0x3f) as u8,
                0x80 | (c & 0x3f) as u8,
            ]);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s8(s: &str) -> String {
        let mut out = Vec::new();
        write_json_string(&mut out, Text::Utf8(s));
        String::from_utf8(out).unwrap()
    }

    fn s16(u: &[u16]) -> String {
        let mut out = Vec::new();
        write_json_string(&mut out, Text::Utf16(u));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_like_json_stringify() {
        // Expected strings are what Node's JSON.stringify prints for the same input.
        assert_eq!(s8("plain"), "\"plain\"");
        assert_eq!(s8("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(s8("\u{8}\t\n\u{c}\r"), "\"\\b\\t\\n\\f\\r\"");
        assert_eq!(s8("\u{0}\u{1}\u{1f}"), "\"\\u0000\\u0001\\u001f\"");
        assert_eq!(s8("\u{7f}\u{2028}\u{2029}"), "\"\u{7f}\u{2028}\u{2029}\"");
        assert_eq!(s8("é€😀{}[]"), "\"é€😀{}[]\"");
    }

    #[test]
    fn utf16_matches_utf8_and_escapes_lone_surrogates() {
        for s in [
            "",
            "plain",
            "a\"b\\c\n",
            "é€😀\u{0}\u{2028}",
            "ü\u{ffff}\u{10ffff}",
        ] {
            let units: Vec<u16> = s.encode_utf16().collect();
            assert_eq!(s16(&units), s8(s), "{s:?}");
        }
        assert_eq!(s16(&[0xd800]), "\"\\ud800\"");
        assert_eq!(s16(&[0xdfff, 0x41]), "\"\\udfffA\"");
        // High surrogate followed by a non-low unit, and a reversed pair.
        assert_eq!(s16(&[0xd83d, 0x41]), "\"\\ud83dA\"");
        assert_eq!(s16(&[0xde00, 0xd83d]), "\"\\ude00\\ud83d\"");
        assert_eq!(s16(&[0xd83d, 0xde00]), "\"😀\"");
    }

    #[test]
    fn refuses_what_the_server_cannot_take() {
        let mut out = Vec::new();
        let e = write_ovsdb_string(&mut out, Text::Utf8("ab\u{0}")).unwrap_err();
        assert!(e.reason.contains("U+0000 at index 2"), "{e}");
        let e = write_ovsdb_string(&mut out, Text::Utf8("😀\u{0}")).unwrap_err();
        assert!(
            e.reason.contains("index 2"),
            "index counts UTF-16 units like JS: {e}"
        );
        let e = write_ovsdb_string(&mut out, Text::Utf16(&[0x41, 0xd800, 0x41])).unwrap_err();
        assert!(e.reason.contains("lone surrogate U+D800 at index 1"), "{e}");
        let e = write_ovsdb_string(&mut out, Text::Utf16(&[0xdc00])).unwrap_err();
        assert!(e.reason.contains("U+DC00"), "{e}");
        assert!(write_ovsdb_string(&mut out, Text::Utf16(&[0xd800])).is_err());
        assert!(out.is_empty());
        write_ovsdb_string(&mut out, Text::Utf16(&[0xd83d, 0xde00, 0x1])).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\"😀\\u0001\"");
    }

    #[test]
    fn ids_and_uuids() {
        assert!(is_id("u0000000001".into()));
        assert!(is_id("_x".into()));
        assert!(!is_id("bad-name".into()));
        assert!(!is_id("1abc".into()));
        assert!(!is_id("".into()));
        assert!(!is_id(Text::Utf16(&[0x100 + b'a' as u16])));
        assert!(is_uuid("2984cbff-b6fc-4d64-acb3-ca5d1b596982".into()));
        assert!(is_uuid("2984CBFF-B6FC-4D64-ACB3-CA5D1B596982".into()));
        assert!(!is_uuid("2984cbff-b6fc-4d64-acb3-ca5d1b59698".into()));
        assert!(!is_uuid("2984cbff_b6fc-4d64-acb3-ca5d1b596982".into()));
    }
}
