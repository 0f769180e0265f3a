// The local control plane's public surface.
export { startLocalCluster, plannedSteps, resolveOptions } from './cluster.ts';
export type { LocalCluster, LocalClusterOptions, KubeconfigIdentity, ResolvedOptions } from './cluster.ts';
export { createNamespace, forceWatchExpiry, kubeConfigFor } from './helpers.ts';
export type { WatchExpiry } from './helpers.ts';
export { LocalClusterError } from './errors.ts';
export type { LocalClusterErrorCode } from './errors.ts';
export { binDir, ensureBinaries, missingBinaries, REQUIRED_BINARIES } from './binaries.ts';
export { KWOK_TOLERATION, KWOK_POD_CIDR, SERVICE_CIDR } from './components.ts';
export { CONTROLLER_SERVICE_ACCOUNT } from './identities.ts';
export type { ProgressEvent, ProgressPhase, ProgressSink } from './progress.ts';
export { formatProgressLine } from './progress.ts';
export { readAuditWrites, WRITE_AUDIT_POLICY } from './audit.ts';
export type { AuditWrite } from './audit.ts';
