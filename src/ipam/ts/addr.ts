// Text forms of addresses and MACs (docs/ipam.md §1): strict parsing, canonical output.
// IPv4 values are numbers; IPv6 values are bigints (exact 128-bit).

const HEX2: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Parses strict dotted-decimal IPv4 (no leading zeros); undefined if malformed. */
export function parseV4(text: string): number | undefined {
  const len = text.length;
  if (len < 7 || len > 15) return undefined;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
      if (dots > 3) return undefined;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return undefined; // leading zero
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return undefined;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + octet;
}

export function formatV4(value: number): string {
  return `${Math.floor(value / 16777216)}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

const GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseGroups(part: string, out: number[]): boolean {
  if (part === '') return true;
  for (const g of part.split(':')) {
    if (!GROUP.test(g)) return false;
    out.push(parseInt(g, 16));
  }
  return true;
}

/** Parses RFC 4291 text forms 1 and 2 (no embedded IPv4, no zone); undefined if malformed. */
export function parseV6(text: string): bigint | undefined {
  if (text.length < 2 || text.length > 39) return undefined;
  const gap = text.indexOf('::');
  const groups: number[] = [];
  if (gap < 0) {
    if (!parseGroups(text, groups) || groups.length !== 8) return undefined;
  } else {
    if (text.indexOf('::', gap + 1) >= 0) return undefined;
    const head: number[] = [];
    const tail: number[] = [];
    if (!parseGroups(text.slice(0, gap), head) || !parseGroups(text.slice(gap + 2), tail)) return undefined;
    if (head.length + tail.length > 7) return undefined;
    groups.push(...head);
    for (let i = head.length + tail.length; i < 8; i++) groups.push(0);
    groups.push(...tail);
  }
  // 32-bit parts as exact numbers first keeps the bigint work small.
  const w0 = BigInt(groups[0]! * 65536 + groups[1]!);
  const w1 = BigInt(groups[2]! * 65536 + groups[3]!);
  const w2 = BigInt(groups[4]! * 65536 + groups[5]!);
  const w3 = BigInt(groups[6]! * 65536 + groups[7]!);
  return (w0 << 96n) | (w1 << 64n) | (w2 << 32n) | w3;
}

/** RFC 5952 canonical text. */
export function formatV6(value: bigint): string {
  const w0 = Number(value >> 96n);
  const w1 = Number((value >> 64n) & 0xffffffffn);
  const w2 = Number((value >> 32n) & 0xffffffffn);
  const w3 = Number(value & 0xffffffffn);
  return formatGroups([w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff]);
}

/** RFC 5952 text of eight 16-bit groups. */
export function formatGroups(groups: number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    out += groups[i]!.toString(16);
    if (i < 7) out += ':';
  }
  return out;
}

export type ParsedIp = { family: 'ipv4'; value: number } | { family: 'ipv6'; value: bigint };

/** Family by the presence of ':' (docs/ipam.md §1). */
export function parseIp(text: string): ParsedIp | undefined {
  if (text.includes(':')) {
    const value = parseV6(text);
    return value === undefined ? undefined : { family: 'ipv6', value };
  }
  const value = parseV4(text);
  return value === undefined ? undefined : { family: 'ipv4', value };
}

/** Lowercase canonical MAC, or undefined if malformed (six 2-digit hex groups, ':'-separated). */
export function parseMac(text: string): string | undefined {
  if (text.length !== 17) return undefined;
  let upper = false;
  for (let i = 0; i < 17; i++) {
    const c = text.charCodeAt(i);
    if (i % 3 === 2) {
      if (c !== 58) return undefined;
    } else if (c >= 65 && c <= 70) {
      upper = true;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) {
      return undefined;
    }
  }
  return upper ? text.toLowerCase() : text;
}

/**
 * A canonical (lowercase, colon-separated) MAC as its 48-bit value: maps keyed by a number
 * avoid hashing a fresh 17-character string on every lookup.
 */
export function macKey(mac: string): number {
  let v = 0;
  for (let i = 0; i < 17; i++) {
    if (i % 3 === 2) continue;
    const c = mac.charCodeAt(i);
    v = v * 16 + (c <= 57 ? c - 48 : c - 87);
  }
  return v;
}

/**
 * splitmix64 on two uint32 halves (exact mod 2^64 without bigint, which would cost more than
 * the rest of an allocation). Must match docs/ipam.md §8 bit for bit. Results are left in
 * outHi/outLo to avoid allocating per draw.
 */
export class SplitMix64 {
  private hi: number;
  private lo: number;
  outHi = 0;
  outLo = 0;

  constructor(seed: number) {
    this.hi = Math.floor(seed / 4294967296) >>> 0;
    this.lo = seed >>> 0;
  }

  /** Advances and leaves the next output in outHi/outLo. */
  step(): void {
    let lo = this.lo + 0x7f4a7c15;
    const carry = lo >= 4294967296 ? 1 : 0;
    lo >>>= 0;
    const hi = (this.hi + 0x9e3779b9 + carry) >>> 0;
    this.hi = hi;
    this.lo = lo;
    // z ^= z >> 30; z *= 0xBF58476D1CE4E5B9
    let zl = (lo ^ ((lo >>> 30) | (hi << 2))) >>> 0;
    let zh = (hi ^ (hi >>> 30)) >>> 0;
    mul64(zh, zl, 0xbf58476d, 0x1ce4e5b9);
    zh = mulHi;
    zl = mulLo;
    // z ^= z >> 27; z *= 0x94D049BB133111EB
    zl = (zl ^ ((zl >>> 27) | (zh << 5))) >>> 0;
    zh = (zh ^ (zh >>> 27)) >>> 0;
    mul64(zh, zl, 0x94d049bb, 0x133111eb);
    zh = mulHi;
    zl = mulLo;
    // z ^= z >> 31
    this.outLo = (zl ^ ((zl >>> 31) | (zh << 1))) >>> 0;
    this.outHi = (zh ^ (zh >>> 31)) >>> 0;
  }

  /** Next output as [hi, lo] uint32 halves. */
  next(): [number, number] {
    this.step();
    return [this.outHi, this.outLo];
  }

  /** macKey() of the MAC nextMac() returned last */
  lastMacKey = 0;

  /** A locally administered unicast MAC from the next output (docs/ipam.md §8). */
  nextMac(): string {
    this.step();
    const hi = this.outHi;
    const lo = this.outLo;
    const b0 = ((hi >>> 24) | 0x02) & 0xfe;
    this.lastMacKey = (b0 * 256 + ((hi >>> 16) & 255)) * 4294967296 + ((((hi & 0xffff) << 16) | (lo >>> 16)) >>> 0);
    return `${HEX2[b0]}:${HEX2[(hi >>> 16) & 255]}:${HEX2[(hi >>> 8) & 255]}:${HEX2[hi & 255]}:${HEX2[lo >>> 24]}:${HEX2[(lo >>> 16) & 255]}`;
  }
}

let mulHi = 0;
let mulLo = 0;

/** (aHi:aLo) * (bHi:bLo) mod 2^64 into mulHi:mulLo. */
function mul64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  const a0 = aLo & 0xffff;
  const a1 = aLo >>> 16;
  const b0 = bLo & 0xffff;
  const b1 = bLo >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  mulLo = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  const hi = p11 + (p01 >>> 16) + (p10 >>> 16) + Math.floor(mid / 65536);
  mulHi = (hi + Math.imul(aHi, bLo) + Math.imul(aLo, bHi)) >>> 0;
}
