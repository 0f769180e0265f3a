// The in-memory state of the NB monitor cache: rows per table, decoded by the server's schema,
// plus the indexes the typed operations need (name, an external_ids key, parent references).
// Pure: no I/O, so it is unit-tested on its own; cache.ts connects it to a live monitor.
import {
  type DatabaseShapes,
  type DecodedRow,
  ModelError,
  type NbRowTypes,
  type TableShapes,
  type PlainAtom,
  applyColumnDiff,
  decodeRow,
  setElements,
} from './model.ts';
import type { Row, RowUpdate2, TableUpdates2 } from './protocol.ts';

export type ChangeKind = 'insert' | 'update' | 'delete';

export interface CacheChange {
  table: string;
  uuid: string;
  kind: ChangeKind;
  /** The row after the change (absent for delete). */
  row: DecodedRow | undefined;
  /**
   * The row before the change (absent for insert). Its followed reference columns (switch and
   * port-group ports, router ports/policies/static_routes) are shared with `row`: see `refs`.
   */
  old: DecodedRow | undefined;
  /** For an update: what each followed reference column gained and lost. */
  refs?: RefDelta[];
}

export interface RefDelta {
  column: string;
  added: string[];
  removed: string[];
}

/** A parent row holding a child's uuid in one of its reference columns. */
export interface ParentRef {
  table: string;
  column: string;
  uuid: string;
}

/** Reference columns followed for `parentsOf` (child → parent). */
export const DEFAULT_PARENT_COLUMNS: ReadonlyArray<readonly [table: string, column: string]> = [
  ['Logical_Switch', 'ports'],
  ['Logical_Router', 'ports'],
  ['Logical_Router', 'policies'],
  ['Logical_Router', 'static_routes'],
  ['Port_Group', 'ports'],
];

export interface CacheStoreOptions {
  /** Tables to hold; updates for other tables are ignored. */
  tables: readonly string[];
  /** external_ids keys indexed in every table that has external_ids. Default ['pod']. */
  externalIdKeys?: readonly string[];
  parentColumns?: ReadonlyArray<readonly [string, string]>;
}

type RowOf<T extends string> = T extends keyof NbRowTypes ? NbRowTypes[T] : DecodedRow;

export class CacheStore {
  private readonly shapes: DatabaseShapes;
  private readonly tables = new Map<string, Map<string, DecodedRow>>();
  private readonly nameIndex = new Map<string, MultiIndex>();
  private readonly extIdIndex = new Map<string, Map<string, MultiIndex>>();
  private readonly parentIndex = new Map<string, ParentRef[]>();
  private readonly externalIdKeys: readonly string[];
  private readonly parentColumns: Map<string, string[]>;

  constructor(shapes: DatabaseShapes, opts: CacheStoreOptions) {
    this.shapes = shapes;
    this.externalIdKeys = opts.externalIdKeys ?? ['pod'];
    this.parentColumns = new Map();
    for (const [table, column] of opts.parentColumns ?? DEFAULT_PARENT_COLUMNS) {
      if (!shapes.get(table)?.has(column)) continue;
      const cols = this.parentColumns.get(table) ?? [];
      cols.push(column);
      this.parentColumns.set(table, cols);
    }
    for (const table of opts.tables) {
      if (!shapes.has(table)) throw new ModelError('CACHE_UNKNOWN_TABLE', `table ${table} is not in the server's schema`, table);
      this.tables.set(table, new Map());
      this.nameIndex.set(table, new Map());
      this.extIdIndex.set(table, new Map(this.externalIdKeys.map((k) => [k, new Map()])));
    }
  }

  get tableNames(): string[] {
    return [...this.tables.keys()];
  }

  shapesOf(table: string): TableShapes {
    const s = this.shapes.get(table);
    if (!s) throw new ModelError('CACHE_UNKNOWN_TABLE', `table ${table} is not in the server's schema`, table);
    return s;
  }

  /** Applies one update2/update3 notification (or the initial rows of monitor_cond). */
  apply(updates: TableUpdates2): CacheChange[] {
    const changes: CacheChange[] = [];
    for (const [table, rows] of Object.entries(updates)) {
      const store = this.tables.get(table);
      if (!store) continue;
      const shapes = this.shapesOf(table);
      for (const [uuid, update] of Object.entries(rows)) {
        const change = this.applyRow(table, store, shapes, uuid, update);
        if (change) changes.push(change);
      }
    }
    return changes;
  }

  /**
   * Replaces the whole contents with a fresh snapshot (after a reconnect the server could not
   * resume) and returns only the differences, so listeners see what really changed meanwhile.
   */
  replaceAll(snapshot: TableUpdates2): CacheChange[] {
    const changes: CacheChange[] = [];
    for (const [table, store] of this.tables) {
      const shapes = this.shapesOf(table);
      const incoming = snapshot[table] ?? {};
      const fresh = new Map<string, DecodedRow>();
      for (const [uuid, update] of Object.entries(incoming)) {
        const row = wireRowOf(update);
        if (row) fresh.set(uuid, decodeRow(shapes, uuid, row, table));
      }
      for (const [uuid, old] of [...store]) {
        if (fresh.has(uuid)) continue;
        this.remove(table, store, old);
        changes.push({ table, uuid, kind: 'delete', row: undefined, old });
      }
      for (const [uuid, row] of fresh) {
        const old = store.get(uuid);
        if (old && sameRow(old, row)) continue;
        if (old) this.remove(table, store, old);
        this.add(table, store, row);
        changes.push({ table, uuid, kind: old ? 'update' : 'insert', row, old });
      }
    }
    return changes;
  }

