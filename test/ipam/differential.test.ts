// Differential test: seeded random operation sequences run against the Rust backend and the
// TypeScript twin (the reference of record) must give identical results and identical errors
// (code, message and fields). Seed: OVNKIT_DIFF_SEED, else random; always printed. Length:
// OVNKIT_DIFF_OPS (default 200000 operations in total, over several independent runs).
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createNativeBackend } from '../../src/ipam/native.ts';
import { createTsBackend } from '../../src/ipam/ts/backend.ts';
import type { AddressRecord, IpamBackend } from '../../src/ipam/types.ts';
import { mulberry32 as rng } from '../support/rng.ts';

const require = createRequire(import.meta.url);
const binding = require('../../native/index.js') as Record<string, unknown>;

const TOTAL_OPS = Number(process.env.OVNKIT_DIFF_OPS ?? 200_000);
const RUNS = 8;
const BASE_SEED = process.env.OVNKIT_DIFF_SEED !== undefined ? Number(process.env.OVNKIT_DIFF_SEED) : Math.floor(Math.random() * 2 ** 31);

/** Stable text of a value: keys sorted, explicit `undefined` visible, so key presence counts. */
function canon(v: unknown): string {
  if (v === undefined) return '<undefined>';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canon(o[k])}`)
    .join(',')}}`;
}

function outcome(fn: () => unknown): string {
  try {
    return `ok ${canon(fn())}`;
  } catch (err) {
    const e = err as Record<string, unknown> & Error;
    if (e?.name !== 'IpamError') return `THROWN non-IpamError ${String(err)}`;
    const fields: Record<string, unknown> = { code: e.code, message: e.message };
    for (const k of ['subnet', 'pool', 'owner', 'nic', 'address', 'heldBy']) if (k in e) fields[k] = e[k];
    return `err ${canon(fields)}`;
  }
}

interface SubnetShape {
  name: string;
  /** candidate CIDR specs this subnet cycles through on updates */
  cidrs: string[];
  /** address generators per family: base text helpers */
  v4base?: number; // 32-bit base of the 10.x network
  v6base?: string; // prefix like "fd00:1::"
  /** always excluded: keeps a wide subnet's allocatable part small enough to run dry */
  fixedExcludes?: string[];
}

const SHAPES: SubnetShape[] = [
  { name: 'v4', cidrs: ['10.0.0.0/27', '10.0.0.0/26', '10.0.0.0/28', '10.0.0.16/28'], v4base: (10 << 24) >>> 0 },
  { name: 'v6', cidrs: ['fd00:1::/122', 'fd00:1::/123', 'fd00:1::/64', 'fd00:1::40/122'], v6base: 'fd00:1::' },
  { name: 'dual', cidrs: ['10.1.0.0/27,fd00:2::/123', 'fd00:2::/122,10.1.0.0/26', '10.1.0.0/28,fd00:2::/124', '10.1.0.0/27', 'fd00:2::/123'], v4base: ((10 << 24) | (1 << 16)) >>> 0, v6base: 'fd00:2::' },
  // Spans past 2^20 keep released addresses in the sparse form, past 2^26 free too.
  { name: 'wide', cidrs: ['10.32.0.0/11'], v4base: ((10 << 24) | (32 << 16)) >>> 0, fixedExcludes: ['10.32.0.40..10.63.255.254'] },
  { name: 'wide6', cidrs: ['fd00:5::/64', 'fd00:5::/60'], v6base: 'fd00:5::', fixedExcludes: ['fd00:5::30..fd00:5::ffff:ffff:ffff:fffe'] },
  { name: 'p2p', cidrs: ['10.2.0.0/31', '10.2.0.0/30', '10.2.0.0/31,fd00:3::/127'], v4base: ((10 << 24) | (2 << 16)) >>> 0, v6base: 'fd00:3::' },
];

function v4text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

class Generator {
  private readonly r: () => number;
  readonly owners: string[];
  private readonly cidrIndex = new Map<string, number>();
  private readonly macs = ['02:00:00:00:00:01', '02:00:00:00:00:02', '0A:58:0A:00:00:03', '02:aa:bb:cc:dd:ee', 'e2:20:a8:39:7b:1d'];

