// Patch helpers: JSON merge patches (RFC 7396) of annotations and of CR status.
// - `null` as an annotation value deletes the key (merge-patch semantics);
// - with `resourceVersion`, it is put in the patch's metadata, so the apiserver answers 409 if the
//   object changed since that version (an optimistic-concurrency precondition); that 409 is
//   surfaced to the caller as KubeApiError code KUBE_CONFLICT, never retried;
// - without it, a 409 is retried after re-reading the object (the object still exists, so the
//   patch is simply re-sent), with jittered backoff.
// mutateAnnotations is the read-modify-write form: compute the change from the current object,
// patch it with that object's resourceVersion, and on 409 re-read and recompute.
// Transport: client-node 2.x typed APIs (CoreV1Api / CustomObjectsApi) with a per-call middleware
// that sets Content-Type: application/merge-patch+json (client-node defaults to JSON Patch).
import { callOptions, KubeApiError, MERGE_PATCH, toKubeApiError, isConflict, type KubeClients } from './client.ts';

export type CoreNamespacedKind = 'Pod' | 'ConfigMap' | 'Service';
export type CoreClusterKind = 'Namespace' | 'Node';

export type CoreObjectRef =
  | { kind: CoreNamespacedKind; namespace: string; name: string }
  | { kind: CoreClusterKind; name: string };

/** A custom object, e.g. { group: 'kubeovn.io', version: 'v1', plural: 'subnets', name: 'ovn-default' }. */
export interface CustomObjectRef {
  group: string;
  version: string;
  plural: string;
  /** Omit for cluster-scoped resources. */
  namespace?: string;
  name: string;
}

export type ObjectRef = CoreObjectRef | CustomObjectRef;

export interface PatchedObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

export type AnnotationChanges = Record<string, string | null>;

export interface PatchOptions {
  /** Precondition: fail with KUBE_CONFLICT (409) unless the object is still at this version. */
  resourceVersion?: string;
  /** Retries after a 409 when no precondition was given (default 5). */
  maxConflictRetries?: number;
  signal?: AbortSignal;
}

export function describeRef(ref: ObjectRef): string {
  if ('kind' in ref) {
    return 'namespace' in ref ? `${ref.kind.toLowerCase()}s/${ref.namespace}/${ref.name}` : `${ref.kind.toLowerCase()}s/${ref.name}`;
  }
  const scope = ref.namespace !== undefined ? `${ref.namespace}/` : '';
  return `${ref.plural}.${ref.group}/${scope}${ref.name}`;
}

function badInput(message: string, stage: string, ref: ObjectRef | undefined): KubeApiError {
  return new KubeApiError(message, { code: 'KUBE_BAD_PATCH', stage, object: ref === undefined ? '(none)' : safeDescribe(ref) });
}

function safeDescribe(ref: ObjectRef): string {
  try {
    return describeRef(ref);
  } catch {
    return JSON.stringify(ref);
  }
}

function validateRef(ref: ObjectRef, stage: string): void {
  if (ref === null || typeof ref !== 'object') throw badInput('object reference is missing', stage, undefined);
  const nonEmpty = (v: unknown) => typeof v === 'string' && v.length > 0;
  if (!nonEmpty(ref.name)) throw badInput('object reference needs a name', stage, ref);
  if ('kind' in ref) {
    const namespaced = ['Pod', 'ConfigMap', 'Service'].includes(ref.kind);
    const cluster = ['Namespace', 'Node'].includes(ref.kind);
    if (!namespaced && !cluster) throw badInput(`unsupported kind ${String(ref.kind)} (use a CustomObjectRef for CRs)`, stage, ref);
    if (namespaced && !nonEmpty((ref as { namespace?: unknown }).namespace)) throw badInput(`${ref.kind} needs a namespace`, stage, ref);
    return;
  }
  if (!nonEmpty(ref.group) || !nonEmpty(ref.version) || !nonEmpty(ref.plural)) {
    throw badInput('custom object reference needs group, version and plural', stage, ref);
  }
  if (ref.namespace !== undefined && !nonEmpty(ref.namespace)) throw badInput('namespace must be non-empty when given', stage, ref);
}