  clear(): void {
    for (const [table, store] of this.tables) for (const row of [...store.values()]) this.remove(table, store, row);
  }

  private applyRow(table: string, store: Map<string, DecodedRow>, shapes: TableShapes, uuid: string, update: RowUpdate2): CacheChange | undefined {
    if ('delete' in update) {
      const old = store.get(uuid);
      if (!old) return undefined;
      this.remove(table, store, old);
      return { table, uuid, kind: 'delete', row: undefined, old };
    }
    if ('modify' in update) {
      const old = store.get(uuid);
      if (!old) throw new ModelError('CACHE_MODIFY_UNKNOWN_ROW', `modify of ${table} row ${uuid} that the cache does not hold`, table);
      const row: DecodedRow = { ...old };
      const parentCols = this.parentColumns.get(table);
      let refs: RefDelta[] | undefined;
      for (const [col, diff] of Object.entries(update.modify)) {
        const shape = shapes.get(col);
        if (!shape) continue;
        if (shape.kind === 'set' && parentCols?.includes(col)) {
          // Followed reference columns are updated in place and the parent index by the delta only:
          // copying a switch's 10k-port array on every port change made sequential writes O(n).
          // `old` shares this array; the change's `refs` says what was added and removed.
          let arr = old[col] as string[];
          if (Object.isFrozen(arr)) arr = arr.slice(); // the shared empty default
          const added: string[] = [];
          const removed: string[] = [];
          // membership from the parent index: O(1) per element, no pass over a 10k-port array
          for (const el of setElements(diff)) {
            const child = String(el);
            (this.hasParent(child, table, col, uuid) ? removed : added).push(child);
          }
          removeAll(arr, removed);
          for (const child of added) arr.push(child);
          row[col] = arr;
          for (const child of removed) this.unlinkParent(child, table, col, uuid);
          for (const child of added) this.linkParent(child, { table, column: col, uuid });
          (refs ??= []).push({ column: col, added, removed });
        } else {
          row[col] = applyColumnDiff(shape, old[col], diff, table, col);
        }
      }
      store.set(uuid, row);
      if (row.name !== old.name) {
        if (typeof old.name === 'string') removeFrom(this.nameIndex.get(table)!, old.name, uuid);
        if (typeof row.name === 'string') addTo(this.nameIndex.get(table)!, row.name, uuid);
      }
      if (row.external_ids !== old.external_ids) {
        this.indexExternalIds(table, old, false);
        this.indexExternalIds(table, row, true);
      }
      return refs ? { table, uuid, kind: 'update', row, old, refs } : { table, uuid, kind: 'update', row, old };
    }
    const wire = wireRowOf(update);
    if (!wire) return undefined;
    const row = decodeRow(shapes, uuid, wire, table);
    const old = store.get(uuid);
    if (old) this.remove(table, store, old);
    this.add(table, store, row);
    return { table, uuid, kind: old ? 'update' : 'insert', row, old };
  }

  private add(table: string, store: Map<string, DecodedRow>, row: DecodedRow): void {
    store.set(row._uuid, row);
    if (typeof row.name === 'string') addTo(this.nameIndex.get(table)!, row.name, row._uuid);
    this.indexExternalIds(table, row, true);
    for (const column of this.parentColumns.get(table) ?? []) {
      for (const child of (row[column] as string[] | undefined) ?? []) this.linkParent(child, { table, column, uuid: row._uuid });
    }
  }

  private remove(table: string, store: Map<string, DecodedRow>, row: DecodedRow): void {
    store.delete(row._uuid);
    if (typeof row.name === 'string') removeFrom(this.nameIndex.get(table)!, row.name, row._uuid);
    this.indexExternalIds(table, row, false);
    for (const column of this.parentColumns.get(table) ?? []) {
      for (const child of (row[column] as string[] | undefined) ?? []) this.unlinkParent(child, table, column, row._uuid);
    }
  }

  private indexExternalIds(table: string, row: DecodedRow, present: boolean): void {
    const ext = row.external_ids as Record<string, string> | undefined;
    if (!ext) return;
    const byKey = this.extIdIndex.get(table)!;
    for (const key of this.externalIdKeys) {
      const v = ext[key];
      if (v === undefined) continue;
      if (present) addTo(byKey.get(key)!, v, row._uuid);
      else removeFrom(byKey.get(key)!, v, row._uuid);
    }
  }

  private linkParent(child: string, ref: ParentRef): void {
    const refs = this.parentIndex.get(child);
    if (refs) refs.push(ref);
    else this.parentIndex.set(child, [ref]);
  }

