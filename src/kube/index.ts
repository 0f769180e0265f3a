// Kubernetes machinery: list/watch (reflector, store, shared informers) and, from the sibling
// modules, the workqueue, event recorder, patch helpers and leader election.
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
export { HttpKubeTransport } from './watch-transport.ts';
export type { KubeTransport, Query } from './watch-transport.ts';
export { listAll } from './list-pager.ts';
export type { ListOptions, ListPage, ListResult } from './list-pager.ts';
export { JitteredBackoff } from './watch-backoff.ts';
export type { BackoffOptions } from './watch-backoff.ts';
export { KubeWatchError, collectionPath, describeResource, objectKey, silentLogger } from './watch-types.ts';
export type { KubeLogger, KubeObject, KubeWatchErrorCode, ObjectMeta, OwnerReference, ResourceRef } from './watch-types.ts';
