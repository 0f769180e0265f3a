//! One test per rule of docs/ipam.md, through the public API of the crate.
#![allow(clippy::result_large_err)]

use ovnkit_ipam::addr::Family;
use ovnkit_ipam::error::ErrorCode;
use ovnkit_ipam::*;

fn subnet(ipam: &mut Ipam, name: &str, cidr: &str, gateway: Option<&str>, excludes: &[&str]) -> Vec<Record> {
    ipam.add_or_update_subnet(&SubnetSpecIn { name, cidr, gateway, exclude_ips: excludes }).expect("subnet")
}

fn alloc(ipam: &mut Ipam, s: &str, owner: &str, nic: &str) -> Result<Allocation, ovnkit_ipam::error::IpamError> {
    ipam.allocate(&AllocateIn { subnet: s, owner, nic, pool: None, family: None, mac: MacRequest::Omitted, skip: &[] })
}

fn alloc_with<'a>(ipam: &mut Ipam, req: AllocateIn<'a>) -> Result<Allocation, ovnkit_ipam::error::IpamError> {
    ipam.allocate(&req)
}

fn req<'a>(s: &'a str, owner: &'a str, nic: &'a str) -> AllocateIn<'a> {
    AllocateIn { subnet: s, owner, nic, pool: None, family: None, mac: MacRequest::Omitted, skip: &[] }
}

fn st<'a>(s: &'a str, owner: &'a str, nic: &'a str, ips: &'a str) -> StaticIn<'a> {
    StaticIn { subnet: s, owner, nic, ips, mac: MacRequest::Omitted, force: false }
}

fn v4(a: &Allocation) -> &str {
    a.v4.as_deref().unwrap()
}

#[test]
fn usable_range_and_gateway() {
    let mut ipam = Ipam::new(1);
    subnet(&mut ipam, "s", "10.0.0.0/29", None, &[]);
    let got: Vec<String> = (0..5).map(|i| v4(&alloc(&mut ipam, "s", &format!("ns/p{i}"), "eth0").unwrap()).to_string()).collect();
    assert_eq!(got, ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]);
    let e = alloc(&mut ipam, "s", "ns/x", "eth0").unwrap_err();
    assert_eq!(e.code, ErrorCode::NoAvailableAddress);
    assert_eq!(e.message, "subnet \"s\" pool \"\" has no available ipv4 address for ns/x/eth0");
    subnet(&mut ipam, "p2p", "10.1.0.0/31", Some("10.1.0.0"), &[]);
    assert_eq!(v4(&alloc(&mut ipam, "p2p", "ns/a", "eth0").unwrap()), "10.1.0.1");
    for bad in ["10.0.0.1/32", "fd00::1/128", "", "10.0.0.0/8,10.1.0.0/16", "10.0.0.0/8,fd00::/64,fd01::/64", "nope"] {
        let e = ipam.add_or_update_subnet(&SubnetSpecIn { name: "b", cidr: bad, gateway: None, exclude_ips: &[] }).unwrap_err();
        assert_eq!(e.code, ErrorCode::CidrInvalid, "{bad}");
        assert_eq!(e.message, format!("subnet \"b\": invalid cidr {:?}", bad));
    }
    let mut ipam6 = Ipam::new(1);
    subnet(&mut ipam6, "v6", "fd00::/126", None, &[]);
    assert_eq!(alloc(&mut ipam6, "v6", "a/a", "e").unwrap().v6.as_deref(), Some("fd00::2"));
    assert_eq!(alloc(&mut ipam6, "v6", "a/b", "e").unwrap_err().code, ErrorCode::NoAvailableAddress, "the all-ones address is never usable");
}

#[test]
fn gateway_validation() {
    let mut ipam = Ipam::new(1);
    let spec = |gw| SubnetSpecIn { name: "s", cidr: "10.0.0.0/24,fd00::/120", gateway: Some(gw), exclude_ips: &[] };
    assert_eq!(ipam.add_or_update_subnet(&spec("10.0.0.1")).unwrap_err().code, ErrorCode::InvalidArgument);
    assert_eq!(ipam.add_or_update_subnet(&spec("10.0.0.1,10.0.0.2")).unwrap_err().code, ErrorCode::InvalidArgument);
    assert_eq!(ipam.add_or_update_subnet(&spec("10.0.0.x,fd00::1")).unwrap_err().message, "invalid IP address \"10.0.0.x\"");
    let e = ipam.add_or_update_subnet(&spec("10.0.1.1,fd00::1")).unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (ErrorCode::AddressOutOfRange, "address 10.0.1.1 is out of range of subnet \"s\""));
    ipam.add_or_update_subnet(&spec("fd00::9,10.0.0.254")).unwrap();
    let e = ipam.allocate_static(&st("s", "a/b", "e", "10.0.0.254")).unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (ErrorCode::AddressConflict, "address 10.0.0.254 is the gateway of subnet \"s\""));
    let a = alloc(&mut ipam, "s", "a/b", "e").unwrap();
    assert_eq!((a.v4.as_deref(), a.v6.as_deref()), (Some("10.0.0.1"), Some("fd00::1")));
}

