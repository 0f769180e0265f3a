// The public IPAM: picks the native or TypeScript backend and checks argument types so both
// backends only ever see well-typed input (docs/ipam.md §1, §11). Text formats (addresses,
// CIDRs, MACs) are checked by the backends themselves, identically.
import { getRandomValues } from 'node:crypto';
import { chooseImpl, requestedImpl, type Impl } from '../native/load.ts';
import { IpamError } from './errors.ts';
import { checkRecords, isName, NAME_RULE } from './records.ts';
import { createTsBackend } from './ts/backend.ts';
import { createNativeBackend } from './native.ts';
import type {
  AddressRecord,
  Allocation,
  AllocateRequest,
  IpamBackend,
  RestoreResult,
  StaticRequest,
  SubnetSpec,
  SubnetStats,
  SubnetUpdateResult,
} from './types.ts';

let adapterWarned = false;
function warnAdapterOnce(err: unknown): void {
  if (adapterWarned) return;
  adapterWarned = true;
  const why = err instanceof Error ? err.message : String(err);
  process.emitWarning(`ipam: falling back to the TypeScript implementation; ${why}`, { code: 'OVNKIT_NATIVE_FALLBACK' });
}

export interface IpamOptions {
  /** default 'auto'; the environment variable OVNKIT_IMPL overrides it */
  impl?: Impl;
  /** splitmix64 seed for MAC generation (integer 0..2^53-1); random when omitted */
  macSeed?: number;
}


function fail(where: string, what: string, expected: string): never {
  throw new IpamError('InvalidArgument', `${where}: ${what} must be ${expected}`);
}

function name(where: string, what: string, value: unknown): string {
  if (!isName(value)) fail(where, what, NAME_RULE);
  return value;
}

function optName(where: string, what: string, value: unknown): string | undefined {
  return value === undefined ? undefined : name(where, what, value);
}

/** A pool name, where "" (the default pool) is also a string the backend judges. */
function poolName(where: string, value: unknown): string {
  if (value !== '' && !isName(value)) fail(where, 'pool', `"" or ${NAME_RULE}`);
  return value;
}

function str(where: string, what: string, value: unknown): string {
  if (typeof value !== 'string') fail(where, what, 'a string');
  return value;
}

function optStr(where: string, what: string, value: unknown): string | undefined {
  return value === undefined ? undefined : str(where, what, value);
}

function strArray(where: string, what: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) fail(where, what, 'an array of strings');
  return value as string[];
}

function obj(where: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, 'the argument', 'an object');
  return value as Record<string, unknown>;
}

function macOption(where: string, value: unknown): string | null | undefined {
  if (value === undefined || value === null || typeof value === 'string') return value;
  fail(where, 'mac', 'a string, null or omitted');
}

