// Installs YAML manifests (our CRDs and RBAC) by server-side apply, and waits for CRDs to be
// Established. Only the kinds listed in KIND_PATHS are accepted: a manifest with another kind
// is a mistake in deploy/ and must fail loudly, not be skipped.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { LocalClusterError } from './errors.ts';
import { apiCall, apiCallOk, type ApiTarget } from './rest.ts';

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

const KIND_PATHS: Record<string, { plural: string; namespaced: boolean }> = {
  CustomResourceDefinition: { plural: 'customresourcedefinitions', namespaced: false },
  ClusterRole: { plural: 'clusterroles', namespaced: false },
  ClusterRoleBinding: { plural: 'clusterrolebindings', namespaced: false },
  Role: { plural: 'roles', namespaced: true },
  RoleBinding: { plural: 'rolebindings', namespaced: true },
  ServiceAccount: { plural: 'serviceaccounts', namespaced: true },
  Namespace: { plural: 'namespaces', namespaced: false },
  ConfigMap: { plural: 'configmaps', namespaced: true },
};

const FIELD_MANAGER = 'ovnkit-localcluster';

/** Every object of every *.yaml / *.yml file in `dir`, in file-name order; empty if dir is absent. */
export async function readManifestDir(dir: string): Promise<{ file: string; objects: ManifestObject[] }[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: { file: string; objects: ManifestObject[] }[] = [];
  for (const name of names) {
    const file = join(dir, name);
    out.push({ file, objects: await readManifestFile(file) });
  }
  return out;
}

export async function readManifestFile(file: string): Promise<ManifestObject[]> {
  const text = await readFile(file, 'utf8');
  const objects: ManifestObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      throw new LocalClusterError('BAD_OPTION', 'read-manifest', file, `YAML error: ${doc.errors[0]?.message ?? 'unknown'}`);
    }
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    objects.push(validateObject(value, file));
  }
  return objects;
}

function validateObject(value: unknown, file: string): ManifestObject {
  const obj = value as Partial<ManifestObject>;
  if (typeof obj !== 'object' || typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string' || typeof obj.metadata?.name !== 'string') {
    throw new LocalClusterError('BAD_OPTION', 'read-manifest', file, 'every document needs apiVersion, kind and metadata.name');
  }
  return obj as ManifestObject;
}

export function objectPath(obj: ManifestObject): string {
  const kind = KIND_PATHS[obj.kind];
  if (kind === undefined) {
    throw new LocalClusterError('BAD_OPTION', 'apply-manifest', `${obj.kind}/${obj.metadata.name}`, `kind ${obj.kind} is not one the local cluster installs (${Object.keys(KIND_PATHS).join(', ')})`);
  }
  const base = obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  if (!kind.namespaced) return `${base}/${kind.plural}/${obj.metadata.name}`;
  const ns = obj.metadata.namespace;
  if (ns === undefined) {
    throw new LocalClusterError('BAD_OPTION', 'apply-manifest', `${obj.kind}/${obj.metadata.name}`, 'namespaced object without metadata.namespace');
  }
  return `${base}/namespaces/${ns}/${kind.plural}/${obj.metadata.name}`;
}

export async function applyObjects(target: ApiTarget, objects: ManifestObject[]): Promise<void> {
  for (const obj of objects) {
    const path = `${objectPath(obj)}?fieldManager=${FIELD_MANAGER}&force=true`;
    await apiCallOk(target, `apply ${obj.kind}`, 'PATCH', path, obj, 'application/apply-patch+yaml');
  }
}

/**
 * Polls until a LIST of every served version of each CRD answers 200. Established alone is not
 * enough: right after it, the apiserver's watch cache for the new resource is still starting
 * and a LIST gets 429 (seen for up to ~3 s here), which would fail the first test request.
 */
export async function waitCrdsServed(target: ApiTarget, crds: ManifestObject[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    const spec = crd.spec as { group?: string; names?: { plural?: string }; versions?: { name: string; served?: boolean }[] } | undefined;
    const group = spec?.group;
    const plural = spec?.names?.plural;
    if (group === undefined || plural === undefined) {
      throw new LocalClusterError('BAD_OPTION', 'install-crds', crd.metadata.name, 'CRD without spec.group or spec.names.plural');
    }
    for (const version of (spec?.versions ?? []).filter((v) => v.served !== false)) {
      const path = `/apis/${group}/${version.name}/${plural}?limit=1`;
      for (;;) {
        abandonIfAborted(signal, crd.metadata.name);
        const res = await apiCall(target, 'GET', path);
        if (res.status === 200) break;
        if (Date.now() > deadline) {
          throw new LocalClusterError('CRD_NOT_ESTABLISHED', 'install-crds', crd.metadata.name, `GET ${path} still answers HTTP ${res.status} after ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}

/** Polls each CRD until its Established condition is True. */
export async function waitCrdsEstablished(target: ApiTarget, names: string[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      abandonIfAborted(signal, name);
      const res = await apiCall(target, 'GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
      if (res.status === 200) {
        const crd = JSON.parse(res.body) as { status?: { conditions?: { type: string; status: string; message?: string }[] } };
        const conditions = crd.status?.conditions ?? [];
        if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) break;
        if (Date.now() > deadline) {
          const names = conditions.map((c) => `${c.type}=${c.status}${c.message ? ` (${c.message})` : ''}`).join(', ');
          throw new LocalClusterError('CRD_NOT_ESTABLISHED', 'install-crds', name, `not Established after ${timeoutMs} ms; conditions: ${names || 'none'}`);
        }
      } else if (Date.now() > deadline) {
        throw new LocalClusterError('CRD_NOT_ESTABLISHED', 'install-crds', name, `GET returned HTTP ${res.status} after ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function abandonIfAborted(signal: AbortSignal | undefined, crd: string): void {
  if (signal?.aborted) throw new LocalClusterError('STOPPED', 'install-crds', crd, 'abandoned: another part of the start failed, or stop() was called');
}
