// IPAM: native (Rust through N-API) vs the pure-TypeScript twin, side by side in one run, through
// the public `Ipam` API. One table:
//   - allocate + releaseNic pair on a fresh /16 (new pod each time)
//   - churn on a /16 at 90 % fill: releaseNic of a random pod + allocate of a new one
//     (Kube-OVN v1.16.2 measured on these machines: 168 µs per pair, shared/reference/baselines.md)
//   - restore of 100k records in random order into 10.0.0.0/15 (Kube-OVN: 18.19 s)
//   - memory: heap per allocated address at 100k owners (native: Rust-side accounting;
//     both: V8 heap growth), a /8's empty map, a /64 with 1M allocations
//
//   node bench/ipam.ts                       # re-runs itself with --expose-gc
//   OVNKIT_BENCH_REPEATS=7 node bench/ipam.ts
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Ipam } from '../src/ipam/index.ts';
import type { AddressRecord, IpamBackend } from '../src/ipam/types.ts';
import type { NativeIpamBackend } from '../src/ipam/native.ts';

if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const gc = globalThis.gc as () => void;

const REPEATS = Number(process.env.OVNKIT_BENCH_REPEATS ?? 5);
type Impl = 'native' | 'ts';
const IMPLS: Impl[] = ['native', 'ts'];

function make(impl: Impl, cidr = '10.0.0.0/16'): Ipam {
  const ipam = new Ipam({ impl, macSeed: 42 });
  if (ipam.impl !== impl) throw new Error(`asked for ${impl}, got ${ipam.impl}`);
  ipam.addOrUpdateSubnet({ name: 's', cidr });
  return ipam;
}

function backendOf(ipam: Ipam): IpamBackend {
  return (ipam as unknown as { backend: IpamBackend }).backend;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function progress(text: string): void {
  process.stderr.write(`  … ${text}\n`);
}

/** xorshift32, so both impls see the same "random" pods. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

// ---- timed cases --------------------------------------------------------------------------

/** Collects the previous case's garbage (and runs the finalizers that free native state) before
 * the clock starts, so neither implementation pays for the other's leftovers. */
function settle(): void {
  gc();
  gc();
}

/** ns per allocate+releaseNic pair of a new pod on a /16 that stays nearly empty. */
function pairOnce(impl: Impl, n: number): number {
  const ipam = make(impl);
  const owners = Array.from({ length: n }, (_, i) => `ns/p${i}`);
  const nics = Array.from({ length: n }, (_, i) => `p${i}.ns`);
  settle();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    ipam.allocate({ subnet: 's', owner: owners[i]!, nic: nics[i]! });
    ipam.releaseNic(owners[i]!, nics[i]!, 's');
  }
  return Number(process.hrtime.bigint() - t0) / n;
}

/** ns per releaseNic(random held pod) + allocate(new pod) on a /16 at 90 % fill. */
function churnOnce(impl: Impl, pairs: number): number {
  const ipam = make(impl);
  const fill = Math.floor((65533 * 9) / 10);
  const held: Array<[string, string]> = [];
  for (let i = 0; i < fill; i++) {
    const pod: [string, string] = [`ns/p${i}`, `p${i}.ns`];
    ipam.allocate({ subnet: 's', owner: pod[0], nic: pod[1] });
    held.push(pod);
  }
  const fresh = Array.from({ length: pairs }, (_, i): [string, string] => [`ns/q${i}`, `q${i}.ns`]);
  const r = rng(12345);
  settle();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < pairs; i++) {
    const k = r() % held.length;
    const [owner, nic] = held[k]!;
    ipam.releaseNic(owner, nic, 's');
    const pod = fresh[i]!;
    ipam.allocate({ subnet: 's', owner: pod[0], nic: pod[1] });
    held[k] = pod;
  }
  return Number(process.hrtime.bigint() - t0) / pairs;
}

const RESTORE_N = 100_000;
function restoreRecords(): AddressRecord[] {
  const recs: AddressRecord[] = [];
  for (let i = 0; i < RESTORE_N; i++) {
    const a = 0x0a000002 + i;
    const hex = (v: number): string => v.toString(16).padStart(2, '0');
    recs.push({
      subnet: 's',
      owner: `ns/p${i}`,
      nic: `p${i}.ns`,
      v4: `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`,
      mac: `0a:58:${hex(a >>> 24)}:${hex((a >>> 16) & 255)}:${hex((a >>> 8) & 255)}:${hex(a & 255)}`,
    });
  }
  const r = rng(777);
  for (let i = recs.length - 1; i > 0; i--) {
    const j = r() % (i + 1);
    [recs[i], recs[j]] = [recs[j]!, recs[i]!];
  }
  return recs;
}

/** ms for one restore of 100k shuffled records into a fresh 10.0.0.0/15. */
function restoreOnce(impl: Impl, records: AddressRecord[]): number {
  const ipam = make(impl, '10.0.0.0/15');
  settle();
  const t0 = process.hrtime.bigint();
  const out = ipam.restore(records);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (out.restored !== RESTORE_N) throw new Error(`${impl}: restored ${out.restored}`);
  return ms;
}

