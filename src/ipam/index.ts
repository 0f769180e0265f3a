// The IPAM's public surface (docs/ipam.md).
export { Ipam, type IpamOptions } from './ipam.ts';
export { IpamError, isIpamError, type IpamErrorFields } from './errors.ts';
export type * from './types.ts';
