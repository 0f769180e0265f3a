// Patch helpers against a real etcd + kube-apiserver.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeConfigFor, startLocalCluster, type LocalCluster } from '../../src/localcluster/index.ts';
import { KubeApiError, makeKubeClients, type KubeClients } from '../../src/kube/client.ts';
import { mutateAnnotations, patchAnnotations, patchStatus, type CustomObjectRef, type ObjectRef } from '../../src/kube/patch.ts';

let cluster: LocalCluster;
let clients: KubeClients;
const ns = 'patch-test';

async function annotationsOf(ref: ObjectRef): Promise<Record<string, string>> {
  if ('kind' in ref && ref.kind === 'Pod') {
    return (await clients.core.readNamespacedPod({ name: ref.name, namespace: ref.namespace })).metadata?.annotations ?? {};
  }
  if ('kind' in ref && ref.kind === 'Namespace') return (await clients.core.readNamespace({ name: ref.name })).metadata?.annotations ?? {};
  if ('kind' in ref && ref.kind === 'Node') return (await clients.core.readNode({ name: ref.name })).metadata?.annotations ?? {};
  throw new Error('unsupported in test');
}

async function expectRejectCode(promise: Promise<unknown>, code: string): Promise<KubeApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).code).toBe(code);
    return err as KubeApiError;
  }
  throw new Error(`expected a rejection with code ${code}`);
}

beforeAll(async () => {
  cluster = await startLocalCluster({ apiserverOnly: true, progress: false });
  clients = makeKubeClients(kubeConfigFor(cluster));
  await clients.core.createNamespace({ body: { metadata: { name: ns } } });
  // No controller-manager: create the ServiceAccount pods need ourselves.
  await clients.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'default' } } });
  await clients.core.createNamespacedPod({
    namespace: ns,
    body: { metadata: { name: 'p1', annotations: { keep: 'me' } }, spec: { containers: [{ name: 'c', image: 'registry.invalid/pause:3.10' }] } },
  });
});

afterAll(async () => {
  await cluster?.stop();
});

describe('patchAnnotations (merge patch)', () => {
  const pod: ObjectRef = { kind: 'Pod', namespace: ns, name: 'p1' };

  it('sets keys, and null deletes a key while others are kept', async () => {
    const patched = await patchAnnotations(clients, pod, { 'ovn.kubernetes.io/ip_address': '10.16.0.5', 'ovn.kubernetes.io/allocated': 'true' });
    expect(patched.metadata?.annotations).toMatchObject({ keep: 'me', 'ovn.kubernetes.io/ip_address': '10.16.0.5', 'ovn.kubernetes.io/allocated': 'true' });
    await patchAnnotations(clients, pod, { 'ovn.kubernetes.io/allocated': null, 'ovn.kubernetes.io/mac_address': '00:00:00:aa:bb:cc' });
    const now = await annotationsOf(pod);
    expect(now).toEqual({ keep: 'me', 'ovn.kubernetes.io/ip_address': '10.16.0.5', 'ovn.kubernetes.io/mac_address': '00:00:00:aa:bb:cc' });
    // Deleting a key that is not there is a no-op, not an error.
    await patchAnnotations(clients, pod, { 'not-there': null });
    expect(await annotationsOf(pod)).toEqual(now);
  });

  it('works on cluster-scoped core objects (Namespace, Node) with no annotations yet', async () => {
    await clients.core.createNode({ body: { metadata: { name: 'patch-node' } } });
    await patchAnnotations(clients, { kind: 'Node', name: 'patch-node' }, { 'ovn.kubernetes.io/allocated': 'true' });
    expect(await annotationsOf({ kind: 'Node', name: 'patch-node' })).toEqual({ 'ovn.kubernetes.io/allocated': 'true' });
    await patchAnnotations(clients, { kind: 'Namespace', name: ns }, { 'ovn.kubernetes.io/logical_switch': 'ovn-default' });
    expect((await annotationsOf({ kind: 'Namespace', name: ns }))['ovn.kubernetes.io/logical_switch']).toBe('ovn-default');
  });

  it('with a stale resourceVersion precondition fails with 409 and changes nothing', async () => {
    const before = await clients.core.readNamespacedPod({ name: 'p1', namespace: ns });
    const staleRv = before.metadata!.resourceVersion!;
    await patchAnnotations(clients, pod, { writer: 'other' }); // bumps the resourceVersion
    const err = await expectRejectCode(patchAnnotations(clients, pod, { writer: 'me' }, { resourceVersion: staleRv }), 'KUBE_CONFLICT');
    expect(err.status).toBe(409);
    expect(err.stage).toBe('patch-annotations');
    expect(err.object).toBe(`pods/${ns}/p1`);
    expect((await annotationsOf(pod)).writer).toBe('other');
    // With the current version it goes through.
    const current = (await clients.core.readNamespacedPod({ name: 'p1', namespace: ns })).metadata!.resourceVersion!;
    await patchAnnotations(clients, pod, { writer: 'me' }, { resourceVersion: current });
    expect((await annotationsOf(pod)).writer).toBe('me');
  });

  it('rejects bad input with a coded error before any request, and reports 404 as KUBE_NOT_FOUND', async () => {
    await expectRejectCode(Promise.resolve().then(() => patchAnnotations(clients, pod, { bad: 5 as unknown as string })), 'KUBE_BAD_PATCH');
    await expectRejectCode(Promise.resolve().then(() => patchAnnotations(clients, { kind: 'Pod', name: 'x' } as unknown as ObjectRef, { a: 'b' })), 'KUBE_BAD_PATCH');
    const err = await expectRejectCode(patchAnnotations(clients, { kind: 'Pod', namespace: ns, name: 'missing' }, { a: 'b' }), 'KUBE_NOT_FOUND');
    expect(err.status).toBe(404);
  });
});

