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
export { NbClient, NbError, NbInputError, podPortName, routerPatchNames, KUBE_OVN_VENDOR, DEFAULT_CLUSTER_ROUTER } from './nb-client.ts';
export type { NbClientOptions, NbErrorCode, Outcome, PodPortSpec, PolicySelector, PortResult, RouterPolicySpec, StaticRouteSelector, StaticRouteSpec, SubnetSwitchSpec, SwitchResult } from './nb-client.ts';
export { NbCache, CacheWaitError } from './cache.ts';
export type { CacheChange, ChangeListener, NbCacheOptions, ParentRef, RefDelta } from './cache.ts';
export { TransactionCoalescer, CoalescerError } from './coalescer.ts';
export type { CoalescerOptions, CoalescerStats, TransactFn } from './coalescer.ts';
export { ModelError, NB_DATABASE, NB_TABLES, schemaShapes } from './model.ts';
export type { LogicalRouter, LogicalRouterPolicy, LogicalRouterPort, LogicalRouterStaticRoute, LogicalSwitch, LogicalSwitchPort, NbGlobal, NbRowTypes, NbTable, PortGroup, RouterPolicyAction, StringMap } from './model.ts';
