// The informer's cache: objects by key (`ns/name`, or `name` when cluster-scoped) plus secondary
// indexes, and the diff a relist produces against it. Pure data structure: no I/O, no timers.
import { objectKey } from './watch-types.ts';
import type { KubeObject } from './watch-types.ts';

/** Values an object is filed under in one index. Return [] to leave it out of the index. */
export type IndexFunc<T extends KubeObject> = (obj: T) => readonly string[];

export const NAMESPACE_INDEX = 'namespace';
export const NODE_INDEX = 'node';
export const OWNER_INDEX = 'owner';

export function namespaceIndexFunc(obj: KubeObject): readonly string[] {
  const ns = obj.metadata.namespace;
  return ns ? [ns] : [];
}

/** Pods (and anything else with spec.nodeName) by the node they run on. */
export function nodeIndexFunc(obj: KubeObject): readonly string[] {
  const spec = obj.spec as { nodeName?: unknown } | undefined;
  const node = spec?.nodeName;
  return typeof node === 'string' && node !== '' ? [node] : [];
}

/** Objects by the uid of each owner in metadata.ownerReferences. */
export function ownerIndexFunc(obj: KubeObject): readonly string[] {
  const refs = obj.metadata.ownerReferences;
  if (!Array.isArray(refs)) return [];
  const uids: string[] = [];
  for (const ref of refs) {
    const uid = (ref as { uid?: unknown } | null)?.uid;
    if (typeof uid === 'string' && uid !== '') uids.push(uid);
  }
  return uids;
}

export const standardIndexers: Record<string, IndexFunc<KubeObject>> = {
  [NAMESPACE_INDEX]: namespaceIndexFunc,
  [NODE_INDEX]: nodeIndexFunc,
  [OWNER_INDEX]: ownerIndexFunc,
};

/**
 * Delivered to onDelete when the object vanished while we were not watching (found missing by a
 * relist): `obj` is the last state we saw, not the state at deletion (client-go's DeletedFinalStateUnknown).
 */
export class DeletedFinalStateUnknown<T> {
  readonly key: string;
  readonly obj: T;

  constructor(key: string, obj: T) {
    this.key = key;
    this.obj = obj;
  }
}

export function unwrapTombstone<T>(value: T | DeletedFinalStateUnknown<T>): T {
  return value instanceof DeletedFinalStateUnknown ? value.obj : value;
}

export interface ReplaceDiff<T> {
  added: T[];
  /** Objects whose resourceVersion changed. Unchanged objects produce nothing. */
  updated: { old: T; obj: T }[];
  /** Last known state of every object the new list no longer has. */
  deleted: T[];
}

export interface StoreOptions<T extends KubeObject> {
  indexers?: Record<string, IndexFunc<T>>;
  /** Called when an index function throws; the object stays stored, just not indexed under that index. */
  onIndexError?: (indexName: string, key: string, err: unknown) => void;
}

export class Store<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  /** index name → index value → keys */
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  /** index name → key → values it was filed under (so removal never depends on re-running the index function) */
  private readonly filed = new Map<string, Map<string, readonly string[]>>();
  private readonly onIndexError: ((indexName: string, key: string, err: unknown) => void) | undefined;

  constructor(options: StoreOptions<T> = {}) {
    this.onIndexError = options.onIndexError;
    if (options.indexers) this.addIndexers(options.indexers);
  }

  get size(): number {
    return this.items.size;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  getByName(namespace: string | undefined, name: string): T | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  list(): T[] {
    return [...this.items.values()];
  }

  /** Iterates without copying; do not mutate the store while iterating. */
  entries(): IterableIterator<[string, T]> {
    return this.items.entries();
  }

  indexNames(): string[] {
    return [...this.indexers.keys()];
  }

  /** Adds index functions; existing objects are indexed at once. Re-registering a name is an error. */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.indexers.has(name)) throw new Error(`index "${name}" already registered`);
      this.indexers.set(name, fn);
      this.indices.set(name, new Map());
      this.filed.set(name, new Map());
      for (const [key, obj] of this.items) this.fileUnder(name, fn, key, obj);
    }
  }

  /** Keys filed under `value` in index `indexName`. */
  indexKeys(indexName: string, value: string): string[] {
    const index = this.requireIndex(indexName);
    const keys = index.get(value);
    return keys ? [...keys] : [];
  }

  byIndex(indexName: string, value: string): T[] {
    const index = this.requireIndex(indexName);
    const keys = index.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const key of keys) {
      const obj = this.items.get(key);
      if (obj !== undefined) out.push(obj);
    }
    return out;
  }

  /** Every value that currently has at least one object in the index. */
  indexValues(indexName: string): string[] {
    return [...this.requireIndex(indexName).keys()];
  }

  /** Inserts or replaces; returns the previous object under the same key. */
  upsert(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.items.get(key);
    if (old !== undefined) this.unindex(key);
    this.items.set(key, obj);
    this.index(key, obj);
    return old;
  }

  /** Removes by key; returns what was stored. */
  delete(key: string): T | undefined {
    const old = this.items.get(key);
    if (old === undefined) return undefined;
    this.unindex(key);
    this.items.delete(key);
    return old;
  }

  /**
   * Makes the store equal to `next` (a fresh LIST, keyed) and returns what changed. An object counts
   * as updated only if its resourceVersion differs; the stored copy is still replaced by the listed one.
   */
  replace(next: Map<string, T>): ReplaceDiff<T> {
    const diff: ReplaceDiff<T> = { added: [], updated: [], deleted: [] };
    for (const [key, old] of this.items) {
      if (!next.has(key)) diff.deleted.push(old);
    }
    for (const old of diff.deleted) this.delete(objectKey(old));
    for (const [key, obj] of next) {
      const old = this.items.get(key);
      if (old === undefined) diff.added.push(obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) diff.updated.push({ old, obj });
      if (old !== undefined) this.unindex(key);
      this.items.set(key, obj);
      this.index(key, obj);
    }
    return diff;
  }

  private requireIndex(indexName: string): Map<string, Set<string>> {
    const index = this.indices.get(indexName);
    if (!index) throw new Error(`no index named "${indexName}" (have: ${this.indexNames().join(', ') || 'none'})`);
    return index;
  }

  private valuesFor(name: string, fn: IndexFunc<T>, key: string, obj: T): readonly string[] {
    try {
      const values = fn(obj);
      return Array.isArray(values) ? values : [];
    } catch (err) {
      this.onIndexError?.(name, key, err);
      return [];
    }
  }

  private fileUnder(name: string, fn: IndexFunc<T>, key: string, obj: T): void {
    const values = this.valuesFor(name, fn, key, obj);
    if (values.length === 0) return;
    const index = this.indices.get(name)!;
    for (const value of values) {
      let keys = index.get(value);
      if (!keys) {
        keys = new Set();
        index.set(value, keys);
      }
      keys.add(key);
    }
    this.filed.get(name)!.set(key, [...values]);
  }

  private index(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) this.fileUnder(name, fn, key, obj);
  }

  private unindex(key: string): void {
    for (const name of this.indexers.keys()) {
      const filedForIndex = this.filed.get(name)!;
      const values = filedForIndex.get(key);
      if (values === undefined) continue;
      filedForIndex.delete(key);
      const index = this.indices.get(name)!;
      for (const value of values) {
        const keys = index.get(value);
        if (!keys) continue;
        keys.delete(key);
        if (keys.size === 0) index.delete(value);
      }
    }
  }
}
