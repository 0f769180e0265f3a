// Seeded random IPAM call sequences over small subnets (so pools fill, turnovers and skip
// conflicts happen often), and a runner that turns every outcome into comparable data.
import type { Ipam } from '../../src/ipam/index.ts';
import { IpamError } from '../../src/ipam/index.ts';

export type Op = { method: string; args: unknown[] };

export function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

const SUBNETS = ['s4', 's6', 'sd'];
const OWNERS = Array.from({ length: 12 }, (_, i) => `ns/o${i}`);
const NICS = ['n0', 'n1'];
const MACS = ['0a:00:00:00:00:01', '0a:00:00:00:00:02', '0A:00:00:00:00:03'];

function addr(r: (n: number) => number, subnet: string, family?: 'v4' | 'v6'): string {
  const f = family ?? (subnet === 's4' ? 'v4' : subnet === 's6' ? 'v6' : r(2) === 0 ? 'v4' : 'v6');
  const n = r(70) - 2; // some out of range, some network/broadcast
  if (subnet === 's4' || (subnet === 's6' && f === 'v4')) return `10.0.0.${Math.max(0, n)}`;
  if (subnet === 'sd' && f === 'v4') return `10.1.0.${Math.max(0, n)}`;
  const prefix = subnet === 'sd' ? 'fd01::' : 'fd00::';
  return `${prefix}${Math.max(0, n).toString(16)}`;
}

function specFor(r: (n: number) => number, subnet: string): Record<string, unknown> {
  const wide = r(3) === 0;
  const excl = r(2) === 0 ? [] : [addr(r, subnet), `${addr(r, subnet, subnet === 's6' ? 'v6' : 'v4')}..${addr(r, subnet, subnet === 's6' ? 'v6' : 'v4')}`];
  switch (subnet) {
    case 's4':
      return { name: 's4', cidr: wide ? '10.0.0.0/26' : '10.0.0.0/27', excludeIps: excl.filter((e) => !e.includes('..') || ordered(e)) };
    case 's6':
      return { name: 's6', cidr: wide ? 'fd00::/122' : 'fd00::/123', gateway: r(4) === 0 ? 'fd00::1e' : undefined, excludeIps: excl.filter((e) => !e.includes('..') || ordered(e)) };
    default:
      return { name: 'sd', cidr: wide ? '10.1.0.0/27,fd01::/124' : 'fd01::/124,10.1.0.0/28', excludeIps: excl.filter((e) => !e.includes('..') || ordered(e)) };
  }
}

function ordered(range: string): boolean {
  const [a, b] = range.split('..');
  const n = (x: string) => (x.includes(':') ? parseInt(x.split('::')[1] || '0', 16) : Number(x.split('.')[3]));
  return n(a!) <= n(b!);
}

export function randomOp(r: (n: number) => number): Op {
  const subnet = SUBNETS[r(3)]!;
  const owner = OWNERS[r(OWNERS.length)]!;
  const nic = NICS[r(2)]!;
  const k = r(100);
  if (k < 30) {
    const req: Record<string, unknown> = { subnet, owner, nic };
    if (r(4) === 0) req.pool = ['p1', 'p2', '', 'zz'][r(4)];
    if (r(5) === 0) req.family = r(2) === 0 ? 'ipv4' : 'ipv6';
    const m = r(6);
    if (m === 0) req.mac = null;
    else if (m === 1) req.mac = MACS[r(3)];
    if (r(3) === 0) req.skip = Array.from({ length: 1 + r(6) }, () => addr(r, subnet));
    return { method: 'allocate', args: [req] };
  }
  if (k < 45) {
    const ips = subnet === 'sd' && r(2) === 0 ? `${addr(r, subnet, 'v4')},${addr(r, subnet, 'v6')}` : addr(r, subnet);
    const req: Record<string, unknown> = { subnet, owner, nic, ips };
    const m = r(5);
    if (m === 0) req.mac = null;
    else if (m === 1) req.mac = MACS[r(3)];
    if (r(3) === 0) req.force = true;
    return { method: 'allocateStatic', args: [req] };
  }
  if (k < 60) return { method: 'releaseNic', args: r(2) === 0 ? [owner, nic] : [owner, nic, subnet] };
  if (k < 65) return { method: 'releaseOwner', args: r(2) === 0 ? [owner] : [owner, subnet] };
  if (k < 71) {
    const ips = Array.from({ length: 1 + r(2) }, () => {
      const a = addr(r, subnet);
      return r(3) === 0 ? a : `${a}..${a}`;
    });
    return { method: 'addOrUpdatePool', args: [subnet, r(2) === 0 ? 'p1' : 'p2', ips] };
  }
  if (k < 74) return { method: 'removePool', args: [subnet, r(2) === 0 ? 'p1' : 'p2'] };
  if (k < 78) return { method: 'addOrUpdateSubnet', args: [specFor(r, subnet)] };
  if (k < 82) {
    const records = Array.from({ length: 1 + r(3) }, () => {
      const rec: Record<string, unknown> = { subnet: SUBNETS[r(3)], owner: OWNERS[r(OWNERS.length)], nic: NICS[r(2)] };
      if (subnet !== 's6' || r(2) === 0) rec.v4 = addr(r, subnet, 'v4');
      if (subnet !== 's4' || r(2) === 0) rec.v6 = addr(r, subnet, 'v6');
      if (r(3) === 0) rec.mac = MACS[r(3)];
      return rec;
    });
    return { method: 'restore', args: [records] };
  }
  if (k < 87) return { method: 'subnetStats', args: [subnet] };
  if (k < 90) return { method: 'poolStats', args: [subnet, ['', 'p1', 'p2'][r(3)]] };
  if (k < 95) return { method: 'addressesOf', args: [owner] };
  return { method: 'ownerOf', args: [subnet, addr(r, subnet)] };
}

/** The outcome of one call as plain data: the result, or the error's code, message and fields. */
export function apply(ipam: Ipam, op: Op): unknown {
  try {
    const fn = (ipam as unknown as Record<string, (...a: unknown[]) => unknown>)[op.method]!;
    const out = fn.apply(ipam, structuredClone(op.args));
    if (op.method === 'restore') {
      const res = out as { restored: number; conflicts: Array<{ record: unknown; code: string; message: string; heldBy?: string }> };
      return { restored: res.restored, conflicts: res.conflicts.map((c) => ({ ...c })) };
    }
    return out === undefined ? { undefined: true } : out;
  } catch (err) {
    if (!(err instanceof IpamError)) throw err;
    return { error: { ...err, code: err.code, message: err.message } };
  }
}

export function initialSubnets(ipam: Ipam): void {
  ipam.addOrUpdateSubnet({ name: 's4', cidr: '10.0.0.0/27' });
  ipam.addOrUpdateSubnet({ name: 's6', cidr: 'fd00::/123' });
  ipam.addOrUpdateSubnet({ name: 'sd', cidr: '10.1.0.0/28,fd01::/124' });
}

/** Everything observable: stats of every subnet and pool, and every owner's addresses. */
export function snapshot(ipam: Ipam): unknown {
  const out: Record<string, unknown> = {};
  for (const s of SUBNETS) {
    out[`stats:${s}`] = apply(ipam, { method: 'subnetStats', args: [s] });
    for (const p of ['', 'p1', 'p2']) out[`pool:${s}/${p}`] = apply(ipam, { method: 'poolStats', args: [s, p] });
  }
  for (const o of OWNERS) out[`owner:${o}`] = ipam.addressesOf(o);
  return out;
}