function resolveSeed(value: unknown): number {
  if (value === undefined) {
    const [hi, lo] = getRandomValues(new Uint32Array(2));
    return (hi! & 0x1fffff) * 4294967296 + lo!;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail('Ipam', 'macSeed', 'an integer in 0..2^53-1');
  return value;
}

export class Ipam implements IpamBackend {
  /** which backend serves this instance */
  readonly impl: 'native' | 'ts';
  private readonly backend: IpamBackend;

  constructor(options: IpamOptions = {}) {
    const o = obj('Ipam', options);
    const impl = o.impl;
    if (impl !== undefined && impl !== 'native' && impl !== 'ts' && impl !== 'auto') fail('Ipam', 'impl', "'native', 'ts' or 'auto'");
    const macSeed = resolveSeed(o.macSeed);
    let native: Record<string, unknown> | undefined;
    try {
      native = chooseImpl('ipam', impl).native;
    } catch (err) {
      throw new IpamError('Internal', err instanceof Error ? err.message : String(err), {}, { cause: err });
    }
    let backend: IpamBackend | undefined;
    if (native) {
      try {
        backend = createNativeBackend(native, { macSeed });
      } catch (err) {
        // The addon loaded but cannot serve the IPAM: fatal only if native was demanded.
        if (requestedImpl(impl) === 'native') throw err;
        warnAdapterOnce(err);
      }
    }
    this.impl = backend ? 'native' : 'ts';
    this.backend = backend ?? createTsBackend({ macSeed });
  }

  addOrUpdateSubnet(spec: SubnetSpec): SubnetUpdateResult {
    const w = 'addOrUpdateSubnet';
    const s = obj(w, spec);
    const clean: SubnetSpec = { name: name(w, 'name', s.name), cidr: str(w, 'cidr', s.cidr) };
    const gateway = optStr(w, 'gateway', s.gateway);
    if (gateway !== undefined) clean.gateway = gateway;
    if (s.excludeIps !== undefined) clean.excludeIps = strArray(w, 'excludeIps', s.excludeIps);
    return this.backend.addOrUpdateSubnet(clean);
  }

  deleteSubnet(subnet: string): void {
    this.backend.deleteSubnet(name('deleteSubnet', 'subnet', subnet));
  }

  addOrUpdatePool(subnet: string, pool: string, ips: string[]): void {
    const w = 'addOrUpdatePool';
    this.backend.addOrUpdatePool(name(w, 'subnet', subnet), poolName(w, pool), strArray(w, 'ips', ips));
  }

  removePool(subnet: string, pool: string): void {
    const w = 'removePool';
    this.backend.removePool(name(w, 'subnet', subnet), poolName(w, pool));
  }

  allocate(req: AllocateRequest): Allocation {
    // Hot path: check in place and pass the request through (no copy).
    const w = 'allocate';
    const r = obj(w, req);
    name(w, 'subnet', r.subnet);
    name(w, 'owner', r.owner);
    name(w, 'nic', r.nic);
    if (r.pool !== undefined) poolName(w, r.pool);
    if (r.family !== undefined && r.family !== 'ipv4' && r.family !== 'ipv6') fail(w, 'family', "'ipv4' or 'ipv6'");
    macOption(w, r.mac);
    if (r.skip !== undefined) strArray(w, 'skip', r.skip);
    return this.backend.allocate(req);
  }

  allocateStatic(req: StaticRequest): Allocation {
    const w = 'allocateStatic';
    const r = obj(w, req);
    const clean: StaticRequest = {
      subnet: name(w, 'subnet', r.subnet),
      owner: name(w, 'owner', r.owner),
      nic: name(w, 'nic', r.nic),
      ips: str(w, 'ips', r.ips),
    };
    const mac = macOption(w, r.mac);
    if (mac !== undefined) clean.mac = mac;
    if (r.force !== undefined) {
      if (typeof r.force !== 'boolean') fail(w, 'force', 'a boolean');
      clean.force = r.force;
    }
    return this.backend.allocateStatic(clean);
  }

  releaseNic(owner: string, nic: string, subnet?: string): void {
    const w = 'releaseNic';
    this.backend.releaseNic(name(w, 'owner', owner), name(w, 'nic', nic), optName(w, 'subnet', subnet));
  }

  releaseOwner(owner: string, subnet?: string): void {
    const w = 'releaseOwner';
    this.backend.releaseOwner(name(w, 'owner', owner), optName(w, 'subnet', subnet));
  }

  addressesOf(owner: string): AddressRecord[] {
    return this.backend.addressesOf(name('addressesOf', 'owner', owner));
  }

  ownerOf(subnet: string, ip: string): string | undefined {
    return this.backend.ownerOf(name('ownerOf', 'subnet', subnet), str('ownerOf', 'ip', ip));
  }

  subnetStats(subnet: string): SubnetStats {
    return this.backend.subnetStats(name('subnetStats', 'subnet', subnet));
  }

  poolStats(subnet: string, pool: string): SubnetStats {
    return this.backend.poolStats(name('poolStats', 'subnet', subnet), poolName('poolStats', pool));
  }

  restore(records: AddressRecord[]): RestoreResult {
    if (!Array.isArray(records)) fail('restore', 'records', 'an array');
    // A backend that checks records while it packs them saves a second pass over 100k+ objects;
    // it throws exactly what checkRecords would.
    if (this.backend.restoreChecked) return this.backend.restoreChecked(records);
    checkRecords(records);
    return this.backend.restore(records);
  }
}