// ---- memory -------------------------------------------------------------------------------

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** V8 heap growth and (native) Rust-side bytes per allocated address at `count` owners. */
function memoryAt(impl: Impl, cidr: string, count: number): { v8PerAddr: number; rustPerAddr: number | undefined; rustEmpty: number | undefined; v8Empty: number } {
  const before = heapUsed();
  const ipam = make(impl, cidr);
  const emptyHeap = heapUsed();
  const native = impl === 'native' ? (backendOf(ipam) as NativeIpamBackend) : undefined;
  const rustEmpty = native?.nativeMemory().heapBytes;
  for (let i = 0; i < count; i++) {
    ipam.allocate({ subnet: 's', owner: `ns/p${i}`, nic: `p${i}.ns` });
    if (i > 0 && i % 250_000 === 0) progress(`${impl} ${cidr}: ${i} allocated`);
  }
  const after = heapUsed();
  const rustFull = native?.nativeMemory().heapBytes;
  const out = {
    v8PerAddr: count ? (after - emptyHeap) / count : 0,
    rustPerAddr: rustFull !== undefined && rustEmpty !== undefined && count ? (rustFull - rustEmpty) / count : undefined,
    rustEmpty,
    v8Empty: emptyHeap - before,
  };
  // keep the instance alive until measured
  if (ipam.subnetStats('s').v4 === undefined && ipam.subnetStats('s').v6 === undefined) throw new Error('no stats');
  return out;
}

// ---- run ----------------------------------------------------------------------------------

const cpu = cpus();
console.log(`machine: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores, node ${process.version}, loadavg at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`repeats: ${REPEATS} (median shown, min in brackets); native and TS interleaved per repeat`);

const pair: Record<Impl, number[]> = { native: [], ts: [] };
const churn: Record<Impl, number[]> = { native: [], ts: [] };
const restore: Record<Impl, number[]> = { native: [], ts: [] };
pairOnce('native', 20_000);
pairOnce('ts', 20_000);
for (let r = 0; r < REPEATS; r++) {
  for (const impl of IMPLS) pair[impl].push(pairOnce(impl, 200_000));
  progress(`pair repeat ${r + 1}/${REPEATS}`);
}
for (let r = 0; r < REPEATS; r++) {
  for (const impl of IMPLS) churn[impl].push(churnOnce(impl, 20_000));
  progress(`churn repeat ${r + 1}/${REPEATS}`);
}
const records = restoreRecords();
for (let r = 0; r < REPEATS; r++) {
  for (const impl of IMPLS) restore[impl].push(restoreOnce(impl, records));
  progress(`restore repeat ${r + 1}/${REPEATS}`);
}
progress('memory at 100k owners');
const mem100k = { native: memoryAt('native', '10.0.0.0/12', 100_000), ts: memoryAt('ts', '10.0.0.0/12', 100_000) };
progress('memory of an empty /8');
const mem8 = { native: memoryAt('native', '10.0.0.0/8', 0), ts: memoryAt('ts', '10.0.0.0/8', 0) };
progress('memory of a /64 with 1M allocations (native, then TS)');
const mem64 = { native: memoryAt('native', 'fd00::/64', 1_000_000), ts: memoryAt('ts', 'fd00::/64', 1_000_000) };

const fmt = (xs: number[], unit: string, digits = 0): string => `${median(xs).toFixed(digits)} ${unit} [${Math.min(...xs).toFixed(digits)}]`;
const ratio = (n: number[], t: number[]): string => `${(median(t) / median(n)).toFixed(2)}× ${median(n) <= median(t) ? 'native faster' : 'TS faster'}`;
const mb = (b: number | undefined): string => (b === undefined ? '–' : `${(b / 1e6).toFixed(2)} MB`);
const bpa = (b: number | undefined): string => (b === undefined ? '–' : `${b.toFixed(1)} B`);

const rows: string[][] = [
  ['allocate + releaseNic pair, new pod each time, /16 (target ≤ 1 µs each)', fmt(pair.native, 'ns'), fmt(pair.ts, 'ns'), ratio(pair.native, pair.ts), '–'],
  ['churn on /16 at 90 % fill: releaseNic + allocate', fmt(churn.native, 'ns'), fmt(churn.ts, 'ns'), ratio(churn.native, churn.ts), '168 µs'],
  ['restore 100k records, random order, /15 (target native ≤ 50 ms, ≥ 3× TS)', fmt(restore.native, 'ms', 1), fmt(restore.ts, 'ms', 1), ratio(restore.native, restore.ts), '18.19 s'],
  [
    'bytes per allocated address at 100k owners, Rust-side accounting (target ≤ 100 B)',
    bpa(mem100k.native.rustPerAddr),
    '–',
    '',
    '551 B',
  ],
  ['V8 heap growth per allocated address at 100k owners', bpa(mem100k.native.v8PerAddr), bpa(mem100k.ts.v8PerAddr), '', '–'],
  ['/8 subnet, empty map (target ≤ 2.2 MB): Rust-side / V8 heap', `${mb(mem8.native.rustEmpty)} / ${mb(mem8.native.v8Empty)}`, `– / ${mb(mem8.ts.v8Empty)}`, '', '–'],
  [
    '/64 with 1M allocations (target ≤ 100 MB): Rust-side / V8 heap growth',
    `${mb(mem64.native.rustEmpty! + mem64.native.rustPerAddr! * 1e6)} / ${mb(mem64.native.v8PerAddr * 1e6)}`,
    `– / ${mb(mem64.ts.v8PerAddr * 1e6 + mem64.ts.v8Empty)}`,
    '',
    '546 MiB',
  ],
];
console.log('');
console.log('| case | native | TS | ratio | Kube-OVN (baselines.md) |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log('');
console.log(`loadavg at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
