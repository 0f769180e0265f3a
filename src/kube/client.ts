// Builds the @kubernetes/client-node 2.x API clients from a kubeconfig, plus the two per-call
// options client-node makes awkward: the Content-Type of a patch and an AbortSignal (timeout).
// Also normalises client-node's ApiException into KubeApiError (code, status, stage, object).
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubeConfig,
  Observable,
  type ConfigurationOptions,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import type { KubeLogger } from './watch-types.ts';

export interface KubeClients {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly customObjects: CustomObjectsApi;
  readonly events: EventsV1Api;
  readonly coordination: CoordinationV1Api;
}

/** Loads a kubeconfig file, or client-node's default chain (KUBECONFIG, ~/.kube/config, in-cluster). */
export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (kubeconfigPath !== undefined) kc.loadFromFile(kubeconfigPath);
    else kc.loadFromDefault();
  } catch (err) {
    throw new KubeApiError(`cannot load kubeconfig: ${(err as Error).message}`, {
      code: 'KUBE_CONFIG',
      stage: 'load-kubeconfig',
      object: kubeconfigPath ?? '(default)',
      cause: err,
    });
  }
  if (kc.getCurrentCluster() === null) {
    throw new KubeApiError('kubeconfig has no current cluster', {
      code: 'KUBE_CONFIG',
      stage: 'load-kubeconfig',
      object: kubeconfigPath ?? '(default)',
    });
  }
  return kc;
}

export function makeKubeClients(kubeConfigOrPath?: KubeConfig | string): KubeClients {
  const kc = kubeConfigOrPath instanceof KubeConfig ? kubeConfigOrPath : loadKubeConfig(kubeConfigOrPath);
  return {
    kubeConfig: kc,
    core: kc.makeApiClient(CoreV1Api),
    customObjects: kc.makeApiClient(CustomObjectsApi),
    events: kc.makeApiClient(EventsV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
  };
}

export const MERGE_PATCH = 'application/merge-patch+json';

export interface CallOptions {
  /** Overrides the request Content-Type (client-node sends JSON Patch for every patch* call). */
  contentType?: string;
  /** Aborts the request (client-node 2.x has no per-call timeout of its own). */
  signal?: AbortSignal;
}

/** Per-call options for the Object* API classes client-node exports (they take Observable middleware). */
export function callOptions(options: CallOptions): ConfigurationOptions | undefined {
  if (options.contentType === undefined && options.signal === undefined) return undefined;
  const { contentType, signal } = options;
  return {
    middleware: [
      {
        pre: (request: RequestContext) => {
          if (contentType !== undefined) request.setHeaderParam('Content-Type', contentType);
          if (signal !== undefined) request.setSignal(signal);
          return new Observable(Promise.resolve(request));
        },
        post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

export interface KubeApiErrorDetails {
  code: string;
  stage: string;
  object: string;
  status?: number;
  reason?: string;
  cause?: unknown;
}

export class KubeApiError extends Error {
  /** Our error code, e.g. KUBE_CONFLICT, KUBE_NOT_FOUND, KUBE_API, KUBE_TIMEOUT. */
  readonly code: string;
  readonly stage: string;
  /** The object concerned, e.g. "pods/ns/name". */
  readonly object: string;
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** The Status reason from the server (Conflict, NotFound, Invalid, ...). */
  readonly reason: string | undefined;

  constructor(message: string, details: KubeApiErrorDetails) {
    super(`${details.stage} ${details.object}: ${message}`, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'KubeApiError';
    this.code = details.code;
    this.stage = details.stage;
    this.object = details.object;
    this.status = details.status;
    this.reason = details.reason;
  }
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'KUBE_BAD_REQUEST',
  401: 'KUBE_UNAUTHORIZED',
  403: 'KUBE_FORBIDDEN',
  404: 'KUBE_NOT_FOUND',
  409: 'KUBE_CONFLICT',
  410: 'KUBE_GONE',
  422: 'KUBE_INVALID',
  429: 'KUBE_TOO_MANY_REQUESTS',
};

/** Wraps anything a client-node call threw into a KubeApiError (idempotent). */
export function toKubeApiError(err: unknown, stage: string, object: string): KubeApiError {
  if (err instanceof KubeApiError) return err;
  if (err instanceof ApiException) {
    const status = err.code;
    let message = `HTTP ${status}`;
    let reason: string | undefined;
    const body: unknown = err.body;
    const parsed = typeof body === 'string' ? safeJson(body) : body;
    if (parsed !== null && typeof parsed === 'object') {
      const s = parsed as { message?: unknown; reason?: unknown };
      if (typeof s.message === 'string') message = s.message;
      if (typeof s.reason === 'string') reason = s.reason;
    }
    return new KubeApiError(message, { code: CODE_BY_STATUS[status] ?? 'KUBE_API', stage, object, status, reason, cause: err });
  }
  const e = err as { name?: unknown; message?: unknown } | undefined;
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') {
    return new KubeApiError('request aborted or timed out', { code: 'KUBE_TIMEOUT', stage, object, cause: err });
  }
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return new KubeApiError(message, { code: 'KUBE_TRANSPORT', stage, object, cause: err });
}

export function isConflict(err: unknown): boolean {
  return statusOf(err) === 409;
}

export function isNotFound(err: unknown): boolean {
  return statusOf(err) === 404;
}

export function isAlreadyExists(err: unknown): boolean {
  return statusOf(err) === 409 && toKubeApiError(err, 'check', '').reason === 'AlreadyExists';
}

function statusOf(err: unknown): number | undefined {
  if (err instanceof KubeApiError) return err.status;
  if (err instanceof ApiException) return err.code;
  return undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// One logger shape for all of src/kube (a pino logger fits it).
export type { KubeLogger } from './watch-types.ts';

/** A console-backed KubeLogger for scripts that do not want pino. */
export const consoleKubeLogger: KubeLogger = {
  error: (obj, msg) => console.error(msg, obj),
  warn: (obj, msg) => console.warn(msg, obj),
  info: (obj, msg) => console.info(msg, obj),
};
