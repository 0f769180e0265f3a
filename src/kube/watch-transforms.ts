// Informer transforms: keep only what the IP allocation controller reads, so 20k cached pods cost
// a fraction of their full JSON (managedFields, container specs, volumes and conditions go).
import type { KubeObject, ObjectMeta } from './watch-types.ts';

function pickMeta(meta: ObjectMeta): ObjectMeta {
  const out: ObjectMeta = { name: meta.name, resourceVersion: meta.resourceVersion };
  if (meta.namespace !== undefined) out.namespace = meta.namespace;
  if (meta.uid !== undefined) out.uid = meta.uid;
  if (meta.generation !== undefined) out.generation = meta.generation;
  if (meta.labels !== undefined) out.labels = meta.labels;
  if (meta.annotations !== undefined) out.annotations = meta.annotations;
  if (meta.ownerReferences !== undefined) out.ownerReferences = meta.ownerReferences;
  if (meta.deletionTimestamp !== undefined) out.deletionTimestamp = meta.deletionTimestamp;
  if (meta.finalizers !== undefined) out.finalizers = meta.finalizers;
  return out;
}

/** Metadata only (name, namespace, uid, resourceVersion, labels, annotations, owners, deletion, finalizers). */
export function trimToMetadata(obj: KubeObject): KubeObject {
  return { metadata: pickMeta(obj.metadata) };
}

export interface TrimmedPod extends KubeObject {
  spec: { nodeName?: string; hostNetwork?: boolean };
  status: { phase?: string; podIP?: string; podIPs?: { ip: string }[] };
}

/** A pod as the IPAM controller sees it: metadata plus nodeName, hostNetwork, phase and pod IPs. */
export function trimPod(obj: KubeObject): TrimmedPod {
  const spec = (obj.spec ?? {}) as { nodeName?: unknown; hostNetwork?: unknown };
  const status = (obj.status ?? {}) as { phase?: unknown; podIP?: unknown; podIPs?: unknown };
  const out: TrimmedPod = { metadata: pickMeta(obj.metadata), spec: {}, status: {} };
  if (typeof spec.nodeName === 'string') out.spec.nodeName = spec.nodeName;
  if (typeof spec.hostNetwork === 'boolean') out.spec.hostNetwork = spec.hostNetwork;
  if (typeof status.phase === 'string') out.status.phase = status.phase;
  if (typeof status.podIP === 'string') out.status.podIP = status.podIP;
  if (Array.isArray(status.podIPs)) {
    out.status.podIPs = status.podIPs.filter((p): p is { ip: string } => typeof (p as { ip?: unknown })?.ip === 'string').map((p) => ({ ip: p.ip }));
  }
  return out;
}