  constructor(seed: number) {
    this.r = rng(seed);
    // Short names and a few long ones (the native store keeps long names out of line).
    this.owners = Array.from({ length: 24 }, (_, i) => (i % 6 === 5 ? `kube-system/coredns-deployment-7c79c4bf97-x${i}` : `ns${i % 3}/p${i}`));
  }

  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }

  subnetName(): string {
    return this.chance(0.02) ? 'nosuch' : this.pick(SHAPES).name;
  }
  shape(name: string): SubnetShape | undefined {
    return SHAPES.find((s) => s.name === name);
  }
  owner(): string {
    return this.pick(this.owners);
  }
  nic(): string {
    return this.pick(['eth0', 'eth0', 'eth0', 'net1', 'a-rather-long-attachment-port-name.ns']);
  }

  /** An address near the start of the subnet (within 80 of the base), or junk. */
  address(shape: SubnetShape | undefined, family?: 'v4' | 'v6'): string {
    if (this.chance(0.01)) return this.pick(['bogus', '10.0.0', '', '::ffff:1.2.3.4', '10.0.0.01', 'fd00::g', '1.2.3.4/32']);
    const useV6 = family === 'v6' || (family === undefined && shape?.v6base !== undefined && (shape.v4base === undefined || this.chance(0.5)));
    if (useV6 || shape === undefined) {
      const base = shape?.v6base ?? 'fd00:9::';
      const off = this.int(this.chance(0.05) ? 70000 : 48);
      return this.chance(0.1) ? `${base}${off.toString(16).toUpperCase()}` : `${base}${off.toString(16)}`;
    }
    return v4text((shape.v4base! + this.int(this.chance(0.05) ? 400 : 40)) >>> 0);
  }

  mac(): string | null | undefined {
    const x = this.r();
    if (x < 0.7) return undefined;
    if (x < 0.8) return null;
    if (x < 0.98) return this.pick(this.macs);
    return this.pick(['zz:zz', '02:00:00:00:00', '02-00-00-00-00-01', '']);
  }

  entry(shape: SubnetShape | undefined): string {
    const x = this.r();
    if (x < 0.01) return this.pick(['10.0.0.5..10.0.0.1', 'x..y', '10.0.0.0/33', 'nope', '10.0.0.1..fd00::1']);
    if (x < 0.4) return this.address(shape);
    if (x < 0.8) {
      const a = this.address(shape);
      if (a.includes(':')) {
        const base = shape?.v6base ?? 'fd00:9::';
        const lo = this.int(70);
        return `${base}${lo.toString(16)}..${base}${(lo + this.int(10)).toString(16)}`;
      }
      const base = shape?.v4base ?? (10 << 24) >>> 0;
      const lo = this.int(60);
      return `${v4text(base + lo)}..${v4text(base + lo + this.int(10))}`;
    }
    if (shape?.v4base !== undefined && (shape.v6base === undefined || this.chance(0.5))) {
      return `${v4text(shape.v4base + 8 * this.int(8))}/${this.pick([29, 30, 32])}`;
    }
    return `${shape?.v6base ?? 'fd00:9::'}${(8 * this.int(8)).toString(16)}/${this.pick([125, 126, 128])}`;
  }

  subnetSpec(name: string): { name: string; cidr: string; gateway?: string; excludeIps?: string[] } {
    const shape = this.shape(name)!;
    if (this.chance(0.03)) {
      return { name, cidr: this.pick(['10.0.0.1/32', 'fd00::/128', '', '10.0.0.0/8,10.1.0.0/16', 'x/8', '10.0.0.0/24,fd00::/64,fd01::/64']) };
    }
    let idx = this.cidrIndex.get(name) ?? 0;
    if (this.chance(0.5)) idx = this.int(shape.cidrs.length);
    this.cidrIndex.set(name, idx);
    const cidr = shape.cidrs[idx]!;
    const spec: { name: string; cidr: string; gateway?: string; excludeIps?: string[] } = { name, cidr };
    if (this.chance(0.2)) {
      const parts = cidr.split(',').map((c) => {
        const base = c.split('/')[0]!;
        if (base.includes(':')) return `${base}${this.pick(['1', '2', '5'])}`.replace(/::(\d)$/, '::$1');
        const n = base.split('.').map(Number);
        return v4text((((n[0]! << 24) | (n[1]! << 16) | (n[2]! << 8) | n[3]!) + this.pick([1, 2, 5])) >>> 0);
      });
      spec.gateway = this.chance(0.1) ? this.pick(['bogus', '10.0.0.1,10.0.0.2', 'fd00:1::1']) : parts.join(',');
    }
    if (this.chance(0.5)) spec.excludeIps = Array.from({ length: this.int(4) }, () => this.entry(shape)).filter((e) => !e.includes('/') || this.chance(0.2));
    if (shape.fixedExcludes) spec.excludeIps = [...(spec.excludeIps ?? []), ...shape.fixedExcludes];
    return spec;
  }

  restoreRecords(): AddressRecord[] {
    return Array.from({ length: 1 + this.int(12) }, () => {
      const subnet = this.subnetName();
      const shape = this.shape(subnet);
      const rec: AddressRecord = { subnet, owner: this.owner(), nic: this.nic() };
      if (shape?.v4base !== undefined && this.chance(0.7)) rec.v4 = this.address(shape, 'v4');
      if (shape?.v6base !== undefined && this.chance(0.7)) rec.v6 = this.address(shape, 'v6');
      if (this.chance(0.03)) rec.v4 = 'fd00:1::5';
      const mac = this.mac();
      if (typeof mac === 'string') rec.mac = mac;
      return rec;
    });
  }

  /** One random operation: a label for the report and the call itself. */
  op(): { label: string; run: (b: IpamBackend) => unknown } {
    const x = this.r();
    if (x < 0.36) {
      const req: Record<string, unknown> = { subnet: this.subnetName(), owner: this.owner(), nic: this.nic() };
      const shape = this.shape(req.subnet as string);
      if (this.chance(0.15)) req.pool = this.pick(['', 'pa', 'pb', 'pc']);
      if (this.chance(0.1)) req.family = this.pick(['ipv4', 'ipv6']);
      const mac = this.mac();
      if (mac !== undefined) req.mac = mac;
      if (this.chance(0.15)) req.skip = Array.from({ length: 1 + this.int(6) }, () => this.address(shape));
      return { label: `allocate ${JSON.stringify(req)}`, run: (b) => b.allocate(req as never) };
    }
    if (x < 0.48) {
      const subnet = this.subnetName();
      const shape = this.shape(subnet);
      let ips = this.address(shape);
      if (shape?.v4base !== undefined && shape.v6base !== undefined && this.chance(0.3)) ips = `${this.address(shape, 'v4')},${this.address(shape, 'v6')}`;
      if (this.chance(0.02)) ips = this.pick(['', '10.0.0.1,10.0.0.2', '1,2,3']);
      const req: Record<string, unknown> = { subnet, owner: this.owner(), nic: this.nic(), ips };
      const mac = this.mac();
      if (mac !== undefined) req.mac = mac;
      if (this.chance(0.2)) req.force = this.chance(0.7);
      return { label: `allocateStatic ${JSON.stringify(req)}`, run: (b) => b.allocateStatic(req as never) };
    }
    if (x < 0.62) {
      const owner = this.owner();
      const nic = this.nic();
      const subnet = this.chance(0.5) ? this.subnetName() : undefined;
      return { label: `releaseNic ${owner} ${nic} ${subnet}`, run: (b) => b.releaseNic(owner, nic, subnet) };
    }
    if (x < 0.67) {
      const owner = this.owner();
      const subnet = this.chance(0.5) ? this.subnetName() : undefined;
      return { label: `releaseOwner ${owner} ${subnet}`, run: (b) => b.releaseOwner(owner, subnet) };
    }
    if (x < 0.71) {
      const subnet = this.subnetName();
      const shape = this.shape(subnet);
      const pool = this.chance(0.03) ? '' : this.pick(['pa', 'pb', 'pc']);
      const ips = Array.from({ length: this.int(3) }, () => this.entry(shape));
      return { label: `addOrUpdatePool ${subnet} ${pool} ${JSON.stringify(ips)}`, run: (b) => b.addOrUpdatePool(subnet, pool, ips) };
    }
    if (x < 0.73) {
      const subnet = this.subnetName();
      const pool = this.chance(0.03) ? '' : this.pick(['pa', 'pb', 'pc', 'pz']);
      return { label: `removePool ${subnet} ${pool}`, run: (b) => b.removePool(subnet, pool) };
    }
    if (x < 0.755) {
      const spec = this.subnetSpec(this.pick(SHAPES).name);
      return { label: `addOrUpdateSubnet ${JSON.stringify(spec)}`, run: (b) => b.addOrUpdateSubnet(spec) };
    }
    if (x < 0.758) {
      const name = this.pick(SHAPES).name;
      const spec = this.subnetSpec(name);
      return {
        label: `deleteSubnet+add ${JSON.stringify(spec)}`,
        run: (b) => {
          b.deleteSubnet(name);
          return b.addOrUpdateSubnet(spec);
        },
      };
    }
    if (x < 0.78) {
      const records = this.restoreRecords();
      return { label: `restore ${JSON.stringify(records)}`, run: (b) => b.restore(records) };
    }
    if (x < 0.84) {
      const owner = this.owner();
      return { label: `addressesOf ${owner}`, run: (b) => b.addressesOf(owner) };
    }
    if (x < 0.92) {
      const subnet = this.subnetName();
      const ip = this.address(this.shape(subnet));
      return { label: `ownerOf ${subnet} ${ip}`, run: (b) => b.ownerOf(subnet, ip) };
    }
    if (x < 0.96) {
      const subnet = this.subnetName();
      return { label: `subnetStats ${subnet}`, run: (b) => b.subnetStats(subnet) };
    }
    const subnet = this.subnetName();
    const pool = this.pick(['', 'pa', 'pb', 'pc', 'pz']);
    return { label: `poolStats ${subnet} ${pool}`, run: (b) => b.poolStats(subnet, pool) };
  }
}

