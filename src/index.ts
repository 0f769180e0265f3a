// The package root: the public API. Each area's index.ts decides what it exposes.
export * from './ipam/index.ts';
export * from './ovsdb/index.ts';
export * from './kube/index.ts';
export * from './localcluster/index.ts';
export { loadNativeBinding } from './native/load.ts';
