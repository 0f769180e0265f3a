import { describe, expect, it } from 'vitest';
import {
  DeletedFinalStateUnknown,
  NAMESPACE_INDEX,
  NODE_INDEX,
  OWNER_INDEX,
  Store,
  standardIndexers,
  unwrapTombstone,
} from '../../src/kube/store.ts';
import { objectKey } from '../../src/kube/watch-types.ts';
import type { KubeObject } from '../../src/kube/watch-types.ts';

function pod(ns: string, name: string, rv: string, extra: { node?: string; owners?: string[]; labels?: Record<string, string> } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      resourceVersion: rv,
      ...(extra.labels ? { labels: extra.labels } : {}),
      ...(extra.owners ? { ownerReferences: extra.owners.map((uid) => ({ uid, kind: 'ReplicaSet', name: `rs-${uid}` })) } : {}),
    },
    spec: extra.node ? { nodeName: extra.node } : {},
  };
}

function keyed(objs: KubeObject[]): Map<string, KubeObject> {
  return new Map(objs.map((o) => [objectKey(o), o]));
}

describe('objectKey', () => {
  it('is ns/name for namespaced objects and name for cluster-scoped ones', () => {
    expect(objectKey(pod('a', 'p', '1'))).toBe('a/p');
    expect(objectKey({ metadata: { name: 'ovn-default', resourceVersion: '3' } })).toBe('ovn-default');
  });
});

