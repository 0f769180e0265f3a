//! The error every operation returns: a code that maps 1:1 to the TypeScript `IpamErrorCode`,
//! the exact message docs/ipam.md §11 prescribes, and the objects involved.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    CidrInvalid,
    NoSubnet,
    AddressOutOfRange,
    AddressConflict,
    NoAvailableAddress,
    InvalidIpFamily,
    InvalidMac,
    InvalidArgument,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::CidrInvalid => "CIDRInvalid",
            ErrorCode::NoSubnet => "NoSubnet",
            ErrorCode::AddressOutOfRange => "AddressOutOfRange",
            ErrorCode::AddressConflict => "AddressConflict",
            ErrorCode::NoAvailableAddress => "NoAvailableAddress",
            ErrorCode::InvalidIpFamily => "InvalidIPFamily",
            ErrorCode::InvalidMac => "InvalidMAC",
            ErrorCode::InvalidArgument => "InvalidArgument",
            ErrorCode::Internal => "Internal",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpamError {
    pub code: ErrorCode,
    pub message: String,
    pub subnet: Option<String>,
    pub pool: Option<String>,
    pub owner: Option<String>,
    pub nic: Option<String>,
    pub address: Option<String>,
    pub held_by: Option<String>,
}

impl IpamError {
    pub fn new(code: ErrorCode, message: String) -> Self {
        IpamError { code, message, subnet: None, pool: None, owner: None, nic: None, address: None, held_by: None }
    }
    pub fn subnet(mut self, v: &str) -> Self {
        self.subnet = Some(v.to_string());
        self
    }
    pub fn pool(mut self, v: &str) -> Self {
        self.pool = Some(v.to_string());
        self
    }
    pub fn owner(mut self, v: &str) -> Self {
        self.owner = Some(v.to_string());
        self
    }
    pub fn nic(mut self, v: &str) -> Self {
        self.nic = Some(v.to_string());
        self
    }
    pub fn address(mut self, v: &str) -> Self {
        self.address = Some(v.to_string());
        self
    }
    pub fn held_by(mut self, v: &str) -> Self {
        self.held_by = Some(v.to_string());
        self
    }
}

impl fmt::Display for IpamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for IpamError {}

pub type Result<T> = std::result::Result<T, IpamError>;

/// `JSON.stringify(s)` for a string: the quoting the spec's `"…"` placeholders use.
pub fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::q;

    #[test]
    fn quotes_like_json_stringify() {
        assert_eq!(q("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\u0001é\"");
    }
}
