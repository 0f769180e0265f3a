// Argument checks for `restore` records (docs/ipam.md §1, §11), shared by the facade and the
// native adapter's fast path so both throw the same first error with the same message. The check
// runs once per record at start-up scale (100k+), so it builds no strings unless it fails.
import { IpamError } from './errors.ts';
import type { AddressRecord } from './types.ts';

export const NAME_RULE = 'a name (1-512 printable ASCII characters without spaces)';

/** 1-512 characters in 0x21..0x7e (a loop: cheaper than a regex on the hot path). */
export function isName(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const n = value.length;
  if (n === 0 || n > 512) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

function bad(index: number, what: string, expected: string): never {
  throw new IpamError('InvalidArgument', `restore: records[${index}]: ${what} must be ${expected}`);
}

/** Throws the InvalidArgument the first badly typed record (in order, fields in order) earns. */
export function checkRecords(records: readonly unknown[]): asserts records is AddressRecord[] {
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (typeof r !== 'object' || r === null || Array.isArray(r)) bad(i, 'the argument', 'an object');
    const { subnet, owner, nic, v4, v6, mac } = r as Record<string, unknown>;
    if (!isName(subnet)) bad(i, 'subnet', NAME_RULE);
    if (!isName(owner)) bad(i, 'owner', NAME_RULE);
    if (!isName(nic)) bad(i, 'nic', NAME_RULE);
    if (v4 !== undefined && typeof v4 !== 'string') bad(i, 'v4', 'a string');
    if (v6 !== undefined && typeof v6 !== 'string') bad(i, 'v6', 'a string');
    if (mac !== undefined && typeof mac !== 'string') bad(i, 'mac', 'a string');
  }
}
