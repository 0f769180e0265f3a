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
export { createEncoder } from './encoder.ts';
export type { OvsdbEncoder } from './encoder.ts';
export { FramingError } from './framer.ts';
export type * from './protocol.ts';
// NB typed operations (NB-ops helper): export { NbClient } from './nb-client.ts';