#[test]
fn excludes_are_clipped_and_never_allocated() {
    let mut ipam = Ipam::new(1);
    subnet(&mut ipam, "s", "10.0.0.0/28", None, &["10.0.0.2..10.0.0.4", "9.0.0.0..10.0.0.0", "fd00::1", "10.0.0.20"]);
    assert_eq!(v4(&alloc(&mut ipam, "s", "a/a", "e").unwrap()), "10.0.0.5");
    let stats = ipam.subnet_stats("s").unwrap().v4.unwrap();
    assert_eq!(stats.available, "9");
    assert_eq!(stats.available_range, "10.0.0.6-10.0.0.14");
    assert_eq!(stats.using_range, "10.0.0.5");
    let e = ipam.add_or_update_subnet(&SubnetSpecIn { name: "s", cidr: "10.0.0.0/28", gateway: None, exclude_ips: &["10.0.0.5..10.0.0.4"] }).unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (ErrorCode::InvalidArgument, "invalid IP range \"10.0.0.5..10.0.0.4\""));
    // an excluded address can be held statically and then does not count as using
    let a = ipam.allocate_static(&st("s", "b/b", "e", "10.0.0.3")).unwrap();
    assert_eq!(v4(&a), "10.0.0.3");
    assert_eq!(ipam.subnet_stats("s").unwrap().v4.unwrap().using, "1");
    assert_eq!(ipam.owner_of("s", "10.0.0.3").unwrap().as_deref(), Some("b/b"));
}

#[test]
fn released_addresses_wait_for_never_used_ones() {
    let mut ipam = Ipam::new(1);
    subnet(&mut ipam, "s", "10.0.0.0/29", None, &[]);
    for i in 0..3 {
        alloc(&mut ipam, "s", &format!("ns/p{i}"), "e").unwrap();
    }
    ipam.release_nic("ns/p0", "e", None).unwrap();
    assert_eq!(v4(&alloc(&mut ipam, "s", "ns/q0", "e").unwrap()), "10.0.0.5");
    assert_eq!(v4(&alloc(&mut ipam, "s", "ns/q1", "e").unwrap()), "10.0.0.6");
    ipam.release_owner("ns/p2", None).unwrap();
    assert_eq!(v4(&alloc(&mut ipam, "s", "ns/q2", "e").unwrap()), "10.0.0.2", "turnover hands out the lowest released");
    assert_eq!(v4(&alloc(&mut ipam, "s", "ns/q3", "e").unwrap()), "10.0.0.4");
}

#[test]
fn idempotent_reallocation_skip_and_move() {
    let mut ipam = Ipam::new(1);
    subnet(&mut ipam, "s", "10.0.0.0/29", None, &[]);
    let a = alloc(&mut ipam, "s", "ns/a", "e").unwrap();
    assert_eq!(alloc(&mut ipam, "s", "ns/a", "e").unwrap(), a);
    let moved = alloc_with(&mut ipam, AllocateIn { skip: &["10.0.0.2"], ..req("s", "ns/a", "e") }).unwrap();
    assert_eq!(v4(&moved), "10.0.0.3");
    assert_eq!(moved.mac, a.mac, "the NIC keeps its MAC");
    assert_eq!(ipam.owner_of("s", "10.0.0.2").unwrap(), None);
    let e = alloc_with(&mut ipam, AllocateIn { skip: &["10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"], ..req("s", "ns/a", "e") }).unwrap_err();
    assert_eq!(e.code, ErrorCode::AddressConflict);
    assert_eq!(e.message, "subnet \"s\" pool \"\": every free ipv4 address is in skip for ns/a/e");
    assert_eq!(ipam.owner_of("s", "10.0.0.3").unwrap().as_deref(), Some("ns/a"), "failed move leaves the old address");
    let e = alloc_with(&mut ipam, AllocateIn { skip: &["bogus"], ..req("s", "ns/a", "e") }).unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (ErrorCode::InvalidArgument, "invalid IP address \"bogus\""));
}

