//! Criterion benches: the allocator core (pool level: bitmap pick + release) and the whole IPAM
//! (names, indexes, MACs), on a /16 at 90 % fill and a /64 after 1M allocations, plus a 100k
//! shuffled restore. Run: `cargo bench -p ovnkit-ipam --bench ipam`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ovnkit_ipam::addr::parse_ip;
use ovnkit_ipam::pool::PoolFamily;
use ovnkit_ipam::ranges::RangeList;
use ovnkit_ipam::{AllocateIn, Ipam, MacRequest, RecordIn, SubnetSpecIn};

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A uniform index below `len` by multiply-shift: a 64-bit `%` costs tens of cycles, which
    /// the core benches would otherwise count as allocator time.
    fn below(&mut self, len: usize) -> usize {
        ((u128::from(self.next()) * len as u128) >> 64) as usize
    }
}

fn v4(s: &str) -> u128 {
    parse_ip(s).unwrap().1
}

/// A pool filled with `fill` sequential picks; returns the pool and what it holds.
fn filled_pool(lo: u128, hi: u128, gateway: u128, fill: usize) -> (PoolFamily, Vec<u128>) {
    let mut pool = PoolFamily::build(RangeList::single(lo, hi), &RangeList::single(gateway, gateway), &[], &[]);
    let mut held = Vec::with_capacity(fill);
    for _ in 0..fill {
        let p = pool.plan(&[], false).unwrap();
        pool.commit(p);
        held.push(p.address);
    }
    (pool, held)
}

/// How many iterations ahead the prefetching variant touches the held slot it will release
/// (one iteration, ~25 ns, is shorter than a miss to memory on this machine).
const PREFETCH_AHEAD: usize = 8;

/// Setup runs only when criterion selects the bench (a filter then skips the 1M-address fills).
/// `prefetch`: touch the held slot PREFETCH_AHEAD iterations ahead, so that on a 16 MB held array
/// the row measures the allocator rather than the harness's own cache miss.
fn churn_pool(c: &mut Criterion, name: &str, prefetch: bool, setup: impl Fn() -> (PoolFamily, Vec<u128>)) {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut state: Option<(PoolFamily, Vec<u128>)> = None;
    c.bench_function(name, |b| {
        let (pool, held) = state.get_or_insert_with(&setup);
        // upcoming indices, used round-robin: slot k is consumed, then refilled with a fresh one
        let mut upcoming = [0usize; PREFETCH_AHEAD];
        for slot in &mut upcoming {
            *slot = rng.below(held.len());
        }
        let mut k = 0;
        b.iter(|| {
            let i = upcoming[k];
            let fresh = rng.below(held.len());
            upcoming[k] = fresh;
            k = (k + 1) % PREFETCH_AHEAD;
            if prefetch {
                touch(&held[fresh]);
            }
            pool.release(held[i]);
            let p = pool.plan(&[], false).unwrap();
            pool.commit(p);
            held[i] = black_box(p.address);
        })
    });
}