describe('Store', () => {
  it('upserts, gets by key and by name, deletes', () => {
    const store = new Store<KubeObject>();
    expect(store.upsert(pod('a', 'p1', '1'))).toBeUndefined();
    const old = store.upsert(pod('a', 'p1', '2'));
    expect(old?.metadata.resourceVersion).toBe('1');
    expect(store.get('a/p1')?.metadata.resourceVersion).toBe('2');
    expect(store.getByName('a', 'p1')?.metadata.resourceVersion).toBe('2');
    expect(store.size).toBe(1);
    expect(store.delete('a/p1')?.metadata.resourceVersion).toBe('2');
    expect(store.delete('a/p1')).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('indexes by namespace, node and owner uid, and follows updates and deletes', () => {
    const store = new Store<KubeObject>({ indexers: standardIndexers });
    store.upsert(pod('a', 'p1', '1', { node: 'n1', owners: ['u1'] }));
    store.upsert(pod('a', 'p2', '1', { node: 'n2', owners: ['u1', 'u2'] }));
    store.upsert(pod('b', 'p3', '1'));
    expect(store.indexKeys(NAMESPACE_INDEX, 'a').sort()).toEqual(['a/p1', 'a/p2']);
    expect(store.indexKeys(NODE_INDEX, 'n1')).toEqual(['a/p1']);
    expect(store.indexKeys(NODE_INDEX, 'n2')).toEqual(['a/p2']);
    expect(store.byIndex(OWNER_INDEX, 'u1').map(objectKey).sort()).toEqual(['a/p1', 'a/p2']);
    expect(store.byIndex(OWNER_INDEX, 'u2').map(objectKey)).toEqual(['a/p2']);
    // Unscheduled pods are in no node bucket.
    expect(store.indexValues(NODE_INDEX).sort()).toEqual(['n1', 'n2']);

    // Moving p1 to n2 removes it from n1's bucket; emptied buckets disappear.
    store.upsert(pod('a', 'p1', '2', { node: 'n2' }));
    expect(store.indexKeys(NODE_INDEX, 'n1')).toEqual([]);
    expect(store.indexValues(NODE_INDEX)).toEqual(['n2']);
    expect(store.indexKeys(OWNER_INDEX, 'u1')).toEqual(['a/p2']);

    store.delete('a/p2');
    expect(store.indexKeys(OWNER_INDEX, 'u1')).toEqual([]);
    expect(store.indexKeys(NODE_INDEX, 'n2')).toEqual(['a/p1']);
  });

  it('supports custom indexers, including ones added after data is present', () => {
    const store = new Store<KubeObject>();
    store.upsert(pod('a', 'p1', '1', { labels: { app: 'web' } }));
    store.upsert(pod('a', 'p2', '1', { labels: { app: 'db' } }));
    store.addIndexers({ app: (o) => (o.metadata.labels?.app ? [o.metadata.labels.app] : []) });
    expect(store.indexKeys('app', 'web')).toEqual(['a/p1']);
    store.upsert(pod('a', 'p3', '1', { labels: { app: 'web' } }));
    expect(store.indexKeys('app', 'web').sort()).toEqual(['a/p1', 'a/p3']);
    expect(() => store.addIndexers({ app: () => [] })).toThrow(/already registered/);
    expect(() => store.byIndex('nope', 'x')).toThrow(/no index named "nope"/);
  });

  it('removes stale index entries even if the cached object was mutated in place', () => {
    const store = new Store<KubeObject>({ indexers: standardIndexers });
    const p = pod('a', 'p1', '1', { node: 'n1' });
    store.upsert(p);
    (p.spec as { nodeName: string }).nodeName = 'n9'; // a handler breaking the read-only rule
    store.delete('a/p1');
    expect(store.indexValues(NODE_INDEX)).toEqual([]);
  });

  it('keeps an object whose index function throws, reports it, and leaves it out of that index', () => {
    const errors: string[] = [];
    const store = new Store<KubeObject>({
      indexers: {
        fragile: (o) => {
          if (o.metadata.name === 'bad') throw new Error('boom');
          return [o.metadata.name];
        },
      },
      onIndexError: (index, key) => errors.push(`${index}:${key}`),
    });
    store.upsert(pod('a', 'bad', '1'));
    store.upsert(pod('a', 'good', '1'));
    expect(store.size).toBe(2);
    expect(store.indexValues('fragile')).toEqual(['good']);
    expect(errors).toEqual(['fragile:a/bad']);
  });

  describe('replace (relist diff)', () => {
    it('reports added, changed-resourceVersion and vanished objects, and nothing for unchanged ones', () => {
      const store = new Store<KubeObject>({ indexers: standardIndexers });
      store.replace(keyed([pod('a', 'keep', '1'), pod('a', 'change', '1', { node: 'n1' }), pod('a', 'gone', '1', { node: 'n1' })]));
      const diff = store.replace(keyed([pod('a', 'keep', '1'), pod('a', 'change', '5', { node: 'n2' }), pod('a', 'new', '6')]));
      expect(diff.added.map(objectKey)).toEqual(['a/new']);
      expect(diff.updated.map((u) => [objectKey(u.old), u.old.metadata.resourceVersion, u.obj.metadata.resourceVersion])).toEqual([['a/change', '1', '5']]);
      expect(diff.deleted.map(objectKey)).toEqual(['a/gone']);
      expect(store.keys().sort()).toEqual(['a/change', 'a/keep', 'a/new']);
      expect(store.indexKeys(NODE_INDEX, 'n1')).toEqual([]);
      expect(store.indexKeys(NODE_INDEX, 'n2')).toEqual(['a/change']);
    });

    it('treats everything as added on an empty store and everything as deleted on an empty list', () => {
      const store = new Store<KubeObject>();
      expect(store.replace(keyed([pod('a', 'x', '1'), pod('b', 'x', '1')])).added).toHaveLength(2);
      const diff = store.replace(new Map());
      expect(diff.deleted.map(objectKey).sort()).toEqual(['a/x', 'b/x']);
      expect(store.size).toBe(0);
    });

    it('handles a large relist in linear time (no O(n²) array scans)', () => {
      const store = new Store<KubeObject>({ indexers: standardIndexers });
      const n = 50_000;
      const first: KubeObject[] = [];
      for (let i = 0; i < n; i++) first.push(pod(`ns${i % 50}`, `p${i}`, '1', { node: `n${i % 100}` }));
      const t0 = performance.now();
      store.replace(keyed(first));
      const second = first.filter((_, i) => i % 10 !== 0).map((p, i) => (i % 7 === 0 ? pod(p.metadata.namespace!, p.metadata.name, '2') : p));
      const diff = store.replace(keyed(second));
      const elapsed = performance.now() - t0;
      expect(diff.deleted).toHaveLength(n / 10);
      expect(diff.updated.length).toBe(Math.ceil(second.length / 7));
      expect(store.size).toBe(second.length);
      // 100k upserts with three indexes: well under a second when linear; the bound is loose for a loaded machine.
      expect(elapsed).toBeLessThan(15_000);
    });
  });
});

describe('tombstones', () => {
  it('unwrapTombstone returns the last known object', () => {
    const p = pod('a', 'p', '1');
    const tomb = new DeletedFinalStateUnknown('a/p', p);
    expect(unwrapTombstone(tomb)).toBe(p);
    expect(unwrapTombstone(p)).toBe(p);
    expect(tomb.key).toBe('a/p');
  });
});