#[test]
fn dual_stack_all_or_nothing_and_family() {
    let mut ipam = Ipam::new(1);
    subnet(&mut ipam, "d", "10.0.0.0/30,fd00::/125", None, &[]);
    let a = alloc(&mut ipam, "d", "ns/a", "e").unwrap();
    assert_eq!((a.v4.as_deref(), a.v6.as_deref()), (Some("10.0.0.2"), Some("fd00::2")));
    // v4 is exhausted: a dual allocation fails entirely, leaving no v6 behind
    let e = alloc(&mut ipam, "d", "ns/b", "e").unwrap_err();
    assert_eq!(e.code, ErrorCode::NoAvailableAddress);
    assert!(ipam.addresses_of("ns/b").unwrap().is_empty());
    let b = alloc_with(&mut ipam, AllocateIn { family: Some(Family::V6), ..req("d", "ns/b", "e") }).unwrap();
    assert_eq!((b.v4.as_deref(), b.v6.as_deref()), (None, Some("fd00::3")));
    subnet(&mut ipam, "only4", "10.9.0.0/24", None, &[]);
    let e = alloc_with(&mut ipam, AllocateIn { family: Some(Family::V6), ..req("only4", "ns/b", "e") }).unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (ErrorCode::InvalidIpFamily, "subnet \"only4\" has no ipv6 addresses"));
}

#[test]
fn macs_generated_deterministically_unique_and_static() {
    let mut a = Ipam::new(0);
    subnet(&mut a, "s", "10.0.0.0/24", None, &[]);
    let first = alloc(&mut a, "s", "ns/a", "e").unwrap();
    assert_eq!(first.mac.as_deref(), Some("e2:20:a8:39:7b:1d"));
    let none = alloc_with(&mut a, AllocateIn { mac: MacRequest::Null, ..req("s", "ns/b", "e") }).unwrap();
    assert_eq!(none.mac, None);
    let e = alloc_with(&mut a, AllocateIn { mac: MacRequest::Static("E2:20:A8:39:7B:1D"), ..req("s", "ns/c", "e") }).unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (ErrorCode::AddressConflict, "mac e2:20:a8:39:7b:1d in subnet \"s\" is held by \"ns/a\""));
    assert!(a.addresses_of("ns/c").unwrap().is_empty(), "failed call holds nothing");
    let e = alloc_with(&mut a, AllocateIn { mac: MacRequest::Static("zz"), ..req("s", "ns/c", "e") }).unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (ErrorCode::InvalidMac, "invalid MAC address \"zz\""));
    let c = alloc_with(&mut a, AllocateIn { mac: MacRequest::Static("02:00:00:00:00:01"), ..req("s", "ns/c", "e") }).unwrap();
    assert_eq!(c.mac.as_deref(), Some("02:00:00:00:00:01"));
    // changing a NIC's static MAC frees the old one
    alloc_with(&mut a, AllocateIn { mac: MacRequest::Static("02:00:00:00:00:02"), ..req("s", "ns/c", "e") }).unwrap();
    alloc_with(&mut a, AllocateIn { mac: MacRequest::Static("02:00:00:00:00:01"), ..req("s", "ns/d", "e") }).unwrap();
}

