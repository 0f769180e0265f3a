// The one error type of the IPAM. Both backends raise it with the codes and messages of
// docs/ipam.md §11, so callers (and the differential test) can compare them field by field.
import type { IpamErrorCode } from './types.ts';

export interface IpamErrorFields {
  subnet?: string;
  pool?: string;
  owner?: string;
  nic?: string;
  /** an address or MAC in output form, or the offending input text */
  address?: string;
  /** the owner that holds the contested address or MAC */
  heldBy?: string;
}

export class IpamError extends Error {
  readonly code: IpamErrorCode;
  subnet?: string;
  pool?: string;
  owner?: string;
  nic?: string;
  address?: string;
  heldBy?: string;

  constructor(code: IpamErrorCode, message: string, fields: IpamErrorFields = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'IpamError';
    this.code = code;
    // Only the fields that apply are set, so two errors compare equal key by key.
    if (fields.subnet !== undefined) this.subnet = fields.subnet;
    if (fields.pool !== undefined) this.pool = fields.pool;
    if (fields.owner !== undefined) this.owner = fields.owner;
    if (fields.nic !== undefined) this.nic = fields.nic;
    if (fields.address !== undefined) this.address = fields.address;
    if (fields.heldBy !== undefined) this.heldBy = fields.heldBy;
  }
}

export function isIpamError(err: unknown): err is IpamError {
  return err instanceof IpamError;
}

/** JSON-style quoting used in every message, so names with odd characters stay readable. */
export function q(text: string): string {
  return JSON.stringify(text);
}
