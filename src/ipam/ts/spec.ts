// Parsing and validation of subnet specs, range entries and static address lists
// (docs/ipam.md §1, §2, §6, §7). Everything here is pure: no IPAM state is touched.
import type { IpFamily, SubnetSpec } from '../types.ts';
import { IpamError, q } from '../errors.ts';
import { formatV4, formatV6, parseIp, parseV4, parseV6 } from './addr.ts';
import { type Ranges, contains, intersect, normalize } from './ranges.ts';

export interface FamilyDef {
  kind: IpFamily;
  network: bigint;
  prefix: number;
  first: bigint;
  last: bigint;
  gateway: bigint;
  /** clipped exclude entries plus the gateway, absolute values */
  excluded: Ranges;
}

export interface SubnetDef {
  name: string;
  ipv4: FamilyDef | undefined;
  ipv6: FamilyDef | undefined;
}

export function bitsOf(kind: IpFamily): number {
  return kind === 'ipv4' ? 32 : 128;
}

export function formatAbs(kind: IpFamily, value: bigint): string {
  return kind === 'ipv4' ? formatV4(Number(value)) : formatV6(value);
}

/** Parses one address to [family, absolute value], or undefined if malformed. */
export function parseAbs(text: string): [IpFamily, bigint] | undefined {
  const p = parseIp(text);
  if (!p) return undefined;
  return [p.family, p.family === 'ipv4' ? BigInt(p.value) : p.value];
}

const PREFIX = /^(?:0|[1-9][0-9]{0,2})$/;

/** "addr/prefix" with host bits masked off; undefined if malformed. */
export function parseCidr(text: string): { kind: IpFamily; network: bigint; prefix: number } | undefined {
  const slash = text.indexOf('/');
  if (slash < 0 || text.indexOf('/', slash + 1) >= 0) return undefined;
  const addrText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!PREFIX.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  let kind: IpFamily;
  let value: bigint;
  if (addrText.includes(':')) {
    const v = parseV6(addrText);
    if (v === undefined) return undefined;
    kind = 'ipv6';
    value = v;
  } else {
    const v = parseV4(addrText);
    if (v === undefined) return undefined;
    kind = 'ipv4';
    value = BigInt(v);
  }
  const bits = bitsOf(kind);
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  const network = (value >> hostBits) << hostBits;
  return { kind, network, prefix };
}

/** One entry "ip", "a..b" or (pools only) "cidr" as [family, start, end]. */
export function parseEntry(text: string, allowCidr: boolean, subnet: string | undefined): [IpFamily, bigint, bigint] {
  const fields = subnet === undefined ? { address: text } : { subnet, address: text };
  if (text.includes('..')) {
    const parts = text.split('..');
    const a = parts.length === 2 ? parseAbs(parts[0]!) : undefined;
    const b = parts.length === 2 ? parseAbs(parts[1]!) : undefined;
    if (!a || !b || a[0] !== b[0] || a[1] > b[1]) {
      throw new IpamError('InvalidArgument', `invalid IP range ${q(text)}`, fields);
    }
    return [a[0], a[1], b[1]];
  }
  if (text.includes('/')) {
    const c = allowCidr ? parseCidr(text) : undefined;
    if (!c) throw new IpamError('InvalidArgument', `invalid IP range ${q(text)}`, fields);
    const size = 1n << BigInt(bitsOf(c.kind) - c.prefix);
    return [c.kind, c.network, c.network + size - 1n];
  }
  const a = parseAbs(text);
  if (!a) throw new IpamError('InvalidArgument', `invalid IP address ${q(text)}`, fields);
  return [a[0], a[1], a[1]];
}

/** Raw per-family sets of a list of entries. */
export function parseEntries(entries: readonly string[], allowCidr: boolean, subnet: string): { ipv4: Ranges; ipv6: Ranges } {
  const v4: Ranges = [];
  const v6: Ranges = [];
  for (const text of entries) {
    const [kind, s, e] = parseEntry(text, allowCidr, subnet);
    (kind === 'ipv4' ? v4 : v6).push([s, e]);
  }
  return { ipv4: normalize(v4), ipv6: normalize(v6) };
}