  private hasParent(child: string, table: string, column: string, parent: string): boolean {
    const refs = this.parentIndex.get(child);
    if (!refs) return false;
    for (const r of refs) if (r.uuid === parent && r.column === column && r.table === table) return true;
    return false;
  }

  private unlinkParent(child: string, table: string, column: string, parent: string): void {
    const refs = this.parentIndex.get(child);
    if (!refs) return;
    const i = refs.findIndex((r) => r.uuid === parent && r.column === column && r.table === table);
    if (i < 0) return;
    if (refs.length === 1) this.parentIndex.delete(child);
    else refs.splice(i, 1);
  }

  // ------------------------------------------------------------------ queries

  get<T extends string>(table: T, uuid: string): RowOf<T> | undefined {
    return this.tables.get(table)?.get(uuid) as RowOf<T> | undefined;
  }

  rows<T extends string>(table: T): RowOf<T>[] {
    return [...(this.tables.get(table)?.values() ?? [])] as RowOf<T>[];
  }

  count(table: string): number {
    return this.tables.get(table)?.size ?? 0;
  }

  /** Rows with this name (Logical_Switch and Logical_Router names are not unique in the schema). */
  byName<T extends string>(table: T, name: string): RowOf<T>[] {
    const uuids = this.nameIndex.get(table)?.get(name);
    if (uuids === undefined) return [];
    return uuidList(uuids).map((u) => this.tables.get(table)!.get(u)) as RowOf<T>[];
  }

  firstByName<T extends string>(table: T, name: string): RowOf<T> | undefined {
    const uuids = this.nameIndex.get(table)?.get(name);
    if (uuids === undefined) return undefined;
    return this.tables.get(table)!.get(typeof uuids === 'string' ? uuids : uuids.values().next().value!) as RowOf<T>;
  }

  /** Rows whose external_ids[key] equals value; key must be one of the indexed keys. */
  byExternalId<T extends string>(table: T, key: string, value: string): RowOf<T>[] {
    const byKey = this.extIdIndex.get(table)?.get(key);
    if (!byKey) {
      if (!this.tables.has(table)) throw new ModelError('CACHE_UNKNOWN_TABLE', `table ${table} is not cached`, table);
      throw new ModelError('CACHE_NOT_INDEXED', `external_ids key ${key} is not indexed (indexed: ${this.externalIdKeys.join(', ')})`, table, 'external_ids');
    }
    const uuids = byKey.get(value);
    if (uuids === undefined) return [];
    return uuidList(uuids).map((u) => this.tables.get(table)!.get(u)) as RowOf<T>[];
  }

  /** Rows referencing `childUuid` in a followed column, optionally only from one table/column. */
  parentsOf(childUuid: string, table?: string, column?: string): ParentRef[] {
    const refs = this.parentIndex.get(childUuid);
    if (!refs) return [];
    return refs.filter((r) => (table === undefined || r.table === table) && (column === undefined || r.column === column)).map((r) => ({ ...r }));
  }
}

function wireRowOf(update: RowUpdate2): Row | undefined {
  if ('initial' in update) return update.initial;
  if ('insert' in update) return update.insert;
  return undefined;
}

/** key → one uuid (the usual case: no Set allocated per name) or several. */
type MultiIndex = Map<string, string | Set<string>>;

function addTo(index: MultiIndex, key: string, uuid: string): void {
  const cur = index.get(key);
  if (cur === undefined) index.set(key, uuid);
  else if (typeof cur === 'string') {
    if (cur !== uuid) index.set(key, new Set([cur, uuid]));
  } else cur.add(uuid);
}

function removeFrom(index: MultiIndex, key: string, uuid: string): void {
  const cur = index.get(key);
  if (cur === undefined) return;
  if (typeof cur === 'string') {
    if (cur === uuid) index.delete(key);
    return;
  }
  cur.delete(uuid);
  if (cur.size === 1) index.set(key, cur.values().next().value!);
  else if (cur.size === 0) index.delete(key);
}

function uuidList(v: string | Set<string>): string[] {
  return typeof v === 'string' ? [v] : [...v];
}

/** Removes `gone` from `arr` in place (order not kept for a few, kept for many). */
function removeAll(arr: string[], gone: string[]): void {
  if (gone.length === 0) return;
  if (gone.length <= 16) {
    for (const g of gone) {
      const i = arr.indexOf(g);
      if (i < 0) continue;
      arr[i] = arr[arr.length - 1]!;
      arr.pop();
    }
    return;
  }
  const set = new Set(gone);
  let w = 0;
  for (let r = 0; r < arr.length; r++) if (!set.has(arr[r]!)) arr[w++] = arr[r]!;
  arr.length = w;
}

function sameRow(a: DecodedRow, b: DecodedRow): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) if (!sameDecoded(a[k], b[k])) return false;
  return true;
}

function sameDecoded(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    const sb = new Set(b);
    return a.every((x) => sb.has(x));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => (a as Record<string, unknown>)[k] === (b as Record<string, unknown>)[k]);
  }
  return false;
}