describe('mutateAnnotations (read-modify-write, retry on 409 with re-read)', () => {
  const pod: ObjectRef = { kind: 'Pod', namespace: ns, name: 'p1' };

  it('a concurrent writer between read and patch causes a real 409; the retry re-reads and recomputes', async () => {
    const seen: Array<Record<string, string>> = [];
    const result = await mutateAnnotations(clients, pod, async (current) => {
      seen.push({ ...current });
      if (seen.length === 1) await patchAnnotations(clients, pod, { 'intruder': 'was-here' });
      return { counter: String(Number(current.counter ?? '0') + 1) };
    });
    expect(seen).toHaveLength(2);
    expect(seen[0]!.intruder).toBeUndefined();
    expect(seen[1]!.intruder).toBe('was-here'); // the retry saw the other write
    expect(result.metadata?.annotations).toMatchObject({ intruder: 'was-here', counter: '1' });
  });

  it('parallel increments under contention all land (no lost update)', async () => {
    await patchAnnotations(clients, pod, { counter: '0' });
    let computeCalls = 0;
    const writers = 6;
    await Promise.all(
      Array.from({ length: writers }, () =>
        mutateAnnotations(
          clients,
          pod,
          (current) => {
            computeCalls++;
            return { counter: String(Number(current.counter) + 1) };
          },
          { maxConflictRetries: 50 },
        ),
      ),
    );
    expect((await annotationsOf(pod)).counter).toBe(String(writers));
    expect(computeCalls).toBeGreaterThanOrEqual(writers);
  });

  it('gives up with KUBE_CONFLICT after maxConflictRetries', async () => {
    let calls = 0;
    await expectRejectCode(
      mutateAnnotations(
        clients,
        pod,
        async () => {
          calls++;
          await patchAnnotations(clients, pod, { spoiler: String(calls) }); // always changes it under us
          return { never: 'lands' };
        },
        { maxConflictRetries: 2 },
      ),
      'KUBE_CONFLICT',
    );
    expect(calls).toBe(3);
    expect((await annotationsOf(pod)).never).toBeUndefined();
  });
});

describe('custom objects (kubeovn.io CRDs installed by the local cluster)', () => {
  const subnet: CustomObjectRef = { group: 'kubeovn.io', version: 'v1', plural: 'subnets', name: 'patch-subnet' };

  beforeAll(async () => {
    await clients.customObjects.createClusterCustomObject({
      group: 'kubeovn.io', version: 'v1', plural: 'subnets',
      body: { apiVersion: 'kubeovn.io/v1', kind: 'Subnet', metadata: { name: 'patch-subnet' }, spec: { cidrBlock: '10.66.0.0/16', gateway: '10.66.0.1', protocol: 'IPv4' } },
    });
  });

  it('annotations of a cluster-scoped CR, with null delete', async () => {
    await patchAnnotations(clients, subnet, { a: '1', b: '2' });
    const patched = await patchAnnotations(clients, subnet, { a: null });
    expect(patched.metadata?.annotations).toEqual({ b: '2' });
  });

  it('status subresource merge patch leaves the spec alone; a spec change via status is ignored', async () => {
    const patched = await patchStatus(clients, subnet, { v4availableIPs: 65533, v4usingIPs: 0 });
    expect(patched.status).toMatchObject({ v4availableIPs: 65533, v4usingIPs: 0 });
    await patchStatus(clients, subnet, { v4usingIPs: 1 });
    const read = (await clients.customObjects.getClusterCustomObject({ group: 'kubeovn.io', version: 'v1', plural: 'subnets', name: 'patch-subnet' })) as {
      spec: { cidrBlock: string };
      status: { v4availableIPs: number; v4usingIPs: number };
    };
    expect(read.status).toMatchObject({ v4availableIPs: 65533, v4usingIPs: 1 });
    expect(read.spec.cidrBlock).toBe('10.66.0.0/16');
  });

  it('status patch with a stale resourceVersion is refused with 409', async () => {
    const read = (await clients.customObjects.getClusterCustomObject({ group: 'kubeovn.io', version: 'v1', plural: 'subnets', name: 'patch-subnet' })) as {
      metadata: { resourceVersion: string };
    };
    await patchStatus(clients, subnet, { v4usingIPs: 2 });
    await expectRejectCode(patchStatus(clients, subnet, { v4usingIPs: 3 }, { resourceVersion: read.metadata.resourceVersion }), 'KUBE_CONFLICT');
  });

  it('annotations of a namespaced CR (NetworkAttachmentDefinition)', async () => {
    await clients.customObjects.createNamespacedCustomObject({
      group: 'k8s.cni.cncf.io', version: 'v1', plural: 'network-attachment-definitions', namespace: ns,
      body: { apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'nad1' }, spec: { config: '{}' } },
    });
    const nad: CustomObjectRef = { group: 'k8s.cni.cncf.io', version: 'v1', plural: 'network-attachment-definitions', namespace: ns, name: 'nad1' };
    const patched = await patchAnnotations(clients, nad, { 'ovn.kubernetes.io/logical_switch': 'sw1' });
    expect(patched.metadata?.annotations).toEqual({ 'ovn.kubernetes.io/logical_switch': 'sw1' });
  });
});
