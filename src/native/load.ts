// The only place that loads the napi-rs addon. Callers pick native or TS; this only reports
// whether the native binary can be loaded and, if not, the real reason.
import { createRequire } from 'node:module';

export type Impl = 'native' | 'ts' | 'auto';

export interface NativeLoadResult {
  binding: Record<string, unknown> | undefined;
  error: Error | undefined;
}

const DEFAULT_MODULE = '../../native/index.js';
let modulePath = DEFAULT_MODULE;
let cached: NativeLoadResult | undefined;

/** Loads native/index.js (the napi-generated loader) once; never throws. */
export function loadNativeBinding(): NativeLoadResult {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    const binding = require(modulePath) as Record<string, unknown>;
    cached = { binding, error: undefined };
  } catch (err) {
    cached = { binding: undefined, error: rootCause(err) };
  }
  return cached;
}

/**
 * The napi loader wraps the real failure (missing file, bad ELF, ...) several `cause` levels
 * below a generic "Cannot find native binding" message; surface the deepest one.
 */
export function rootCause(err: unknown): Error {
  let current: unknown = err;
  const chain: string[] = [];
  for (let depth = 0; depth < 10 && current instanceof Error; depth++) {
    chain.push(current.message);
    if (!(current.cause instanceof Error)) break;
    current = current.cause;
  }
  const deepest = current instanceof Error ? current : new Error(String(current));
  // napi chains each load attempt as the cause of the next, under one generic message: list
  // every attempt, first to last, so the real reason (e.g. the platform package) is visible.
  const attempts = chain.length > 1 ? chain.slice(1).reverse().map((m) => m.split('\n', 1)[0]!) : [deepest.message];
  const wrapped = new Error(`native addon failed to load: ${[...new Set(attempts)].join('; ')}`, { cause: err });
  (wrapped as Error & { chain: string[] }).chain = chain;
  return wrapped;
}

/** Resolves the requested implementation: OVNKIT_IMPL overrides the option. */
export function requestedImpl(option: Impl | undefined): Impl {
  const env = process.env.OVNKIT_IMPL;
  if (env !== undefined && env !== '') {
    if (env === 'native' || env === 'ts' || env === 'auto') return env;
    throw new Error(`OVNKIT_IMPL must be one of native, ts, auto (got ${JSON.stringify(env)})`);
  }
  return option ?? 'auto';
}

const warned = new Set<string>();

/** Picks native when it loads, TS otherwise; for `auto` warns once with the real load error. */
export function chooseImpl(component: string, option: Impl | undefined): { native: Record<string, unknown> | undefined } {
  const impl = requestedImpl(option);
  if (impl === 'ts') return { native: undefined };
  const { binding, error } = loadNativeBinding();
  if (binding) return { native: binding };
  if (impl === 'native') {
    throw new Error(`${component}: impl 'native' requested but ${error?.message ?? 'the addon did not load'}`, { cause: error });
  }
  if (!warned.has(component)) {
    warned.add(component);
    process.emitWarning(`${component}: falling back to the TypeScript implementation; ${error?.message ?? 'unknown error'}`, {
      code: 'OVNKIT_NATIVE_FALLBACK',
    });
  }
  return { native: undefined };
}

/**
 * Test seam: load the addon from `path` (absolute, or relative to this file) instead of
 * native/index.js, and forget the cached load result and the warnings already given.
 */
export function resetNativeLoaderForTests(path?: string): void {
  modulePath = path ?? DEFAULT_MODULE;
  cached = undefined;
  warned.clear();
}