#[test]
fn static_allocation_rules() {
    let mut ipam = Ipam::new(1);
    subnet(&mut ipam, "s", "10.0.0.0/24,fd00::/120", None, &[]);
    let a = ipam.allocate_static(&st("s", "ns/a", "e", "10.0.0.9")).unwrap();
    assert_eq!((a.v4.as_deref(), a.v6.as_deref()), (Some("10.0.0.9"), Some("fd00::2")), "the other family is allocated");
    let e = ipam.allocate_static(&st("s", "ns/b", "e", "10.0.0.9")).unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (ErrorCode::AddressConflict, "address 10.0.0.9 in subnet \"s\" is held by \"ns/a\""));
    let e = ipam.allocate_static(&st("s", "ns/a", "e2", "10.0.0.9")).unwrap_err();
    assert_eq!(e.message, "address 10.0.0.9 in subnet \"s\" is held by \"ns/a\" nic \"e\"");
    let forced = ipam.allocate_static(&StaticIn { force: true, ..st("s", "ns/a", "e2", "10.0.0.9,fd00::2") }).unwrap();
    assert_eq!(forced.v6.as_deref(), Some("fd00::2"));
    assert_eq!(ipam.addresses_of("ns/a").unwrap().len(), 1, "the NIC left with nothing is removed");
    let e = ipam.allocate_static(&st("s", "ns/c", "e", "10.0.1.9")).unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (ErrorCode::AddressOutOfRange, "address 10.0.1.9 is out of range of subnet \"s\""));
    for bad in ["", "10.0.0.1,10.0.0.2", "1,2,3"] {
        let e = ipam.allocate_static(&st("s", "ns/c", "e", bad)).unwrap_err();
        assert_eq!((e.code, e.message), (ErrorCode::InvalidArgument, format!("invalid static ips {bad:?}")));
    }
    // changing the static address releases the old one
    ipam.allocate_static(&st("s", "ns/c", "e", "10.0.0.20")).unwrap();
    ipam.allocate_static(&st("s", "ns/c", "e", "10.0.0.21")).unwrap();
    assert_eq!(ipam.owner_of("s", "10.0.0.20").unwrap(), None);
    let before = ipam.subnet_stats("s").unwrap();
    ipam.allocate_static(&st("s", "ns/c", "e", "10.0.0.21")).unwrap();
    assert_eq!(ipam.subnet_stats("s").unwrap(), before, "re-issuing is a no-op");
}

#[test]
fn pools_carve_out_and_overlap() {
    let mut ipam = Ipam::new(1);
    subnet(&mut ipam, "s", "10.0.0.0/24", None, &[]);
    ipam.add_or_update_pool("s", "p1", &["10.0.0.2..10.0.0.5"]).unwrap();
    assert_eq!(v4(&alloc(&mut ipam, "s", "ns/a", "e").unwrap()), "10.0.0.6");
    let got = alloc_with(&mut ipam, AllocateIn { pool: Some("p1"), ..req("s", "ns/b", "e") }).unwrap();
    assert_eq!(v4(&got), "10.0.0.2");
    let e = ipam.add_or_update_pool("s", "p2", &["10.0.0.0/29"]).unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (ErrorCode::AddressConflict, "pool \"p2\" overlaps pool \"p1\" in subnet \"s\": 10.0.0.2-10.0.0.5"));
    let e = alloc_with(&mut ipam, AllocateIn { pool: Some("zz"), ..req("s", "ns/c", "e") }).unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (ErrorCode::NoAvailableAddress, "subnet \"s\" has no pool \"zz\""));
    let ps = ipam.pool_stats("s", "p1").unwrap().v4.unwrap();
    assert_eq!((ps.available.as_str(), ps.using.as_str(), ps.available_range.as_str()), ("3", "1", "10.0.0.3-10.0.0.5"));
    let e = ipam.allocate_static(&st("s", "ns/d", "e", "10.0.0.1")).unwrap_err();
    assert_eq!(e.code, ErrorCode::AddressConflict);
    ipam.remove_pool("s", "p1").unwrap();
    let ds = ipam.pool_stats("s", "").unwrap().v4.unwrap();
    assert_eq!(ds.using, "2");
    assert_eq!(ds.available, "251");
    assert_eq!(ipam.add_or_update_pool("s", "", &[]).unwrap_err().message, "pool name must not be empty");
}

#[test]
fn pool_update_recycles_default_released() {
    let mut ipam = Ipam::new(1);
    subnet(&mut ipam, "s", "10.0.0.0/28", None, &[]);
    alloc(&mut ipam, "s", "ns/a", "e").unwrap();
    alloc(&mut ipam, "s", "ns/b", "e").unwrap();
    ipam.release_nic("ns/a", "e", Some("s")).unwrap();
    ipam.add_or_update_pool("s", "p", &["10.0.0.12..10.0.0.14"]).unwrap();
    assert_eq!(v4(&alloc(&mut ipam, "s", "ns/c", "e").unwrap()), "10.0.0.2", "released went back to free");
}

#[test]
fn subnet_update_keeps_valid_and_reports_invalid() {
    let mut ipam = Ipam::new(1);
    subnet(&mut ipam, "s", "10.0.0.0/24", None, &[]);
    for i in 0..4 {
        alloc(&mut ipam, "s", &format!("ns/p{i}"), "e").unwrap();
    }
    assert!(subnet(&mut ipam, "s", "10.0.0.0/24", None, &[]).is_empty(), "unchanged spec changes nothing");
    let lost = subnet(&mut ipam, "s", "10.0.0.0/30", Some("10.0.0.1"), &["10.0.0.2"]);
    assert_eq!(lost.len(), 3);
    assert_eq!(lost[0].owner, "ns/p1");
    assert_eq!(lost[0].v4.as_deref(), Some("10.0.0.3"));
    assert!(lost[0].mac.is_some());
    assert_eq!(ipam.owner_of("s", "10.0.0.2").unwrap().as_deref(), Some("ns/p0"), "valid but now excluded: kept");
    let s = ipam.subnet_stats("s").unwrap().v4.unwrap();
    assert_eq!((s.using.as_str(), s.available.as_str()), ("0", "0"));
}

