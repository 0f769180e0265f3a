import { describe, expect, it } from 'vitest';
import { trimPod, trimToMetadata } from '../../src/kube/watch-transforms.ts';
import type { KubeObject } from '../../src/kube/watch-types.ts';

const fullPod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web-0',
    namespace: 'shop',
    uid: 'u-1',
    resourceVersion: '42',
    generation: 1,
    labels: { app: 'web' },
    annotations: { 'ovn.kubernetes.io/allocated': 'true', 'ovn.kubernetes.io/ip_address': '10.16.0.5' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'sts-1', controller: true }],
    deletionTimestamp: '2026-11-26T09:00:00Z',
    finalizers: ['x/y'],
    managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:spec': {} } }],
    creationTimestamp: '2026-11-26T08:00:00Z',
  },
  spec: { nodeName: 'node-1', hostNetwork: false, containers: [{ name: 'c', image: 'nginx', env: [{ name: 'A', value: 'B' }] }], volumes: [{ name: 'v' }] },
  status: { phase: 'Running', podIP: '10.16.0.5', podIPs: [{ ip: '10.16.0.5' }, { ip: 'fd00::5' }, { nope: 1 }], conditions: [{ type: 'Ready', status: 'True' }] },
};

describe('trimPod', () => {
  it('keeps what the IPAM controller reads and drops the rest', () => {
    const t = trimPod(fullPod);
    expect(t).toEqual({
      metadata: {
        name: 'web-0',
        namespace: 'shop',
        uid: 'u-1',
        resourceVersion: '42',
        generation: 1,
        labels: { app: 'web' },
        annotations: { 'ovn.kubernetes.io/allocated': 'true', 'ovn.kubernetes.io/ip_address': '10.16.0.5' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'sts-1', controller: true }],
        deletionTimestamp: '2026-11-26T09:00:00Z',
        finalizers: ['x/y'],
      },
      spec: { nodeName: 'node-1', hostNetwork: false },
      status: { phase: 'Running', podIP: '10.16.0.5', podIPs: [{ ip: '10.16.0.5' }, { ip: 'fd00::5' }] },
    });
  });

  it('copes with a pod that has no spec or status yet, or odd field types', () => {
    const bare = trimPod({ metadata: { name: 'p', namespace: 'n', resourceVersion: '1' } });
    expect(bare).toEqual({ metadata: { name: 'p', namespace: 'n', resourceVersion: '1' }, spec: {}, status: {} });
    const odd = trimPod({ metadata: { name: 'p', namespace: 'n', resourceVersion: '1' }, spec: { nodeName: 7 }, status: { podIPs: 'x' } });
    expect(odd.spec).toEqual({});
    expect(odd.status).toEqual({});
  });
});

describe('trimToMetadata', () => {
  it('keeps only metadata, without managedFields', () => {
    const t = trimToMetadata(fullPod);
    expect(Object.keys(t)).toEqual(['metadata']);
    expect(t.metadata.managedFields).toBeUndefined();
    expect(t.metadata.name).toBe('web-0');
  });
});
