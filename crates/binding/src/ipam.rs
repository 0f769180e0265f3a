//! IPAM exports: a thin translation layer over `ovnkit-ipam`. One call per whole operation; the
//! state stays in Rust behind an `External` handle. Results come back as compact strings that
//! src/ipam/native.ts shapes into objects: `allocate` returns "v4\0v6\0mac" (empty = absent),
//! rarer calls return JSON. Errors carry the IpamErrorCode as `code` and a JSON reason
//! `{message, subnet?, pool?, owner?, nic?, address?, heldBy?}`. A panic inside an operation
//! becomes code `Internal`, never an abort.

// In the test build napi-derive registers nothing, so every export looks unused there.
#![cfg_attr(test, allow(dead_code))]

use std::panic::{AssertUnwindSafe, catch_unwind};

use napi::bindgen_prelude::{External, Int32ArraySlice, Uint8ArraySlice};
use napi_derive::napi;
use ovnkit_ipam::addr::Family;
use ovnkit_ipam::error::{IpamError, q};
use ovnkit_ipam::{AllocateIn, Allocation, Ipam, MacRequest, Record, RecordIn, RestoreOutcome, StaticIn, Stats, SubnetSpecIn};

type NapiResult<T> = napi::Result<T, String>;

const MAX_SEED: f64 = 9_007_199_254_740_991.0;

fn error_json(e: &IpamError) -> String {
    let mut out = format!("{{\"message\":{}", q(&e.message));
    for (key, value) in [
        ("subnet", &e.subnet),
        ("pool", &e.pool),
        ("owner", &e.owner),
        ("nic", &e.nic),
        ("address", &e.address),
        ("heldBy", &e.held_by),
    ] {
        if let Some(v) = value {
            out.push_str(&format!(",{}:{}", q(key), q(v)));
        }
    }
    out.push('}');
    out
}

fn to_napi(e: IpamError) -> napi::Error<String> {
    napi::Error::new(e.code.as_str().to_string(), error_json(&e))
}

fn invalid_argument(message: &str) -> napi::Error<String> {
    napi::Error::new("InvalidArgument".to_string(), format!("{{\"message\":{}}}", q(message)))
}

/// Runs one operation; a panic inside it becomes an `Internal` error.
fn guard<T>(op: impl FnOnce() -> NapiResult<T>) -> NapiResult<T> {
    match catch_unwind(AssertUnwindSafe(op)) {
        Ok(r) => r,
        Err(payload) => {
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".to_string());
            Err(napi::Error::new("Internal".to_string(), format!("{{\"message\":{}}}", q(&format!("internal error: {text}")))))
        }
    }
}

fn opt_json(out: &mut String, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        out.push_str(&format!(",{}:{}", q(key), q(v)));
    }
}

fn records_json(records: &[Record]) -> String {
    let mut out = String::from("[");
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("{{\"subnet\":{},\"owner\":{},\"nic\":{}", q(&r.subnet), q(&r.owner), q(&r.nic)));
        opt_json(&mut out, "v4", &r.v4);
        opt_json(&mut out, "v6", &r.v6);
        opt_json(&mut out, "mac", &r.mac);
        out.push('}');
    }
    out.push(']');
    out
}

fn stats_json(s: &Stats) -> String {
    let mut out = String::from("{");
    for (key, fam) in [("v4", &s.v4), ("v6", &s.v6)] {
        if let Some(f) = fam {
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str(&format!(
                "{}:{{\"available\":{},\"using\":{},\"availableRange\":{},\"usingRange\":{}}}",
                q(key),
                q(&f.available),
                q(&f.using),
                q(&f.available_range),
                q(&f.using_range)
            ));
        }
    }
    out.push('}');
    out
}

fn allocation_text(a: &Allocation) -> String {
    let mut out = String::with_capacity(48);
    out.push_str(a.v4.as_deref().unwrap_or(""));
    out.push('\0');
    out.push_str(a.v6.as_deref().unwrap_or(""));
    out.push('\0');
    out.push_str(a.mac.as_deref().unwrap_or(""));
    out
}

/// macMode: 0 omitted, 1 null, 2 static (the value in `mac`).
fn mac_request(mode: u32, mac: &Option<String>) -> NapiResult<MacRequest<'_>> {
    match (mode, mac) {
        (0, _) => Ok(MacRequest::Omitted),
        (1, _) => Ok(MacRequest::Null),
        (2, Some(m)) => Ok(MacRequest::Static(m)),
        _ => Err(invalid_argument("mac mode must be 0, 1 or 2 (with a mac for 2)")),
    }
}

