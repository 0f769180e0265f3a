// Kubernetes machinery: list/watch (reflector, store, shared informers) and, from the sibling
// modules, the workqueue, event recorder, patch helpers, leader election and client builder.
export { Reflector } from './reflector.ts';
export type { ReflectorEvent, ReflectorOptions, ReflectorSink, ReflectorStats, WatchEndReason, WatchEventType } from './reflector.ts';
export { InformerFactory, Resources, SharedInformer } from './informer.ts';
export type { EventHandler, HandlerRegistration, InformerFactoryOptions, InformerOptions, InformerRequest, WatchTuning } from './informer.ts';
export {
  DeletedFinalStateUnknown,
  NAMESPACE_INDEX,
  NODE_INDEX,
  OWNER_INDEX,
  Store,
  namespaceIndexFunc,
  nodeIndexFunc,
  ownerIndexFunc,
  standardIndexers,
  unwrapTombstone,
} from './store.ts';
export type { IndexFunc, ReplaceDiff, StoreOptions } from './store.ts';
export { trimPod, trimToMetadata } from './watch-transforms.ts';
export type { TrimmedPod } from './watch-transforms.ts';
export { HttpKubeTransport } from './watch-transport.ts';
export type { KubeTransport, Query } from './watch-transport.ts';
export { listAll } from './list-pager.ts';
export type { ListOptions, ListPage, ListResult } from './list-pager.ts';
export { JitteredBackoff } from './watch-backoff.ts';
export type { BackoffOptions } from './watch-backoff.ts';
export { KubeWatchError, collectionPath, defaultKubeLogger, describeResource, objectKey, silentLogger } from './watch-types.ts';
export type { KubeLogger, KubeObject, KubeWatchErrorCode, ObjectMeta, OwnerReference, ResourceRef } from './watch-types.ts';

// Sibling modules (owned by the workqueue/events/patch/leader-election side): re-exports only.
export { WorkQueue, WorkQueueError } from './workqueue.ts';
export type { WorkQueueMetrics, WorkQueueOptions } from './workqueue.ts';
export { runWorkers } from './workers.ts';
export type { RunWorkersOptions, WorkerLogger } from './workers.ts';
export {
  BucketRateLimiter,
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  TokenBucket,
  defaultControllerRateLimiter,
} from './rate-limiters.ts';
export type { ControllerRateLimiterOptions, RateLimiter } from './rate-limiters.ts';
export { FakeClock, RealClock, realClock, sleep } from './clock.ts';
export type { Clock, TimerHandle } from './clock.ts';
export { EventRecorder, formatNote, regardingFor } from './events.ts';
export type { EventInput, EventRecorderOptions, EventRecorderStats, EventType, RegardingRef } from './events.ts';
export { describeRef, mergePatch, mutateAnnotations, patchAnnotations, patchStatus } from './patch.ts';
export type { AnnotationChanges, CoreObjectRef, CustomObjectRef, MutateOptions, ObjectRef, PatchedObject, PatchOptions } from './patch.ts';
export { LeaderElector } from './leader-election.ts';
export type { LeaderCallbacks, LeaderElectorOptions, StopReason } from './leader-election.ts';
export {
  KubeApiError,
  MERGE_PATCH,
  callOptions,
  consoleKubeLogger,
  isAlreadyExists,
  isConflict,
  isNotFound,
  loadKubeConfig,
  makeKubeClients,
  toKubeApiError,
} from './client.ts';
export type { CallOptions, KubeApiErrorDetails, KubeClients } from './client.ts';