#[test]
fn restore_first_holder_wins() {
    let mut ipam = Ipam::new(1);
    subnet(&mut ipam, "s", "10.0.0.0/24", None, &[]);
    let rec = |owner, nic, v4, mac| RecordIn { subnet: "s", owner, nic, v4: Some(v4), v6: None, mac };
    let out = ipam.restore(&[
        rec("ns/a", "e", "10.0.0.5", Some("02:00:00:00:00:05")),
        rec("ns/b", "e", "10.0.0.5", None),
        rec("ns/a", "e", "10.0.0.5", Some("02:00:00:00:00:05")),
        rec("ns/a", "e", "10.0.0.6", None),
        rec("ns/c", "e", "10.0.0.7", Some("02:00:00:00:00:05")),
        RecordIn { subnet: "nope", owner: "ns/d", nic: "e", v4: Some("10.0.0.8"), v6: None, mac: None },
        RecordIn { subnet: "s", owner: "ns/d", nic: "e", v4: Some("fd00::1"), v6: None, mac: None },
        RecordIn { subnet: "s", owner: "ns/d", nic: "e", v4: None, v6: None, mac: None },
    ]);
    assert_eq!(out.restored, 2);
    let msgs: Vec<(usize, &str, Option<&str>)> =
        out.conflicts.iter().map(|c| (c.index, c.error.message.as_str(), c.error.held_by.as_deref())).collect();
    assert_eq!(
        msgs,
        vec![
            (1, "address 10.0.0.5 in subnet \"s\" is held by \"ns/a\"", Some("ns/a")),
            (3, "nic ns/a/e in subnet \"s\" already holds 10.0.0.5", Some("ns/a")),
            (4, "mac 02:00:00:00:00:05 in subnet \"s\" is held by \"ns/a\"", Some("ns/a")),
            (5, "subnet \"nope\" does not exist", None),
            (6, "v4 \"fd00::1\" is not an ipv4 address", None),
            (7, "restore record has no address", None),
        ]
    );
    assert_eq!(v4(&alloc(&mut ipam, "s", "ns/z", "e").unwrap()), "10.0.0.2");
    assert_eq!(ipam.subnet_stats("s").unwrap().v4.unwrap().using_range, "10.0.0.2,10.0.0.5");
}

#[test]
fn huge_ipv6_counts_are_exact() {
    let mut ipam = Ipam::new(1);
    subnet(&mut ipam, "v6", "fd00::/64", None, &[]);
    let s = ipam.subnet_stats("v6").unwrap().v6.unwrap();
    assert_eq!(s.available, "18446744073709551613");
    assert_eq!(s.available_range, "fd00::2-fd00::ffff:ffff:ffff:fffe");
    for i in 0..1000 {
        alloc(&mut ipam, "v6", &format!("ns/p{i}"), "e").unwrap();
    }
    let s = ipam.subnet_stats("v6").unwrap().v6.unwrap();
    assert_eq!(s.available, (18446744073709551613u128 - 1000).to_string());
    assert_eq!(s.using_range, "fd00::2-fd00::3e9");
    subnet(&mut ipam, "all", "::/0", None, &[]);
    assert_eq!(ipam.subnet_stats("all").unwrap().v6.unwrap().available, (u128::MAX - 2).to_string());
}

#[test]
fn delete_subnet_drops_holders() {
    let mut ipam = Ipam::new(1);
    subnet(&mut ipam, "s", "10.0.0.0/24", None, &[]);
    subnet(&mut ipam, "t", "10.1.0.0/24", None, &[]);
    alloc(&mut ipam, "s", "ns/a", "e").unwrap();
    alloc(&mut ipam, "t", "ns/a", "e").unwrap();
    ipam.delete_subnet("s").unwrap();
    let left = ipam.addresses_of("ns/a").unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].subnet, "t");
    assert_eq!(alloc(&mut ipam, "s", "ns/a", "e").unwrap_err().code, ErrorCode::NoSubnet);
}
