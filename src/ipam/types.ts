// The IPAM contract shared by the native (Rust) and TypeScript implementations.
// Both must give identical results and identical errors for every call (see docs/ipam.md).

export type IpFamily = 'ipv4' | 'ipv6';

export type IpamErrorCode =
  | 'CIDRInvalid'
  | 'NoSubnet'
  | 'AddressOutOfRange'
  | 'AddressConflict'
  | 'NoAvailableAddress'
  | 'InvalidIPFamily'
  | 'InvalidMAC'
  | 'InvalidArgument'
  | 'Internal';

export interface SubnetSpec {
  name: string;
  /** "10.16.0.0/16" | "fd00::/112" | "10.16.0.0/16,fd00::/112" */
  cidr: string;
  /** "v4" | "v6" | "v4,v6"; default: the first usable address of each CIDR */
  gateway?: string;
  /** entries "10.16.0.5" or "10.16.0.10..10.16.0.20" */
  excludeIps?: string[];
}

/** What a subnet update did to existing holders. */
export interface SubnetUpdateResult {
  /** allocations no longer valid under the new CIDR/excludes, released */
  invalidated: AddressRecord[];
}

export interface AllocateRequest {
  subnet: string;
  owner: string;
  nic: string;
  pool?: string;
  family?: IpFamily;
  /** omitted: reuse the NIC's MAC or generate one; null: no MAC; string: static MAC */
  mac?: string | null;
  /** addresses that must not be handed out (e.g. ones that failed a conflict check) */
  skip?: string[];
}

export interface StaticRequest {
  subnet: string;
  owner: string;
  nic: string;
  /** "10.16.0.9" | "fd00::9" | "10.16.0.9,fd00::9" */
  ips: string;
  mac?: string | null;
  force?: boolean;
}

export interface Allocation {
  v4?: string;
  v6?: string;
  mac?: string;
}

export interface AddressRecord {
  subnet: string;
  owner: string;
  nic: string;
  v4?: string;
  v6?: string;
  mac?: string;
}

export interface FamilyStats {
  /** exact decimal strings (IPv6 counts exceed 2^53) */
  available: string;
  using: string;
  /** e.g. "10.0.0.2-10.0.0.9,10.0.0.12" */
  availableRange: string;
  usingRange: string;
}

export interface SubnetStats {
  v4?: FamilyStats;
  v6?: FamilyStats;
}

export interface RestoreConflict {
  /** the input record, as given (same object) */
  record: AddressRecord;
  /** why the record was not applied; AddressConflict when another holder won */
  code: IpamErrorCode;
  /** the message the same problem has in allocateStatic (docs/ipam.md §11) */
  message: string;
  /** the owner that already held the address or MAC (absent for non-holder failures) */
  heldBy?: string;
}

export interface RestoreResult {
  restored: number;
  conflicts: RestoreConflict[];
}

/** Options every backend receives; the facade always resolves an explicit seed. */
export interface BackendOptions {
  /** splitmix64 seed for MAC generation, an integer in 0..2^53-1 (docs/ipam.md §8) */
  macSeed: number;
}

/** What both implementations provide; the `Ipam` facade delegates to one of them. */
export interface IpamBackend {
  addOrUpdateSubnet(spec: SubnetSpec): SubnetUpdateResult;
  deleteSubnet(name: string): void;
  addOrUpdatePool(subnet: string, pool: string, ips: string[]): void;
  removePool(subnet: string, pool: string): void;
  allocate(req: AllocateRequest): Allocation;
  allocateStatic(req: StaticRequest): Allocation;
  releaseNic(owner: string, nic: string, subnet?: string): void;
  releaseOwner(owner: string, subnet?: string): void;
  addressesOf(owner: string): AddressRecord[];
  ownerOf(subnet: string, ip: string): string | undefined;
  subnetStats(subnet: string): SubnetStats;
  poolStats(subnet: string, pool: string): SubnetStats;
  restore(records: AddressRecord[]): RestoreResult;
  /**
   * Optional: `restore` of records the facade has not checked yet; it must throw exactly the
   * InvalidArgument that checkRecords (records.ts) would, before changing anything.
   */
  restoreChecked?(records: readonly unknown[]): RestoreResult;
}