#[inline(always)]
fn touch<T>(slot: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch hint never faults and `slot` is a valid reference.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(std::ptr::from_ref(slot).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = slot;
}

/// The churn loop with the allocator left out: the random choice and the read and write of the
/// held array (16 MB for 1M addresses, so mostly a cache miss). Subtract it from the row above.
fn churn_harness_only(c: &mut Criterion, name: &str, len: usize) {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut held: Vec<u128> = (0..len as u128).collect();
    let mut counter = 0u128;
    c.bench_function(name, |b| {
        b.iter(|| {
            let i = rng.below(held.len());
            counter = counter.wrapping_add(black_box(held[i]));
            held[i] = black_box(counter);
        })
    });
}

fn pool_benches(c: &mut Criterion) {
    let (lo, hi) = (v4("10.0.0.1"), v4("10.0.255.254"));
    let fill = (65_533usize * 9) / 10;
    churn_pool(c, "core: release+pick, /16 at 90% fill", false, || filled_pool(lo, hi, lo, fill));

    let base = parse_ip("fd00::").unwrap().1;
    let slash64 = || filled_pool(base + 1, base + (1u128 << 64) - 2, base + 1, 1_000_000);
    churn_pool(c, "core: release+pick, /64 after 1M", false, slash64);
    churn_pool(c, "core: release+pick, /64 after 1M, held slot prefetched", true, slash64);
    churn_harness_only(c, "core: harness only (random held index, read+write), 59k held", fill);
    churn_harness_only(c, "core: harness only (random held index, read+write), 1M held", 1_000_000);
}

fn names(n: usize) -> Vec<(String, String)> {
    (0..n).map(|i| (format!("ns/p{i}"), format!("p{i}.ns"))).collect()
}

fn filled_ipam(cidr: &str, count: usize) -> (Ipam, Vec<(String, String)>) {
    let mut ipam = Ipam::new(1);
    ipam.add_or_update_subnet(&SubnetSpecIn { name: "s", cidr, gateway: None, exclude_ips: &[] }).unwrap();
    let pods = names(count);
    for (owner, nic) in &pods {
        ipam.allocate(&AllocateIn { subnet: "s", owner, nic, pool: None, family: None, mac: MacRequest::Omitted, skip: &[] }).unwrap();
    }
    (ipam, pods)
}

fn churn_ipam(c: &mut Criterion, name: &str, cidr: &str, fill: usize) {
    let mut state: Option<(Ipam, Vec<(String, String)>)> = None;
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut next = fill;
    c.bench_function(name, |b| {
        let (ipam, pods) = state.get_or_insert_with(|| filled_ipam(cidr, fill));
        b.iter(|| {
            let i = (rng.next() % pods.len() as u64) as usize;
            let (owner, nic) = &pods[i];
            ipam.release_nic(owner, nic, Some("s")).unwrap();
            let fresh = (format!("ns/p{next}"), format!("p{next}.ns"));
            next += 1;
            let a = ipam
                .allocate(&AllocateIn { subnet: "s", owner: &fresh.0, nic: &fresh.1, pool: None, family: None, mac: MacRequest::Omitted, skip: &[] })
                .unwrap();
            black_box(a);
            pods[i] = fresh;
        })
    });
}

fn ipam_benches(c: &mut Criterion) {
    churn_ipam(c, "ipam: releaseNic+allocate (names, MAC), /16 at 90% fill", "10.0.0.0/16", (65_533 * 9) / 10);
    churn_ipam(c, "ipam: releaseNic+allocate (names, MAC), /64 after 1M", "fd00::/64", 1_000_000);
}

fn restore_bench(c: &mut Criterion) {
    let n = 100_000usize;
    let mut records: Vec<(String, String, String, String)> = (0..n)
        .map(|i| {
            let a = 0x0a00_0002u32 + i as u32;
            let ip = format!("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
            (format!("ns/p{i}"), format!("p{i}.ns"), ip, format!("0a:58:{:02x}:{:02x}:{:02x}:{:02x}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255))
        })
        .collect();
    let mut rng = XorShift(7);
    for i in (1..records.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        records.swap(i, j);
    }
    let mut group = c.benchmark_group("restore");
    group.sample_size(10);
    group.bench_function("restore 100k shuffled records (10.0.0.0/15)", |b| {
        b.iter_batched(
            || {
                let mut ipam = Ipam::new(1);
                ipam.add_or_update_subnet(&SubnetSpecIn { name: "s", cidr: "10.0.0.0/15", gateway: None, exclude_ips: &[] }).unwrap();
                ipam
            },
            |mut ipam| {
                let input: Vec<RecordIn<'_>> = records
                    .iter()
                    .map(|(o, n, ip, mac)| RecordIn { subnet: "s", owner: o, nic: n, v4: Some(ip), v6: None, mac: Some(mac) })
                    .collect();
                let out = ipam.restore(&input);
                assert_eq!(out.restored, n);
                ipam
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, pool_benches, ipam_benches, restore_bench);
criterion_main!(benches);