/// family: 0 = not given, 4 = ipv4, 6 = ipv6.
fn family_of(code: u32) -> NapiResult<Option<Family>> {
    match code {
        0 => Ok(None),
        4 => Ok(Some(Family::V4)),
        6 => Ok(Some(Family::V6)),
        _ => Err(invalid_argument("family must be 0, 4 or 6")),
    }
}

/// A new, empty IPAM. `macSeed` must be an integer in 0..=2^53−1 (a number; napi would coerce
/// anything else, so it is checked here).
#[napi(catch_unwind)]
pub fn ipam_new(mac_seed: f64) -> napi::Result<External<Ipam>, String> {
    guard(|| {
        if !(mac_seed.is_finite() && mac_seed.fract() == 0.0 && (0.0..=MAX_SEED).contains(&mac_seed)) {
            return Err(invalid_argument("macSeed must be an integer in 0..2^53-1"));
        }
        Ok(External::new(Ipam::new(mac_seed as u64)))
    })
}

#[napi(catch_unwind)]
pub fn ipam_add_or_update_subnet(
    ipam: &mut External<Ipam>,
    name: String,
    cidr: String,
    gateway: Option<String>,
    exclude_ips: Vec<String>,
) -> napi::Result<String, String> {
    guard(|| {
        let excludes: Vec<&str> = exclude_ips.iter().map(String::as_str).collect();
        let spec = SubnetSpecIn { name: &name, cidr: &cidr, gateway: gateway.as_deref(), exclude_ips: &excludes };
        ipam.add_or_update_subnet(&spec).map(|r| records_json(&r)).map_err(to_napi)
    })
}

#[napi(catch_unwind)]
pub fn ipam_delete_subnet(ipam: &mut External<Ipam>, name: String) -> napi::Result<(), String> {
    guard(|| ipam.delete_subnet(&name).map_err(to_napi))
}

#[napi(catch_unwind)]
pub fn ipam_add_or_update_pool(ipam: &mut External<Ipam>, subnet: String, pool: String, ips: Vec<String>) -> napi::Result<(), String> {
    guard(|| {
        let entries: Vec<&str> = ips.iter().map(String::as_str).collect();
        ipam.add_or_update_pool(&subnet, &pool, &entries).map_err(to_napi)
    })
}

#[napi(catch_unwind)]
pub fn ipam_remove_pool(ipam: &mut External<Ipam>, subnet: String, pool: String) -> napi::Result<(), String> {
    guard(|| ipam.remove_pool(&subnet, &pool).map_err(to_napi))
}

/// Returns "v4\0v6\0mac" (empty fields are absent).
#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments)]
pub fn ipam_allocate(
    ipam: &mut External<Ipam>,
    subnet: String,
    owner: String,
    nic: String,
    pool: Option<String>,
    family: u32,
    mac_mode: u32,
    mac: Option<String>,
    skip: Option<Vec<String>>,
) -> napi::Result<String, String> {
    guard(|| {
        let skip: Vec<&str> = skip.iter().flatten().map(String::as_str).collect();
        let req = AllocateIn {
            subnet: &subnet,
            owner: &owner,
            nic: &nic,
            pool: pool.as_deref(),
            family: family_of(family)?,
            mac: mac_request(mac_mode, &mac)?,
            skip: &skip,
        };
        ipam.allocate(&req).map(|a| allocation_text(&a)).map_err(to_napi)
    })
}

/// Applies releases packed as "owner\0nic[\0subnet]" segments separated by \x01 (names are
/// printable ASCII, so neither separator can occur inside one).
fn release_packed(ipam: &mut Ipam, releases: &str) -> NapiResult<()> {
    for segment in releases.split('\x01').filter(|s| !s.is_empty()) {
        let mut parts = segment.splitn(3, '\0');
        let (Some(owner), Some(nic)) = (parts.next(), parts.next()) else {
            return Err(invalid_argument("releaseNic: packed release must be owner\\0nic[\\0subnet]"));
        };
        ipam.release_nic(owner, nic, parts.next()).map_err(to_napi)?;
    }
    Ok(())
}

