// The whole local control plane on real servers: a StatefulSet lives its life on kwok nodes,
// the NB database answers, the apiserver restarts without losing data, and stop() leaves no
// process behind.
import { existsSync, readdirSync } from 'node:fs';
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OvsdbClient } from '../../src/ovsdb/index.ts';
import { createNamespace, KWOK_TOLERATION, kubeConfigFor, type LocalCluster, startLocalCluster } from '../../src/localcluster/index.ts';
import { apiCallOk } from '../../src/localcluster/rest.ts';
import { runRoot } from '../../src/localcluster/run-registry.ts';
import { openWatch, pidGone } from './watch-stream.ts';

let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster({ nodes: 2, nb: true, northd: true });
});

afterAll(async () => {
  await cluster?.stop();
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('full local cluster', () => {
  it('runs every component, each with its PID recorded for crash cleanup', async () => {
    const procs = cluster.processes;
    expect(Object.keys(procs).sort()).toEqual(
      ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'ovn-nb', 'ovn-northd', 'ovn-sb'].sort(),
    );
    for (const pid of Object.values(procs)) expect(pidGone(pid)).toBe(false);
    const entry = readdirSync(runRoot()).find((e) => e === `cluster-${cluster.name}`);
    expect(entry).toBeDefined();
    const { stdout } = await cluster.kubectl(['get', 'nodes', '-o', 'name']);
    expect(stdout.trim().split('\n').sort()).toEqual(['node/kwok-node-0', 'node/kwok-node-1']);
  });

  it('a StatefulSet of 3 reaches Running on kwok nodes, scales 3→1→3, and is deleted gracefully', async () => {
    const ns = 'sts-life';
    await createNamespace(cluster, ns);
    const kc = kubeConfigFor(cluster);
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const running = async (n: number): Promise<V1Pod[] | undefined> => {
      const pods = (await core.listNamespacedPod({ namespace: ns })).items;
      const up = pods.filter((p) => p.status?.phase === 'Running' && p.spec?.nodeName?.startsWith('kwok-node-') && !p.metadata?.deletionTimestamp);
      return pods.length === n && up.length === n ? pods : undefined;
    };
    await apps.createNamespacedStatefulSet({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 3,
          serviceName: 'web',
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { tolerations: [{ ...KWOK_TOLERATION }], containers: [{ name: 'pause', image: 'registry.invalid/pause:3.10' }] },
          },
        },
      },
    });
    const three = await until('3 Running', () => running(3));
    expect(three.map((p) => p.metadata?.name).sort()).toEqual(['web-0', 'web-1', 'web-2']);
    for (const p of three) expect(p.status?.podIP).toMatch(/^10\.244\./);

    const scale = (replicas: number) =>
      apps.patchNamespacedStatefulSet({ name: 'web', namespace: ns, body: { spec: { replicas } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await scale(1);
    const one = await until('1 Running', () => running(1));
    expect(one.map((p) => p.metadata?.name)).toEqual(['web-0']);
    await scale(3);
    await until('3 Running again', () => running(3));

    const list = await core.listNamespacedPod({ namespace: ns });
    const watch = openWatch(cluster, `/api/v1/namespaces/${ns}/pods?watch=1&resourceVersion=${list.metadata?.resourceVersion}`);
    try {
      await apps.deleteNamespacedStatefulSet({ name: 'web', namespace: ns });
      await until('all pods gone', async () => ((await core.listNamespacedPod({ namespace: ns })).items.length === 0 ? true : undefined));
      for (const name of ['web-0', 'web-1', 'web-2']) {
        const deleted = await watch.waitFor((e) => e.type === 'DELETED' && e.object.metadata?.name === name, 10_000);
        // Graceful: the pod is first marked for deletion (with a grace period), then removed.
        const marked = watch.events.findIndex((e) => e.type === 'MODIFIED' && e.object.metadata?.name === name && e.object.metadata.deletionTimestamp !== undefined);
        expect(marked, `${name} marked before deletion`).toBeGreaterThanOrEqual(0);
        expect(marked).toBeLessThan(watch.events.indexOf(deleted));
        const grace = (watch.events[marked]?.object.metadata as { deletionGracePeriodSeconds?: number }).deletionGracePeriodSeconds;
        expect(grace).toBeGreaterThan(0);
      }
    } finally {
      watch.close();
    }
  });

  it('installs our CRDs (a Subnet can be created) and the NB database answers at nbAddress', async () => {
    const { stdout } = await cluster.kubectl(['get', 'crd', '-o', 'name']);
    expect(stdout).toContain('subnets.kubeovn.io');
    const subnet = (await apiCallOk(cluster.api(), 'test', 'POST', '/apis/kubeovn.io/v1/subnets', {
      apiVersion: 'kubeovn.io/v1',
      kind: 'Subnet',
      metadata: { name: 'ovn-default' },
      spec: { protocol: 'IPv4', cidrBlock: '10.16.0.0/16', gateway: '10.16.0.1', excludeIps: ['10.16.0.1'] },
    })) as { spec: { cidrBlock: string } };
    expect(subnet.spec.cidrBlock).toBe('10.16.0.0/16');
    expect(cluster.nbAddress).toMatch(/^tcp:127\.0\.0\.1:\d+$/);
    const client = await OvsdbClient.connect(cluster.nbAddress as string);
    try {
      expect(await client.call('list_dbs', [])).toContain('OVN_Northbound');
    } finally {
      await client.close();
    }
  });

  it('ovn-northd translates an NB logical switch into an SB datapath', async () => {
    const nb = await OvsdbClient.connect(cluster.nbAddress as string);
    const sb = await OvsdbClient.connect(cluster.sbAddress as string, { database: 'OVN_Southbound' });
    try {
      await nb.transact('OVN_Northbound', [{ op: 'insert', table: 'Logical_Switch', row: { name: 'northd-check' } }]);
      await until('SB datapath for northd-check', async () => {
        const [result] = (await sb.transact('OVN_Southbound', [{ op: 'select', table: 'Datapath_Binding', where: [] }])) as [{ rows?: unknown[] }];
        return JSON.stringify(result.rows ?? []).includes('northd-check') ? true : undefined;
      }, 30_000);
    } finally {
      await nb.close();
      await sb.close();
    }
  });

  it('restarting the apiserver keeps the data and gives a new PID', async () => {
    const before = cluster.processes['kube-apiserver'] as number;
    await cluster.kubectl(['create', 'configmap', 'survivor', '-n', 'default', '--from-literal=k=v']);
    await cluster.restartApiserver();
    const after = cluster.processes['kube-apiserver'] as number;
    expect(after).not.toBe(before);
    expect(pidGone(before)).toBe(true);
    const { stdout } = await cluster.kubectl(['get', 'configmap', 'survivor', '-n', 'default', '-o', 'jsonpath={.data.k}']);
    expect(stdout).toBe('v');
  });

  it('stop() ends every process by PID, removes the temp dir and the run record', async () => {
    const pids = Object.values(cluster.processes);
    expect(pids.length).toBe(8);
    const dir = cluster.dir;
    await cluster.stop();
    for (const pid of pids) expect(pidGone(pid), `pid ${pid}`).toBe(true);
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(`${runRoot()}/cluster-${cluster.name}`)).toBe(false);
    expect(cluster.processes).toEqual({});
  });
});
