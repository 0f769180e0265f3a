// Shapes shared by the list pager, the watch decoder, the store, the reflector and the informer.
// Objects are kept as the apiserver sent them (plain JSON), not as client-node's generated classes:
// the reflector never needs more than metadata, and a transform can trim the rest.
import pino from 'pino';

export interface OwnerReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid: string;
  controller?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  deletionTimestamp?: string;
  finalizers?: string[];
  [field: string]: unknown;
}

/** Any Kubernetes object that passed the shape check: metadata.name and metadata.resourceVersion are strings. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** Which collection to list and watch. `group: ''` is the core API (/api/v1). */
export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
  /** Restrict to one namespace (namespaced resources only); all namespaces when omitted. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export function collectionPath(resource: ResourceRef): string {
  const base = resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  if (resource.namespace !== undefined && resource.namespace !== '') {
    if (!resource.namespaced) {
      throw new KubeWatchError('BAD_OPTION', 'resource', describeResource(resource), 'namespace given for a cluster-scoped resource');
    }
    return `${base}/namespaces/${encodeURIComponent(resource.namespace)}/${resource.plural}`;
  }
  return `${base}/${resource.plural}`;
}

/** A stable identity for a resource + scope + selectors: the shared-informer registry key. */
export function describeResource(resource: ResourceRef): string {
  const group = resource.group === '' ? 'core' : resource.group;
  let text = `${group}/${resource.version}/${resource.plural}`;
  if (resource.namespace) text += ` ns=${resource.namespace}`;
  if (resource.labelSelector) text += ` labels=${resource.labelSelector}`;
  if (resource.fieldSelector) text += ` fields=${resource.fieldSelector}`;
  return text;
}

/** Store key: `namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name}` : obj.metadata.name;
}

/** pino-compatible; debug is optional so the plain console logger in client.ts fits too. */
export interface KubeLogger {
  debug?(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export function defaultKubeLogger(component: string): KubeLogger {
  return pino({ level: process.env.LOG_LEVEL ?? 'info', base: { component } });
}

export const silentLogger: KubeLogger = { debug() {}, info() {}, warn() {}, error() {} };

export type KubeWatchErrorCode =
  | 'BAD_OPTION'
  | 'HTTP_STATUS'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'BAD_RESPONSE'
  | 'BAD_OBJECT'
  | 'BAD_EVENT'
  | 'EXPIRED'
  | 'WATCH_ERROR_EVENT'
  | 'WATCH_STALLED'
  | 'HANDLER_FAILED'
  | 'INDEXER_FAILED'
  | 'TRANSFORM_FAILED'
  | 'NOT_SYNCED'
  | 'STOPPED';

/** Every reflector/informer failure: what (code), during what (stage), on what (object: resource or key). */
export class KubeWatchError extends Error {
  readonly code: KubeWatchErrorCode;
  readonly stage: string;
  readonly object: string;
  /** HTTP status, or the `code` of a watch ERROR event's Status. */
  readonly status: number | undefined;
  readonly reason: string | undefined;

  constructor(
    code: KubeWatchErrorCode,
    stage: string,
    object: string,
    message: string,
    options?: { cause?: unknown; status?: number; reason?: string },
  ) {
    super(`[${code}] ${stage} ${object}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KubeWatchError';
    this.code = code;
    this.stage = stage;
    this.object = object;
    this.status = options?.status;
    this.reason = options?.reason;
  }

  /** 410 Gone / reason Expired: the resourceVersion fell out of the server's history, relist. */
  get expired(): boolean {
    return this.code === 'EXPIRED' || this.status === 410;
  }
}