/// The common allocate (no pool, family, mac or skip) as one string argument: every napi
/// argument costs a conversion. "subnet\0owner\0nic", optionally preceded by releases the
/// adapter deferred ("…\x01…\x01subnet\0owner\0nic"); they are applied first, in order.
#[napi(catch_unwind)]
pub fn ipam_allocate_packed(ipam: &mut External<Ipam>, packed: String) -> napi::Result<String, String> {
    guard(|| {
        let (releases, request) = match packed.rfind('\x01') {
            Some(i) => (&packed[..i], &packed[i + 1..]),
            None => ("", packed.as_str()),
        };
        release_packed(ipam, releases)?;
        let mut parts = request.splitn(3, '\0');
        let (Some(subnet), Some(owner), Some(nic)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid_argument("allocate: packed request must be subnet\\0owner\\0nic"));
        };
        let req = AllocateIn { subnet, owner, nic, pool: None, family: None, mac: MacRequest::Omitted, skip: &[] };
        let mut out = String::with_capacity(40);
        ipam.allocate_text(&req, &mut out).map_err(to_napi)?;
        Ok(out)
    })
}

/// releaseNic for one or more NICs: "owner\0nic[\0subnet]" segments separated by \x01.
#[napi(catch_unwind)]
pub fn ipam_release_nic_packed(ipam: &mut External<Ipam>, packed: String) -> napi::Result<(), String> {
    guard(|| release_packed(ipam, &packed))
}

#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments)]
pub fn ipam_allocate_static(
    ipam: &mut External<Ipam>,
    subnet: String,
    owner: String,
    nic: String,
    ips: String,
    mac_mode: u32,
    mac: Option<String>,
    force: bool,
) -> napi::Result<String, String> {
    guard(|| {
        let req = StaticIn { subnet: &subnet, owner: &owner, nic: &nic, ips: &ips, mac: mac_request(mac_mode, &mac)?, force };
        ipam.allocate_static(&req).map(|a| allocation_text(&a)).map_err(to_napi)
    })
}

#[napi(catch_unwind)]
pub fn ipam_release_nic(ipam: &mut External<Ipam>, owner: String, nic: String, subnet: Option<String>) -> napi::Result<(), String> {
    guard(|| ipam.release_nic(&owner, &nic, subnet.as_deref()).map_err(to_napi))
}

#[napi(catch_unwind)]
pub fn ipam_release_owner(ipam: &mut External<Ipam>, owner: String, subnet: Option<String>) -> napi::Result<(), String> {
    guard(|| ipam.release_owner(&owner, subnet.as_deref()).map_err(to_napi))
}

/// JSON array of records.
#[napi(catch_unwind)]
pub fn ipam_addresses_of(ipam: &External<Ipam>, owner: String) -> napi::Result<String, String> {
    guard(|| ipam.addresses_of(&owner).map(|r| records_json(&r)).map_err(to_napi))
}

#[napi(catch_unwind)]
pub fn ipam_owner_of(ipam: &External<Ipam>, subnet: String, ip: String) -> napi::Result<Option<String>, String> {
    guard(|| ipam.owner_of(&subnet, &ip).map_err(to_napi))
}

/// JSON `{v4?, v6?}`.
#[napi(catch_unwind)]
pub fn ipam_subnet_stats(ipam: &External<Ipam>, subnet: String) -> napi::Result<String, String> {
    guard(|| ipam.subnet_stats(&subnet).map(|s| stats_json(&s)).map_err(to_napi))
}

#[napi(catch_unwind)]
pub fn ipam_pool_stats(ipam: &External<Ipam>, subnet: String, pool: String) -> napi::Result<String, String> {
    guard(|| ipam.pool_stats(&subnet, &pool).map(|s| stats_json(&s)).map_err(to_napi))
}

/// Bulk restore in one call. `lengths` holds, per record, six UTF-16 lengths (subnet, owner,
/// nic, v4, v6, mac; -1 = absent) of the fields laid back to back in `text`. Returns JSON
/// `{restored, conflicts: [{index, code, error: {message, ...fields}}]}`.
#[napi(catch_unwind)]
pub fn ipam_restore(ipam: &mut External<Ipam>, lengths: Int32ArraySlice, text: String) -> napi::Result<String, String> {
    guard(|| {
        if !lengths.len().is_multiple_of(6) {
            return Err(invalid_argument("restore: lengths must hold 6 entries per record"));
        }
        let units: usize = lengths.iter().filter(|&&l| l > 0).map(|&l| l as usize).sum();
        // All-ASCII text (the usual case) has UTF-8 offsets equal to UTF-16 ones; otherwise walk
        // the characters once to turn UTF-16 lengths into byte spans.
        let ascii = units == text.len();
        let mut byte = 0usize;
        let mut chars = text.char_indices();
        let mut next_field = |len: i32| -> NapiResult<Option<&str>> {
            if len < 0 {
                return Ok(None);
            }
            let start = byte;
            if ascii {
                byte += len as usize;
            } else {
                let mut left = len as usize;
                while left > 0 {
                    let Some((_, c)) = chars.next() else { break };
                    left = left.saturating_sub(c.len_utf16());
                    byte += c.len_utf8();
                }
            }
            text.get(start..byte).map(Some).ok_or_else(|| invalid_argument("restore: lengths exceed the text"))
        };
        let mut records: Vec<RecordIn<'_>> = Vec::with_capacity(lengths.len() / 6);
        for r in lengths.chunks_exact(6) {
            records.push(RecordIn {
                subnet: next_field(r[0])?.unwrap_or(""),
                owner: next_field(r[1])?.unwrap_or(""),
                nic: next_field(r[2])?.unwrap_or(""),
                v4: next_field(r[3])?,
                v6: next_field(r[4])?,
                mac: next_field(r[5])?,
            });
        }
        Ok(restore_json(ipam.restore(&records)))
    })
}