function usableOf(kind: IpFamily, network: bigint, prefix: number): [bigint, bigint] {
  const n = bitsOf(kind) - prefix;
  if (n === 1) return [network, network + 1n];
  return [network + 1n, network + (1n << BigInt(n)) - 2n];
}

/** Validates a whole spec (cidr, then gateway, then excludeIps) before anything changes. */
export function parseSubnetSpec(spec: SubnetSpec): SubnetDef {
  const name = spec.name;
  const invalidCidr = (): IpamError => new IpamError('CIDRInvalid', `subnet ${q(name)}: invalid cidr ${q(spec.cidr)}`, { subnet: name });
  const parts = spec.cidr.split(',');
  if (parts.length > 2) throw invalidCidr();
  const cidrs: Partial<Record<IpFamily, { network: bigint; prefix: number }>> = {};
  for (const part of parts) {
    const c = parseCidr(part);
    if (!c || c.prefix === bitsOf(c.kind) || cidrs[c.kind]) throw invalidCidr();
    cidrs[c.kind] = { network: c.network, prefix: c.prefix };
  }
  const kinds = (['ipv4', 'ipv6'] as const).filter((k) => cidrs[k] !== undefined);

  const gateways: Partial<Record<IpFamily, bigint>> = {};
  const gwText = spec.gateway ?? '';
  if (gwText !== '') {
    const badSet = (): IpamError =>
      new IpamError('InvalidArgument', `subnet ${q(name)}: gateway ${q(gwText)} must give one address per family of the subnet`, {
        subnet: name,
        address: gwText,
      });
    for (const part of gwText.split(',')) {
      const a = parseAbs(part);
      if (!a) throw new IpamError('InvalidArgument', `invalid IP address ${q(part)}`, { subnet: name, address: part });
      if (gateways[a[0]] !== undefined || cidrs[a[0]] === undefined) throw badSet();
      gateways[a[0]] = a[1];
    }
    if (kinds.some((k) => gateways[k] === undefined)) throw badSet();
  }

  const defs: Partial<Record<IpFamily, FamilyDef>> = {};
  for (const kind of kinds) {
    const { network, prefix } = cidrs[kind]!;
    const [first, last] = usableOf(kind, network, prefix);
    const gateway = gateways[kind] ?? first;
    if (gateway < first || gateway > last) {
      const address = formatAbs(kind, gateway);
      throw new IpamError('AddressOutOfRange', `address ${address} is out of range of subnet ${q(name)}`, { subnet: name, address });
    }
    defs[kind] = { kind, network, prefix, first, last, gateway, excluded: [] };
  }

  const raw = parseEntries(spec.excludeIps ?? [], false, name);
  for (const kind of kinds) {
    const def = defs[kind]!;
    const clipped = intersect(raw[kind], [[def.first, def.last]]);
    def.excluded = contains(clipped, def.gateway) ? clipped : normalize(clipped.concat([[def.gateway, def.gateway]]));
  }
  return { name, ipv4: defs.ipv4, ipv6: defs.ipv6 };
}

/** "a" or "a,b" of different families (docs/ipam.md §6). */
export function parseStaticIps(text: string, subnet: string, owner: string, nic: string): Array<[IpFamily, bigint]> {
  const bad = (): IpamError => new IpamError('InvalidArgument', `invalid static ips ${q(text)}`, { subnet, owner, nic, address: text });
  const parts = text.split(',');
  if (parts.length > 2) throw bad();
  const out: Array<[IpFamily, bigint]> = [];
  for (const part of parts) {
    const a = parseAbs(part);
    if (!a || out.some(([k]) => k === a[0])) throw bad();
    out.push(a);
  }
  return out;
}
