// Address checks for the typed NB operations: a bad CIDR, gateway or MAC must fail before
// anything is written, with the subnet or pod named.
import { isIPv4, isIPv6 } from 'node:net';

export class NbInputError extends Error {
  readonly code = 'NB_BAD_INPUT';
  readonly stage: string;
  readonly object: string;
  constructor(stage: string, object: string, message: string) {
    super(`${stage} ${object}: ${message}`);
    this.name = 'NbInputError';
    this.stage = stage;
    this.object = object;
  }
}

export interface ParsedCidr {
  text: string;
  family: 4 | 6;
  address: string;
  prefix: number;
  network: bigint;
}

export function ipToBigInt(ip: string): bigint {
  if (isIPv4(ip)) return ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  let text = ip;
  // an embedded dotted quad (::ffff:1.2.3.4) becomes two hex groups
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v = ipToBigInt(dotted[1]!);
    text = text.slice(0, dotted.index) + `${(v >> 16n).toString(16)}:${(v & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function parseCidr(text: string, stage: string, object: string): ParsedCidr {
  const slash = text.indexOf('/');
  const address = slash < 0 ? '' : text.slice(0, slash);
  const prefixText = slash < 0 ? '' : text.slice(slash + 1);
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : 0;
  const bits = family === 4 ? 32 : 128;
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (family === 0 || !(prefix >= 0 && prefix <= bits)) throw new NbInputError(stage, object, `invalid CIDR ${JSON.stringify(text)}`);
  const mask = ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return { text, family, address, prefix, network: ipToBigInt(address) & mask };
}

export function cidrContains(cidr: ParsedCidr, ip: string): boolean {
  const fam = isIPv4(ip) ? 4 : isIPv6(ip) ? 6 : 0;
  if (fam !== cidr.family) return false;
  const bits = fam === 4 ? 32 : 128;
  const mask = ((1n << BigInt(cidr.prefix)) - 1n) << BigInt(bits - cidr.prefix);
  return (ipToBigInt(ip) & mask) === cidr.network;
}

/** "10.16.0.0/16,fd00::/64" → parsed CIDRs, at most one per family, v4 first as Kube-OVN orders them. */
export function parseCidrList(text: string, stage: string, object: string): ParsedCidr[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0 || parts.length > 2) throw new NbInputError(stage, object, `expected one CIDR or a v4,v6 pair, got ${JSON.stringify(text)}`);
  const cidrs = parts.map((p) => parseCidr(p, stage, object));
  if (cidrs.length === 2 && cidrs[0]!.family === cidrs[1]!.family) throw new NbInputError(stage, object, `two CIDRs of the same family in ${JSON.stringify(text)}`);
  return cidrs.sort((a, b) => a.family - b.family);
}

/**
 * The router port networks for a subnet: each gateway with its CIDR's prefix length
 * ("10.16.0.1/16"), as Kube-OVN's GetIPAddrWithMask produces them.
 */
export function gatewayNetworks(cidrText: string, gatewayText: string, object: string): string[] {
  const stage = 'ensure logical switch';
  const cidrs = parseCidrList(cidrText, stage, object);
  const gateways = gatewayText.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (gateways.length !== cidrs.length) throw new NbInputError(stage, object, `gateway ${JSON.stringify(gatewayText)} does not give one address per CIDR of ${JSON.stringify(cidrText)}`);
  return cidrs.map((cidr) => {
    const gw = gateways.find((g) => cidrContains(cidr, g));
    if (!gw) throw new NbInputError(stage, object, `no gateway in ${gatewayText} lies inside ${cidr.text}`);
    return `${gw}/${cidr.prefix}`;
  });
}

const MAC_PATTERN = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

export function checkMac(mac: string, stage: string, object: string): string {
  if (!MAC_PATTERN.test(mac)) throw new NbInputError(stage, object, `invalid MAC ${JSON.stringify(mac)}`);
  return mac;
}

export function checkIp(ip: string, stage: string, object: string): string {
  if (!isIPv4(ip) && !isIPv6(ip)) throw new NbInputError(stage, object, `invalid IP ${JSON.stringify(ip)}`);
  return ip;
}

/** A random unicast, locally administered MAC, the rule Kube-OVN's GenerateMac follows. */
export function randomMac(random: (n: number) => Uint8Array): string {
  const b = random(6);
  b[0] = (b[0]! | 0x02) & 0xfe;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
