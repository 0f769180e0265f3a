// RBAC on a real apiserver: the unprivileged identity may do nothing; the controller identity
// may do exactly what deploy/rbac.yaml grants (checked with real requests, not access reviews)
// and is Forbidden for what a pod-IP controller has no business doing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeconfigIdentity, type LocalCluster, readAuditWrites, startLocalCluster } from '../../src/localcluster/index.ts';
import { apiCall, apiCallOk } from '../../src/localcluster/rest.ts';

let cluster: LocalCluster;
const ns = 'rbac-check';

beforeAll(async () => {
  // RBAC needs no controllers: the apiserver alone (plus CRDs and deploy/rbac.yaml).
  cluster = await startLocalCluster({ apiserverOnly: true, audit: true });
  const admin = cluster.api();
  await apiCallOk(admin, 'setup', 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
  // Without the controller-manager nobody creates the default ServiceAccount pods need.
  await apiCallOk(admin, 'setup', 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'default' } });
  await apiCallOk(admin, 'setup', 'POST', `/api/v1/namespaces/${ns}/pods`, {
    metadata: { name: 'p1' },
    spec: { containers: [{ name: 'c', image: 'registry.invalid/pause:3.10' }] },
  });
  await apiCallOk(admin, 'setup', 'POST', `/api/v1/namespaces/${ns}/secrets`, { metadata: { name: 's1' }, stringData: { k: 'v' } });
  await apiCallOk(admin, 'setup', 'POST', '/api/v1/nodes', { metadata: { name: 'n1' } });
});

afterAll(async () => {
  await cluster?.stop();
});

async function status(identity: KubeconfigIdentity, method: string, path: string, body?: unknown, contentType?: string): Promise<number> {
  return (await apiCall(cluster.api(identity), method, path, body, contentType)).status;
}

const merge = 'application/merge-patch+json';