function validateAnnotations(changes: AnnotationChanges, ref: ObjectRef, stage: string): void {
  if (changes === null || typeof changes !== 'object' || Array.isArray(changes)) {
    throw badInput('annotation changes must be an object of key: string | null', stage, ref);
  }
  for (const [key, value] of Object.entries(changes)) {
    if (key.length === 0) throw badInput('annotation key must not be empty', stage, ref);
    if (value !== null && typeof value !== 'string') {
      throw badInput(`annotation ${key} must be a string or null (delete), got ${typeof value}`, stage, ref);
    }
  }
}

async function read(clients: KubeClients, ref: ObjectRef, signal?: AbortSignal): Promise<PatchedObject> {
  const opts = callOptions({ signal });
  if ('kind' in ref) {
    switch (ref.kind) {
      case 'Pod':
        return (await clients.core.readNamespacedPod({ name: ref.name, namespace: ref.namespace }, opts)) as PatchedObject;
      case 'ConfigMap':
        return (await clients.core.readNamespacedConfigMap({ name: ref.name, namespace: ref.namespace }, opts)) as PatchedObject;
      case 'Service':
        return (await clients.core.readNamespacedService({ name: ref.name, namespace: ref.namespace }, opts)) as PatchedObject;
      case 'Namespace':
        return (await clients.core.readNamespace({ name: ref.name }, opts)) as PatchedObject;
      case 'Node':
        return (await clients.core.readNode({ name: ref.name }, opts)) as PatchedObject;
    }
  }
  const { group, version, plural, name } = ref;
  const result: unknown = ref.namespace !== undefined
    ? await clients.customObjects.getNamespacedCustomObject({ group, version, plural, namespace: ref.namespace, name }, opts)
    : await clients.customObjects.getClusterCustomObject({ group, version, plural, name }, opts);
  return result as PatchedObject;
}

async function sendMergePatch(clients: KubeClients, ref: ObjectRef, body: object, subresource: 'status' | undefined, signal?: AbortSignal): Promise<PatchedObject> {
  const opts = callOptions({ contentType: MERGE_PATCH, signal });
  if ('kind' in ref) {
    if (subresource !== undefined) throw badInput('status patches are only supported for custom objects', 'patch-status', ref);
    switch (ref.kind) {
      case 'Pod':
        return (await clients.core.patchNamespacedPod({ name: ref.name, namespace: ref.namespace, body }, opts)) as PatchedObject;
      case 'ConfigMap':
        return (await clients.core.patchNamespacedConfigMap({ name: ref.name, namespace: ref.namespace, body }, opts)) as PatchedObject;
      case 'Service':
        return (await clients.core.patchNamespacedService({ name: ref.name, namespace: ref.namespace, body }, opts)) as PatchedObject;
      case 'Namespace':
        return (await clients.core.patchNamespace({ name: ref.name, body }, opts)) as PatchedObject;
      case 'Node':
        return (await clients.core.patchNode({ name: ref.name, body }, opts)) as PatchedObject;
    }
  }
  const { group, version, plural, name } = ref;
  let result: unknown;
  if (ref.namespace !== undefined) {
    const params = { group, version, plural, namespace: ref.namespace, name, body };
    result = subresource === 'status'
      ? await clients.customObjects.patchNamespacedCustomObjectStatus(params, opts)
      : await clients.customObjects.patchNamespacedCustomObject(params, opts);
  } else {
    const params = { group, version, plural, name, body };
    result = subresource === 'status'
      ? await clients.customObjects.patchClusterCustomObjectStatus(params, opts)
      : await clients.customObjects.patchClusterCustomObject(params, opts);
  }
  return result as PatchedObject;
}

