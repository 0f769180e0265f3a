//! Memory per allocated address, counted by a global allocator that tracks live heap bytes
//! (requested sizes; the system allocator's own per-block overhead is not included).
//! Run: `cargo bench -p ovnkit-ipam --bench memory`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use ovnkit_ipam::{AllocateIn, Ipam, MacRequest, SubnetSpecIn};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn fill(cidr: &str, count: usize) -> (isize, isize, Ipam) {
    let before = live();
    let mut ipam = Ipam::new(1);
    ipam.add_or_update_subnet(&SubnetSpecIn { name: "s", cidr, gateway: None, exclude_ips: &[] }).unwrap();
    let empty = live() - before;
    let mut owner = String::new();
    let mut nic = String::new();
    for i in 0..count {
        owner.clear();
        nic.clear();
        use std::fmt::Write;
        let _ = write!(owner, "ns/p{i}");
        let _ = write!(nic, "p{i}.ns");
        let r = ipam.allocate(&AllocateIn { subnet: "s", owner: &owner, nic: &nic, pool: None, family: None, mac: MacRequest::Omitted, skip: &[] });
        if r.is_err() {
            break;
        }
    }
    (empty, live() - before, ipam)
}

fn main() {
    println!("| case | empty map | after allocations | bytes per allocated address (incl. owner, NIC name, MAC) |");
    println!("|---|---|---|---|");
    let cases: [(&str, &str, usize, usize); 5] = [
        ("/8 empty", "10.0.0.0/8", 0, 1),
        ("/16 full (65,533)", "10.0.0.0/16", 65_533, 65_533),
        ("/12 with 100k", "10.0.0.0/12", 100_000, 100_000),
        ("/64 with 1M", "fd00::/64", 1_000_000, 1_000_000),
        ("dual /16 + /112, 60k NICs (2 addresses each)", "10.0.0.0/16,fd00::/112", 60_000, 120_000),
    ];
    for (label, cidr, count, addresses) in cases {
        let (empty, total, ipam) = fill(cidr, count);
        let per = if count == 0 { 0.0 } else { (total - empty) as f64 / addresses as f64 };
        println!(
            "| {label} | {:.3} MB | {:.1} MB | {} |",
            empty as f64 / 1e6,
            total as f64 / 1e6,
            if count == 0 { "-".to_string() } else { format!("{per:.1} B (explicit accounting: {:.1} B)", (ipam.heap_bytes() as f64 - empty as f64) / addresses as f64) }
        );
        drop(ipam);
    }
}