fn restore_json(outcome: RestoreOutcome) -> String {
    let mut out = format!("{{\"restored\":{},\"conflicts\":[", outcome.restored);
    for (i, c) in outcome.conflicts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let err = error_json(&c.error);
        out.push_str(&format!("{{\"index\":{},\"code\":{},\"error\":{err}}}", c.index, q(c.error.code.as_str())));
    }
    out.push_str("]}");
    out
}

/// The all-ASCII packed batch as records, produced on the fly (see `Ipam::restore_iter`). Built
/// only after `packed_ascii` checked that every field lies within the text, and ASCII text has
/// a char boundary at every byte, so the slicing cannot fail.
#[derive(Clone)]
struct PackedRecords<'a> {
    lengths: &'a [i32],
    text: &'a str,
    at: usize,
}

impl<'a> PackedRecords<'a> {
    fn field(&mut self, len: i32) -> Option<&'a str> {
        if len < 0 {
            return None;
        }
        let start = self.at;
        self.at += len as usize;
        Some(&self.text[start..self.at])
    }
}

impl<'a> Iterator for PackedRecords<'a> {
    type Item = RecordIn<'a>;
    fn next(&mut self) -> Option<RecordIn<'a>> {
        let (r, rest) = self.lengths.split_first_chunk::<6>()?;
        self.lengths = rest;
        Some(RecordIn {
            subnet: self.field(r[0]).unwrap_or(""),
            owner: self.field(r[1]).unwrap_or(""),
            nic: self.field(r[2]).unwrap_or(""),
            v4: self.field(r[3]),
            v6: self.field(r[4]),
            mac: self.field(r[5]),
        })
    }
}

/// Checks a packed ASCII batch before anything is restored (no partial state on bad input).
fn packed_ascii<'a>(lengths: &'a [i32], bytes: &'a [u8]) -> NapiResult<PackedRecords<'a>> {
    if !lengths.len().is_multiple_of(6) {
        return Err(invalid_argument("restore: lengths must hold 6 entries per record"));
    }
    let text = std::str::from_utf8(bytes)
        .ok()
        .filter(|t| t.is_ascii())
        .ok_or_else(|| invalid_argument("restore: the packed bytes must be ASCII"))?;
    let mut total = 0usize;
    for &len in lengths {
        if len > 0 {
            total += len as usize;
        }
    }
    if total > text.len() {
        return Err(invalid_argument("restore: lengths exceed the text"));
    }
    Ok(PackedRecords { lengths, text, at: 0 })
}

/// Bulk restore of an all-ASCII batch (the adapter's fast path, checked as it was packed): six
/// lengths per record as in `ipam_restore`, the fields' bytes back to back in `bytes`, read in
/// place (a byte is a UTF-16 unit here, and no JS string is converted).
#[napi(catch_unwind)]
pub fn ipam_restore_ascii(ipam: &mut External<Ipam>, lengths: Int32ArraySlice, bytes: Uint8ArraySlice) -> napi::Result<String, String> {
    guard(|| {
        let records = packed_ascii(&lengths, &bytes)?;
        Ok(restore_json(ipam.restore_iter(records)))
    })
}

/// Explicit accounting of the heap this IPAM holds, and its NIC count (for the benchmarks).
#[napi(catch_unwind)]
pub fn ipam_memory(ipam: &External<Ipam>) -> napi::Result<Vec<f64>, String> {
    guard(|| Ok(vec![ipam.heap_bytes() as f64, ipam.nic_count() as f64]))
}

/// Test-only: panics inside a guarded operation, to prove a panic surfaces as `Internal`.
#[napi(js_name = "__testPanic", catch_unwind)]
pub fn test_panic(unguarded: bool) -> napi::Result<(), String> {
    if unguarded {
        panic!("deliberate test panic outside the guard");
    }
    guard(|| panic!("deliberate test panic"))
}