/** Everything observable, for the periodic whole-state comparison. */
function snapshot(b: IpamBackend, owners: string[]): string {
  const parts: string[] = [];
  for (const s of SHAPES) {
    parts.push(outcome(() => b.subnetStats(s.name)));
    for (const p of ['', 'pa', 'pb', 'pc']) parts.push(outcome(() => b.poolStats(s.name, p)));
  }
  for (const o of owners) parts.push(outcome(() => b.addressesOf(o)));
  return parts.join('\n');
}

function runSequence(seed: number, ops: number): { ops: number } {
  const macSeed = seed * 7919;
  const native = createNativeBackend(binding, { macSeed });
  const ts = createTsBackend({ macSeed });
  const gen = new Generator(seed);
  const history: string[] = [];
  for (const s of SHAPES) {
    const spec = gen.subnetSpec(s.name);
    const label = `addOrUpdateSubnet ${JSON.stringify(spec)}`;
    const a = outcome(() => native.addOrUpdateSubnet(spec));
    const t = outcome(() => ts.addOrUpdateSubnet(spec));
    history.push(label);
    if (a !== t) throw divergence(seed, history.length - 1, label, a, t, history);
  }
  for (let i = 0; i < ops; i++) {
    const { label, run } = gen.op();
    history.push(label);
    if (history.length > 40) history.shift();
    const a = outcome(() => run(native));
    const t = outcome(() => run(ts));
    if (a !== t) throw divergence(seed, i, label, a, t, history);
    if (i % 5000 === 4999) {
      const sa = snapshot(native, gen.owners);
      const st = snapshot(ts, gen.owners);
      if (sa !== st) throw divergence(seed, i, `state snapshot after op ${i}`, sa, st, history);
    }
  }
  return { ops };
}

function divergence(seed: number, index: number, label: string, native: string, ts: string, history: string[]): Error {
  const msg = [
    `native and TS diverged: OVNKIT_DIFF_SEED=${BASE_SEED} (sequence seed ${seed}), operation #${index}`,
    `  op:     ${label}`,
    `  native: ${native}`,
    `  ts:     ${ts}`,
    '  preceding operations (most recent last):',
    ...history.slice(-15, -1).map((h) => `    ${h}`),
  ].join('\n');
  console.error(msg);
  return new Error(msg);
}

describe('IPAM differential: native vs TypeScript', () => {
  it(`gives identical results and errors over ${TOTAL_OPS} random operations`, () => {
    console.log(`ipam differential: OVNKIT_DIFF_SEED=${BASE_SEED} OVNKIT_DIFF_OPS=${TOTAL_OPS}`);
    let done = 0;
    for (let run = 0; run < RUNS; run++) {
      done += runSequence(BASE_SEED + run, Math.ceil(TOTAL_OPS / RUNS)).ops;
    }
    expect(done).toBeGreaterThanOrEqual(TOTAL_OPS);
  }, 600_000);
});