function conflictBackoffMs(attempt: number): number {
  // 10 ms, 20 ms, 40 ms, ... ±50 %, capped at 1 s: conflicts clear as soon as the other writer is done.
  const base = Math.min(10 * 2 ** attempt, 1000);
  return base * (0.5 + Math.random());
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Sends `body` as a merge patch. With options.resourceVersion, the version is added to
 * body.metadata and a 409 is returned to the caller; without it, 409s are retried after re-reading.
 */
export async function mergePatch(
  clients: KubeClients,
  ref: ObjectRef,
  body: Record<string, unknown>,
  options: PatchOptions & { subresource?: 'status'; stage?: string } = {},
): Promise<PatchedObject> {
  const stage = options.stage ?? (options.subresource === 'status' ? 'patch-status' : 'patch');
  validateRef(ref, stage);
  const object = describeRef(ref);
  let patchBody: Record<string, unknown> = body;
  if (options.resourceVersion !== undefined) {
    if (typeof options.resourceVersion !== 'string' || options.resourceVersion.length === 0) {
      throw badInput('resourceVersion precondition must be a non-empty string', stage, ref);
    }
    const metadata = (body.metadata ?? {}) as Record<string, unknown>;
    patchBody = { ...body, metadata: { ...metadata, resourceVersion: options.resourceVersion } };
  }
  const maxRetries = options.maxConflictRetries ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      return await sendMergePatch(clients, ref, patchBody, options.subresource, options.signal);
    } catch (err) {
      const apiErr = toKubeApiError(err, stage, object);
      if (!isConflict(apiErr) || options.resourceVersion !== undefined || attempt >= maxRetries) throw apiErr;
      await delay(conflictBackoffMs(attempt), options.signal);
      // Re-read: confirms the object still exists (a 404 ends the retries with a clear error).
      try {
        await read(clients, ref, options.signal);
      } catch (readErr) {
        throw toKubeApiError(readErr, `${stage}:reread`, object);
      }
    }
  }
}

/** Sets (string) or deletes (null) annotations with one merge patch. Returns the patched object. */
export function patchAnnotations(
  clients: KubeClients,
  ref: ObjectRef,
  changes: AnnotationChanges,
  options: PatchOptions = {},
): Promise<PatchedObject> {
  validateRef(ref, 'patch-annotations');
  validateAnnotations(changes, ref, 'patch-annotations');
  return mergePatch(clients, ref, { metadata: { annotations: { ...changes } } }, { ...options, stage: 'patch-annotations' });
}

/** Merge-patches the status subresource of a custom object (spec is untouched). */
export function patchStatus(
  clients: KubeClients,
  ref: CustomObjectRef,
  status: Record<string, unknown>,
  options: PatchOptions = {},
): Promise<PatchedObject> {
  validateRef(ref, 'patch-status');
  if ('kind' in (ref as object)) throw badInput('status patches are only supported for custom objects', 'patch-status', ref);
  if (status === null || typeof status !== 'object' || Array.isArray(status)) {
    throw badInput('status must be an object', 'patch-status', ref);
  }
  return mergePatch(clients, ref, { status }, { ...options, subresource: 'status', stage: 'patch-status' });
}

export interface MutateOptions {
  /** Attempts after the first one when the object changed underneath (default 5). */
  maxConflictRetries?: number;
  signal?: AbortSignal;
}

/**
 * Read-modify-write of annotations: `compute` gets the current annotations and object and returns
 * the changes (or undefined for none). The patch carries the object's resourceVersion; if another
 * writer got in between (409), the object is re-read and `compute` called again.
 * Returns the patched object, or the unchanged current object if `compute` returned nothing.
 */
export async function mutateAnnotations(
  clients: KubeClients,
  ref: ObjectRef,
  compute: (current: Readonly<Record<string, string>>, object: PatchedObject) => AnnotationChanges | undefined | Promise<AnnotationChanges | undefined>,
  options: MutateOptions = {},
): Promise<PatchedObject> {
  const stage = 'mutate-annotations';
  validateRef(ref, stage);
  const object = describeRef(ref);
  const maxRetries = options.maxConflictRetries ?? 5;
  for (let attempt = 0; ; attempt++) {
    let current: PatchedObject;
    try {
      current = await read(clients, ref, options.signal);
    } catch (err) {
      throw toKubeApiError(err, `${stage}:read`, object);
    }
    const resourceVersion = current.metadata?.resourceVersion;
    if (resourceVersion === undefined) {
      throw new KubeApiError('object read back without metadata.resourceVersion', { code: 'KUBE_BAD_OBJECT', stage, object });
    }
    const changes = await compute({ ...(current.metadata?.annotations ?? {}) }, current);
    if (changes === undefined || Object.keys(changes).length === 0) return current;
    validateAnnotations(changes, ref, stage);
    try {
      return await mergePatch(clients, ref, { metadata: { annotations: { ...changes } } }, { resourceVersion, signal: options.signal, stage });
    } catch (err) {
      if (!isConflict(err) || attempt >= maxRetries) throw err;
      await delay(conflictBackoffMs(attempt), options.signal);
    }
  }
}
