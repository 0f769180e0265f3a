// The package root: the public API. Each area adds its exports here.
export { loadNativeBinding } from './native/load.ts';