describe('RBAC of the local cluster identities', () => {
  it('the unprivileged identity is authenticated but Forbidden everywhere', async () => {
    const review = (await apiCallOk(cluster.api('unprivileged'), 'whoami', 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    })) as { status: { userInfo: { username: string; groups: string[] } } };
    expect(review.status.userInfo.username).toBe('ovnkit-unprivileged');
    expect(review.status.userInfo.groups).toEqual(['system:authenticated']);
    expect(await status('unprivileged', 'GET', `/api/v1/namespaces/${ns}/pods`)).toBe(403);
    expect(await status('unprivileged', 'GET', '/api/v1/nodes')).toBe(403);
    expect(await status('unprivileged', 'GET', '/apis/kubeovn.io/v1/subnets')).toBe(403);
    const { stderr } = await cluster.kubectl(['get', 'pods', '-A'], 'unprivileged').catch((e: { stderr: string }) => e);
    expect(stderr).toMatch(/Forbidden/);
  });

  it('the controller identity can do what deploy/rbac.yaml grants', async () => {
    expect(await status('controller', 'GET', '/api/v1/pods')).toBe(200);
    expect(await status('controller', 'GET', `/api/v1/pods?watch=1&timeoutSeconds=1`)).toBe(200);
    expect(await status('controller', 'PATCH', `/api/v1/namespaces/${ns}/pods/p1`, { metadata: { annotations: { 'ovn.kubernetes.io/ip_address': '10.16.0.5' } } }, merge)).toBe(200);
    expect(await status('controller', 'PATCH', `/api/v1/namespaces/${ns}`, { metadata: { annotations: { 'ovn.kubernetes.io/logical_switch': 'ovn-default' } } }, merge)).toBe(200);
    expect(await status('controller', 'PATCH', '/api/v1/nodes/n1', { metadata: { annotations: { 'ovn.kubernetes.io/ip_address': '100.64.0.2' } } }, merge)).toBe(200);
    expect(
      await status('controller', 'POST', '/apis/kubeovn.io/v1/subnets', {
        apiVersion: 'kubeovn.io/v1',
        kind: 'Subnet',
        metadata: { name: 'ctrl-subnet' },
        spec: { protocol: 'IPv4', cidrBlock: '10.20.0.0/16' },
      }),
    ).toBe(201);
    expect(await status('controller', 'PATCH', '/apis/kubeovn.io/v1/subnets/ctrl-subnet/status', { status: { v4availableIPs: 65533 } }, merge)).toBe(200);
    expect(await status('controller', 'GET', '/apis/kubeovn.io/v1/ips')).toBe(200);
    expect(await status('controller', 'GET', '/apis/kubeovn.io/v1/ippools')).toBe(200);
    expect(await status('controller', 'GET', '/apis/kubeovn.io/v1/vpcs')).toBe(200);
    expect(await status('controller', 'GET', '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions')).toBe(200);
    expect(await status('controller', 'GET', `/apis/apps/v1/namespaces/${ns}/statefulsets`)).toBe(200);
    expect(
      await status('controller', 'POST', `/apis/events.k8s.io/v1/namespaces/${ns}/events`, {
        metadata: { name: 'p1.allocated' },
        eventTime: new Date().toISOString().replace('Z', '000Z'),
        reportingController: 'ovnkit',
        reportingInstance: 'ovnkit-0',
        action: 'Allocate',
        reason: 'AllocatedIP',
        type: 'Normal',
        note: 'allocated 10.16.0.5',
        regarding: { kind: 'Pod', namespace: ns, name: 'p1', apiVersion: 'v1' },
      }),
    ).toBe(201);
    expect(
      await status('controller', 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases', { metadata: { name: 'ovnkit' }, spec: { holderIdentity: 'me' } }),
    ).toBe(201);
    expect(await status('controller', 'DELETE', '/apis/kubeovn.io/v1/subnets/ctrl-subnet')).toBe(200);
  });

  it('the controller identity is Forbidden for what it does not need', async () => {
    expect(await status('controller', 'DELETE', '/api/v1/nodes/n1')).toBe(403);
    expect(await status('controller', 'GET', `/api/v1/namespaces/${ns}/secrets/s1`)).toBe(403);
    expect(await status('controller', 'GET', '/api/v1/secrets')).toBe(403);
    expect(await status('controller', 'GET', `/api/v1/namespaces/${ns}/configmaps`)).toBe(403);
    expect(await status('controller', 'DELETE', `/api/v1/namespaces/${ns}/pods/p1`)).toBe(403);
    expect(await status('controller', 'POST', `/api/v1/namespaces/${ns}/pods`, { metadata: { name: 'p2' }, spec: { containers: [{ name: 'c', image: 'x' }] } })).toBe(403);
    expect(await status('controller', 'DELETE', `/api/v1/namespaces/${ns}`)).toBe(403);
    expect(await status('controller', 'POST', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, { metadata: { name: 'x' } })).toBe(403);
    expect(await status('controller', 'PATCH', `/apis/apps/v1/namespaces/${ns}/statefulsets/none`, { spec: {} }, merge)).toBe(403);
    expect(await status('controller', 'POST', '/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions', { metadata: { name: 'n' } })).toBe(403);
    expect(await status('controller', 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', { metadata: { name: 'escalate' }, rules: [] })).toBe(403);
  });

  it('the audit log counts writes per identity (and only writes)', async () => {
    const before = (await readAuditWrites(cluster.auditLog as string)).filter((w) => w.user === cluster.users.controller);
    for (const n of [1, 2, 3]) {
      expect(await status('controller', 'PATCH', `/api/v1/namespaces/${ns}/pods/p1`, { metadata: { annotations: { 'ovnkit.test/n': String(n) } } }, merge)).toBe(200);
    }
    expect(await status('controller', 'GET', `/api/v1/namespaces/${ns}/pods/p1`)).toBe(200);
    expect(await status('controller', 'DELETE', '/api/v1/nodes/n1')).toBe(403);
    const after = (await readAuditWrites(cluster.auditLog as string)).filter((w) => w.user === cluster.users.controller);
    const added = after.slice(before.length);
    expect(added.map((w) => `${w.verb} ${w.resource} ${w.name} ${w.code}`)).toEqual([
      'patch pods p1 200',
      'patch pods p1 200',
      'patch pods p1 200',
      'delete nodes n1 403',
    ]);
  });
});
