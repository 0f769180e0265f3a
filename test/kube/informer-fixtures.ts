// Shared by the reflector/informer integration tests: a TCP proxy that can make connections go
// silent (the half-open connection a NAT or load balancer leaves behind), client-node writers, and
// the "cache equals a fresh LIST" check.
import net from 'node:net';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { LocalCluster } from '../../src/localcluster/index.ts';
import { kubeConfigFor } from '../../src/localcluster/index.ts';
import type { SharedInformer } from '../../src/kube/informer.ts';
import { DeletedFinalStateUnknown } from '../../src/kube/store.ts';
import { HttpKubeTransport } from '../../src/kube/watch-transport.ts';
import { listAll } from '../../src/kube/list-pager.ts';
import type { KubeObject } from '../../src/kube/watch-types.ts';

interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
  frozen: boolean;
}

/**
 * Forwards TCP to the apiserver. `freeze()` stops moving bytes on every open connection (both
 * ways, sockets left open) and holds new connections without connecting them; `thaw()` lets new
 * and held connections through again, while the frozen ones stay dead until their client gives up.
 */
export class FreezableProxy {
  readonly targetPort: number;
  private server: net.Server | undefined;
  private readonly pairs = new Set<Pair>();
  private frozen = false;
  connections = 0;

  constructor(targetPort: number) {
    this.targetPort = targetPort;
  }

  async start(): Promise<number> {
    this.server = net.createServer((client) => {
      this.connections++;
      const pair: Pair = { client, upstream: undefined, frozen: false };
      this.pairs.add(pair);
      client.on('error', () => {});
      client.on('close', () => {
        pair.upstream?.destroy();
        this.pairs.delete(pair);
      });
      if (this.frozen) {
        client.pause(); // held: bytes wait in the kernel until thaw()
        return;
      }
      this.connect(pair);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  private connect(pair: Pair): void {
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    pair.upstream = upstream;
    upstream.on('error', () => pair.client.destroy());
    upstream.on('close', () => pair.client.destroy());
    pair.client.pipe(upstream);
    upstream.pipe(pair.client);
    pair.client.resume();
  }

  freeze(): void {
    this.frozen = true;
    for (const pair of this.pairs) {
      pair.frozen = true;
      if (pair.upstream) {
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        pair.upstream.pause();
      }
      pair.client.pause();
    }
  }

  thaw(): void {
    this.frozen = false;
    for (const pair of this.pairs) {
      if (!pair.frozen && pair.upstream === undefined && !pair.client.destroyed) this.connect(pair);
    }
  }

  /** Connections currently open (frozen or not). */
  get open(): number {
    return this.pairs.size;
  }

  async stop(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** A KubeConfig for the cluster's admin, pointed at another port on 127.0.0.1 (the proxy). */
export function kubeConfigVia(cluster: LocalCluster, port: number): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    currentContext: 'proxied',
    clusters: [{ name: 'proxied', server: `https://127.0.0.1:${port}`, caData: Buffer.from(cluster.caPem).toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'admin', token: cluster.tokens.admin }],
    contexts: [{ name: 'proxied', cluster: 'proxied', user: 'admin' }],
  });
  return kc;
}

export function apiserverPort(cluster: LocalCluster): number {
  return Number(new URL(cluster.server).port);
}

export function coreApi(cluster: LocalCluster): CoreV1Api {
  return kubeConfigFor(cluster).makeApiClient(CoreV1Api);
}

/** Namespace plus its `default` ServiceAccount (no controller-manager runs to make it; pods need it). */
export async function createNamespaceWithServiceAccount(core: CoreV1Api, name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
  await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'default' } } });
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function inPool<T>(items: T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** key → resourceVersion of a fresh, consistent LIST (the ground truth to compare a cache with). */
export async function freshList(cluster: LocalCluster, path: string): Promise<Map<string, string>> {
  const transport = new HttpKubeTransport(kubeConfigFor(cluster));
  const out = new Map<string, string>();
  try {
    await listAll(transport, path, {
      pageSize: 1000,
      signal: AbortSignal.timeout(120_000),
      onPage: ({ items }) => {
        for (const item of items as KubeObject[]) {
          const key = item.metadata.namespace ? `${item.metadata.namespace}/${item.metadata.name}` : item.metadata.name;
          out.set(key, item.metadata.resourceVersion);
        }
      },
    });
  } finally {
    transport.close();
  }
  return out;
}

export function cacheVersions<T extends KubeObject>(informer: SharedInformer<T>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, obj] of informer.store.entries()) out.set(key, obj.metadata.resourceVersion);
  return out;
}

/** Describes how two key→RV maps differ (empty string when equal), capped for readable failures. */
export function versionDiff(expected: Map<string, string>, actual: Map<string, string>): string {
  const problems: string[] = [];
  for (const [key, rv] of expected) {
    const got = actual.get(key);
    if (got === undefined) problems.push(`missing ${key}@${rv}`);
    else if (got !== rv) problems.push(`stale ${key} have ${got} want ${rv}`);
  }
  for (const key of actual.keys()) if (!expected.has(key)) problems.push(`extra ${key}`);
  return problems.length === 0 ? '' : `${problems.length} differences: ${problems.slice(0, 10).join(', ')}`;
}

/** Records handler calls as short strings: `add name@rv`, `update name@old->new`, `delete name@rv`, `delete-unknown name`. */
export function recordHandlers(informer: SharedInformer): string[] {
  const log: string[] = [];
  informer.addEventHandler({
    onAdd: (o) => log.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`),
    onUpdate: (o, n) => log.push(`update ${n.metadata.name}@${o.metadata.resourceVersion}->${n.metadata.resourceVersion}`),
    onDelete: (o) =>
      log.push(o instanceof DeletedFinalStateUnknown ? `delete-unknown ${o.obj.metadata.name}` : `delete ${o.metadata.name}@${o.metadata.resourceVersion}`),
  });
  return log;
}

/** A schedulable-looking pod that nothing will run: the apiserver stores it, nothing else happens. */
export function podManifest(name: string, i: number, nodes: number): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: `app-${i % 20}`, index: String(i) }, annotations: { 'ovn.kubernetes.io/logical_switch': 'ovn-default' } },
    spec: {
      ...(nodes > 0 ? { nodeName: `node-${i % nodes}` } : {}),
      containers: [{ name: 'c', image: 'registry.invalid/pause:3.10', resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
      terminationGracePeriodSeconds: 0,
    },
  };
}

/** Creates pods `${prefix}${from}`..`${prefix}${to - 1}`; prints progress every `every` pods. */
export async function createPods(
  core: CoreV1Api,
  namespace: string,
  prefix: string,
  from: number,
  to: number,
  options: { nodes?: number; concurrency?: number; progress?: (done: number) => void; every?: number } = {},
): Promise<void> {
  const indexes = Array.from({ length: to - from }, (_, k) => from + k);
  let done = 0;
  await inPool(indexes, options.concurrency ?? 32, async (i) => {
    await core.createNamespacedPod({ namespace, body: podManifest(`${prefix}${i}`, i, options.nodes ?? 0) });
    done++;
    if (options.progress && done % (options.every ?? 1000) === 0) options.progress(done);
  });
}
