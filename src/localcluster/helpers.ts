// Small helpers tests (ours and other areas') use on a running local cluster.
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeconfigIdentity, LocalCluster } from './cluster.ts';
import { LocalClusterError } from './errors.ts';
import { waitFor } from './process.ts';
import { apiCall, apiCallOk } from './rest.ts';

/** A client-node KubeConfig for one of the cluster's identities, built in memory. */
export function kubeConfigFor(cluster: LocalCluster, identity: KubeconfigIdentity = 'admin'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    currentContext: 'local',
    clusters: [{ name: 'local', server: cluster.server, caData: Buffer.from(cluster.caPem).toString('base64'), skipTLSVerify: false }],
    users: [{ name: identity, token: cluster.tokens[identity] }],
    contexts: [{ name: 'local', cluster: 'local', user: identity }],
  });
  return kc;
}

/**
 * Creates a namespace and, when the controller-manager runs, waits for its `default`
 * ServiceAccount (pods are refused until it exists).
 */
export async function createNamespace(cluster: LocalCluster, name: string, timeoutMs = 30_000): Promise<void> {
  await apiCallOk(cluster.api(), 'create-namespace', 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  if (!cluster.options.controllerManager) return;
  await waitFor(async () => (await apiCall(cluster.api(), 'GET', `/api/v1/namespaces/${name}/serviceaccounts/default`)).status === 200, {
    timeoutMs,
    intervalMs: 50,
    what: `ServiceAccount ${name}/default`,
  });
}

export interface WatchExpiry {
  /** The etcd revision compacted at; every resourceVersion below it is now expired. */
  compactedRevision: number;
}

/**
 * Makes every resourceVersion observed so far too old to watch from: writes twice (so history
 * exists past any RV a caller holds), then compacts etcd at its current revision. A watch from
 * an older RV then gets the ERROR event with code 410 (Expired). Needs a cluster started with
 * `watchCache: false`: the watch cache replays from memory and never answers 410 on demand.
 */
export async function forceWatchExpiry(cluster: LocalCluster, namespace = 'default'): Promise<WatchExpiry> {
  if (cluster.options.watchCache) {
    throw new LocalClusterError('WATCH_CACHE_ENABLED', 'force-watch-expiry', cluster.name, 'start the cluster with { watchCache: false } to get 410 Gone on demand');
  }
  const name = `ovnkit-watch-expiry-${Date.now().toString(36)}`;
  const path = `/api/v1/namespaces/${namespace}/configmaps`;
  await apiCallOk(cluster.api(), 'force-watch-expiry', 'POST', path, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
  await apiCallOk(cluster.api(), 'force-watch-expiry', 'DELETE', `${path}/${name}`);
  return { compactedRevision: await cluster.compactEtcd() };
}
