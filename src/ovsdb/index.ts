// Public OVSDB API (re-exported from the package root).
export { OvsdbClient, checkTransactResult, ovsdbLogger } from './client.ts';
export type {
  ClientEvents,
  MonitorEvent,
  MonitorHandle,
  MonitorHandler,
  MonitorRequests,
  OvsdbClientOptions,
  TransactOptions,
} from './client.ts';
export { OvsdbConnectionError, OvsdbError } from './errors.ts';
export type { ConnectionErrorCode, OvsdbErrorFields } from './errors.ts';
export { parseRemote, parseRemotes } from './remote.ts';
export type { Remote, TlsOptions } from './remote.ts';
export { checkOpsAgainstSchema, compareVersions, schemaHasColumn } from './schema.ts';
export type { ColumnSchema, DatabaseSchema, TableSchema } from './schema.ts';
export { createEncoder, EncodeError } from './encoder.ts';
export type { EncodeErrorContext, OvsdbEncoder } from './encoder.ts';
export { FramingError, JsonStreamFramer } from './framer.ts';
export type { JsonStreamFramerOptions } from './framer.ts';
export type * from './protocol.ts';
// Typed Kube-OVN operations, the monitor cache and the coalescer (NB-ops helper's files).
export { NbClient, NbError } from './nb-client.ts';
export type { NbClientOptions, NbErrorCode, Outcome, PodPortSpec, PortResult, RouterPolicySpec, SubnetSwitchSpec, SwitchResult } from './nb-client.ts';
export { CacheWaitError, NbCache } from './cache.ts';
export type { NbCacheOptions } from './cache.ts';
export { CoalescerError, TransactionCoalescer } from './coalescer.ts';
export type { CoalescerOptions, CoalescerStats } from './coalescer.ts';
