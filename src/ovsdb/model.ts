// Typed rows of the eight OVN Northbound tables ovnkit reads and writes, and the conversion
// between OVSDB wire values and plain TS values.
//
// Decoding is driven by the server's schema (not a hard-coded copy), because the server decides
// the shape: a column of type {min:0,max:1} travels as a one-element-or-empty set, a one-element
// set travels as a bare atom, and maps always travel as ["map", ...]. Rows from update2 "initial"
// and "insert" omit columns that hold their default value, so decoding also fills the defaults.
import type { Atom, OvsdbMap, OvsdbSet, Row, Value } from './protocol.ts';

export const NB_DATABASE = 'OVN_Northbound';

export const NB_TABLES = [
  'Logical_Switch',
  'Logical_Switch_Port',
  'Logical_Router',
  'Logical_Router_Port',
  'Logical_Router_Policy',
  'Logical_Router_Static_Route',
  'Port_Group',
  'NB_Global',
] as const;
export type NbTable = (typeof NB_TABLES)[number];

export type StringMap = Record<string, string>;

interface RowIdentity {
  /** The row's `_uuid`. */
  _uuid: string;
}

export interface LogicalSwitch extends RowIdentity {
  name: string;
  ports: string[];
  acls: string[];
  qos_rules: string[];
  load_balancer: string[];
  load_balancer_group: string[];
  dns_records: string[];
  forwarding_groups: string[];
  copp: string | undefined;
  other_config: StringMap;
  external_ids: StringMap;
}

export interface LogicalSwitchPort extends RowIdentity {
  name: string;
  type: string;
  options: StringMap;
  parent_name: string | undefined;
  tag_request: number | undefined;
  tag: number | undefined;
  addresses: string[];
  dynamic_addresses: string | undefined;
  port_security: string[];
  up: boolean | undefined;
  enabled: boolean | undefined;
  dhcpv4_options: string | undefined;
  dhcpv6_options: string | undefined;
  ha_chassis_group: string | undefined;
  external_ids: StringMap;
}

export interface LogicalRouter extends RowIdentity {
  name: string;
  ports: string[];
  static_routes: string[];
  policies: string[];
  nat: string[];
  load_balancer: string[];
  load_balancer_group: string[];
  enabled: boolean | undefined;
  copp: string | undefined;
  options: StringMap;
  external_ids: StringMap;
}

export interface LogicalRouterPort extends RowIdentity {
  name: string;
  gateway_chassis: string[];
  ha_chassis_group: string | undefined;
  options: StringMap;
  networks: string[];
  mac: string;
  peer: string | undefined;
  enabled: boolean | undefined;
  ipv6_ra_configs: StringMap;
  ipv6_prefix: string[];
  external_ids: StringMap;
}

export type RouterPolicyAction = 'allow' | 'drop' | 'reroute';

export interface LogicalRouterPolicy extends RowIdentity {
  priority: number;
  match: string;
  action: RouterPolicyAction;
  nexthop: string | undefined;
  nexthops: string[];
  options: StringMap;
  external_ids: StringMap;
}

export interface LogicalRouterStaticRoute extends RowIdentity {
  route_table: string;
  ip_prefix: string;
  policy: 'src-ip' | 'dst-ip' | undefined;
  nexthop: string;
  output_port: string | undefined;
  bfd: string | undefined;
  options: StringMap;
  external_ids: StringMap;
}

export interface PortGroup extends RowIdentity {
  name: string;
  ports: string[];
  acls: string[];
  external_ids: StringMap;
}

export interface NbGlobal extends RowIdentity {
  name: string;
  nb_cfg: number;
  nb_cfg_timestamp: number;
  sb_cfg: number;
  sb_cfg_timestamp: number;
  hv_cfg: number;
  hv_cfg_timestamp: number;
  external_ids: StringMap;
  connections: string[];
  ssl: string | undefined;
  options: StringMap;
  ipsec: boolean;
}

/** Table name → typed row. Columns a server's schema lacks are simply absent from decoded rows. */
export interface NbRowTypes {
  Logical_Switch: LogicalSwitch;
  Logical_Switch_Port: LogicalSwitchPort;
  Logical_Router: LogicalRouter;
  Logical_Router_Port: LogicalRouterPort;
  Logical_Router_Policy: LogicalRouterPolicy;
  Logical_Router_Static_Route: LogicalRouterStaticRoute;
  Port_Group: PortGroup;
  NB_Global: NbGlobal;
}

/** A decoded row of any table: column → plain value (string/number/boolean, array, record, undefined). */
export type DecodedValue = string | number | boolean | undefined | Array<string | number | boolean> | Record<string, string | number | boolean>;
export type DecodedRow = { _uuid: string } & Record<string, DecodedValue>;

// ---------------------------------------------------------------------------------------------
// Schema-driven column shapes

export type AtomType = 'string' | 'integer' | 'real' | 'boolean' | 'uuid';

/**
 * How a column is represented:
 * - scalar: exactly one atom (min 1, max 1)
 * - optional: zero or one atom (min 0, max 1), decoded as value | undefined
 * - set: any other set, decoded as an array
 * - map: key/value pairs, decoded as a record keyed by the key's text
 */
export interface ColumnShape {
  kind: 'scalar' | 'optional' | 'set' | 'map';
  key: AtomType;
  value?: AtomType;
}
export type TableShapes = Map<string, ColumnShape>;
export type DatabaseShapes = Map<string, TableShapes>;

interface SchemaBaseType { type: AtomType }
interface SchemaColumnType { key: AtomType | SchemaBaseType; value?: AtomType | SchemaBaseType; min?: number; max?: number | 'unlimited' }
export interface OvsdbSchemaJson {
  name: string;
  version: string;
  tables: Record<string, { columns: Record<string, { type: AtomType | SchemaColumnType }>; indexes?: string[][]; isRoot?: boolean }>;
}

export class ModelError extends Error {
  readonly code: string;
  readonly table: string | undefined;
  readonly column: string | undefined;
  constructor(code: string, message: string, table?: string, column?: string) {
    super(message);
    this.name = 'ModelError';
    this.code = code;
    this.table = table;
    this.column = column;
  }
}

function baseType(t: AtomType | SchemaBaseType): AtomType {
  return typeof t === 'string' ? t : t.type;
}

const ATOM_TYPES = new Set<string>(['string', 'integer', 'real', 'boolean', 'uuid']);

function atomTypeOf(t: unknown): AtomType {
  const name = typeof t === 'string' ? t : t && typeof t === 'object' ? (t as SchemaBaseType).type : undefined;
  if (typeof name !== 'string' || !ATOM_TYPES.has(name)) throw new ModelError('SCHEMA_BAD_TYPE', `unsupported atomic type ${JSON.stringify(t)}`);
  return name as AtomType;
}

/** The shape of a column from its schema `type` (an atomic type name or {key, value?, min?, max?}). */
export function columnShape(type: unknown): ColumnShape {
  if (typeof type === 'string') return { kind: 'scalar', key: atomTypeOf(type) };
  if (!type || typeof type !== 'object') throw new ModelError('SCHEMA_BAD_TYPE', `unsupported column type ${JSON.stringify(type)}`);
  const t = type as SchemaColumnType;
  const key = atomTypeOf(t.key);
  if (t.value !== undefined) return { kind: 'map', key, value: atomTypeOf(t.value) };
  const min = t.min ?? 1;
  const max = t.max ?? 1;
  if (min === 1 && max === 1) return { kind: 'scalar', key };
  if (max === 1) return { kind: 'optional', key };
  return { kind: 'set', key };
}

/** Anything shaped like get_schema's reply (this module's OvsdbSchemaJson or schema.ts's DatabaseSchema). */
export interface SchemaLike {
  tables: Record<string, { columns: Record<string, { type: unknown }> }>;
}

/** Column shapes of every table in a schema (all tables, so a cache can follow any of them). */
export function schemaShapes(schema: SchemaLike): DatabaseShapes {
  const out: DatabaseShapes = new Map();
  for (const [table, def] of Object.entries(schema.tables)) {
    const cols: TableShapes = new Map();
    for (const [col, c] of Object.entries(def.columns)) {
      try {
        cols.set(col, columnShape(c.type));
      } catch (err) {
        if (err instanceof ModelError) throw new ModelError(err.code, `${table}.${col}: ${err.message}`, table, col);
        throw err;
      }
    }
    out.set(table, cols);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Wire value → plain value

export type PlainAtom = string | number | boolean;

/** A uuid or named-uuid atom becomes its text; other atoms are already plain. */
export function plainAtom(atom: Atom): PlainAtom {
  if (Array.isArray(atom)) return atom[1];
  return atom;
}

function isTagged(v: Value, tag: 'set' | 'map'): boolean {
  return Array.isArray(v) && v.length === 2 && v[0] === tag && Array.isArray(v[1]);
}

/** Elements of a set value: ["set",[…]] or a bare atom (the server's encoding of a one-element set). */
export function setElements(value: Value): PlainAtom[] {
  if (isTagged(value, 'set')) return (value as OvsdbSet)[1].map(plainAtom);
  if (isTagged(value, 'map')) throw new ModelError('OVSDB_BAD_VALUE', `expected a set or atom, got a map: ${JSON.stringify(value)}`);
  return [plainAtom(value as Atom)];
}

export function mapEntries(value: Value): [PlainAtom, PlainAtom][] {
  if (!isTagged(value, 'map')) throw new ModelError('OVSDB_BAD_VALUE', `expected ["map",…], got ${JSON.stringify(value)}`);
  return (value as OvsdbMap)[1].map(([k, v]) => [plainAtom(k), plainAtom(v)]);
}

function defaultAtom(t: AtomType): PlainAtom {
  switch (t) {
    case 'string':
      return '';
    case 'integer':
    case 'real':
      return 0;
    case 'boolean':
      return false;
    case 'uuid':
      return '00000000-0000-0000-0000-000000000000';
  }
}

// Shared, frozen defaults: a cached LSP has five or so empty set/map columns, and 10k ports
// should not mean 50k empty objects. Cached rows are read-only anyway.
const EMPTY_SET: PlainAtom[] = Object.freeze([]) as unknown as PlainAtom[];
const EMPTY_MAP: Record<string, PlainAtom> = Object.freeze({}) as Record<string, PlainAtom>;

export function defaultValue(shape: ColumnShape): DecodedValue {
  switch (shape.kind) {
    case 'scalar':
      return defaultAtom(shape.key);
    case 'optional':
      return undefined;
    case 'set':
      return EMPTY_SET;
    case 'map':
      return EMPTY_MAP;
  }
}

export function decodeValue(shape: ColumnShape, value: Value, table = '?', column = '?'): DecodedValue {
  try {
    switch (shape.kind) {
      case 'scalar': {
        const els = setElements(value);
        if (els.length !== 1) throw new ModelError('OVSDB_BAD_VALUE', `expected one atom, got ${els.length}`);
        return els[0];
      }
      case 'optional': {
        const els = setElements(value);
        if (els.length > 1) throw new ModelError('OVSDB_BAD_VALUE', `expected at most one atom, got ${els.length}`);
        return els[0];
      }
      case 'set':
        return setElements(value);
      case 'map': {
        const out: Record<string, PlainAtom> = {};
        for (const [k, v] of mapEntries(value)) out[String(k)] = v;
        return out;
      }
    }
  } catch (err) {
    if (err instanceof ModelError) throw new ModelError(err.code, `${table}.${column}: ${err.message}`, table, column);
    throw err;
  }
}

interface CompiledTable {
  columns: string[];
  shapes: ColumnShape[];
}
const compiledTables = new WeakMap<TableShapes, CompiledTable>();

function compile(shapes: TableShapes): CompiledTable {
  let c = compiledTables.get(shapes);
  if (!c) {
    c = { columns: [...shapes.keys()], shapes: [...shapes.values()] };
    compiledTables.set(shapes, c);
  }
  return c;
}

const NOT_FAST = Symbol('not fast');

/** The common well-formed cases without allocation beyond the result; NOT_FAST otherwise. */
function decodeFast(shape: ColumnShape, v: Value): DecodedValue | typeof NOT_FAST {
  if (typeof v !== 'object') {
    if (shape.kind === 'set') return [v];
    return shape.kind === 'map' ? NOT_FAST : v;
  }
  const tag = v[0];
  if (tag === 'uuid') {
    if (shape.kind === 'set') return [v[1] as string];
    return shape.kind === 'map' ? NOT_FAST : (v[1] as string);
  }
  if (tag === 'set' && shape.kind === 'set') {
    const atoms = v[1] as Atom[];
    const out: PlainAtom[] = new Array(atoms.length);
    for (let i = 0; i < atoms.length; i++) {
      const a = atoms[i]!;
      out[i] = typeof a === 'object' ? a[1] : a;
    }
    return out;
  }
  if (tag === 'map' && shape.kind === 'map') {
    const out: Record<string, PlainAtom> = {};
    for (const [k, x] of v[1] as [Atom, Atom][]) out[typeof k === 'object' ? k[1] : String(k)] = typeof x === 'object' ? x[1] : x;
    return out;
  }
  return NOT_FAST;
}

/** A full row (all schema columns present, defaults filled) from wire columns. */
export function decodeRow(shapes: TableShapes, uuid: string, row: Row, table = '?'): DecodedRow {
  const { columns, shapes: list } = compile(shapes);
  const out: DecodedRow = { _uuid: uuid };
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i]!;
    const shape = list[i]!;
    const v = row[col];
    if (v === undefined) {
      out[col] = defaultValue(shape);
      continue;
    }
    const fast = decodeFast(shape, v);
    // the slow path validates (and names the table and column in its error)
    out[col] = fast === NOT_FAST ? decodeValue(shape, v, table, col) : fast;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// update2 "modify" diffs: for sets the diff is the symmetric difference; for maps a key with the
// same value deletes, a key with a different value replaces, a new key inserts; scalars are new
// values. An optional column is a set of at most one element, so its diff follows set rules.

export function applyColumnDiff(shape: ColumnShape, current: DecodedValue, diff: Value, table = '?', column = '?'): DecodedValue {
  switch (shape.kind) {
    case 'scalar':
      return decodeValue(shape, diff, table, column);
    case 'optional': {
      const cur = current === undefined ? [] : [current as PlainAtom];
      const next = toggle(cur, setElements(diff));
      if (next.length > 1) throw new ModelError('OVSDB_BAD_DIFF', `${table}.${column}: diff leaves ${next.length} atoms in an optional column`, table, column);
      return next[0];
    }
    case 'set':
      return toggle(current as PlainAtom[], setElements(diff));
    case 'map': {
      const next: Record<string, PlainAtom> = { ...(current as Record<string, PlainAtom>) };
      for (const [k, v] of mapEntries(diff)) {
        const key = String(k);
        if (key in next && next[key] === v) delete next[key];
        else next[key] = v;
      }
      return next;
    }
  }
}

function toggle(current: PlainAtom[], diff: PlainAtom[]): PlainAtom[] {
  return toggleDelta(current, diff).next;
}

/**
 * Applies a set diff (symmetric difference) and reports what it added and removed. A copy is
 * made (rows handed out stay unchanged); membership uses indexOf for small diffs, so a one-port
 * change to a switch with 10k ports does not build a 10k-entry Set.
 */
export function toggleDelta(current: readonly PlainAtom[], diff: readonly PlainAtom[]): { next: PlainAtom[]; added: PlainAtom[]; removed: PlainAtom[] } {
  if (diff.length === 0) return { next: current.slice(), added: [], removed: [] };
  const added: PlainAtom[] = [];
  const removed: PlainAtom[] = [];
  if (diff.length <= 16) {
    for (const d of diff) (current.includes(d) ? removed : added).push(d);
  } else {
    const present = new Set(current);
    for (const d of diff) (present.has(d) ? removed : added).push(d);
  }
  let next: PlainAtom[];
  if (removed.length === 0) next = current.slice();
  else if (removed.length === 1) {
    next = current.slice();
    next.splice(next.indexOf(removed[0]!), 1);
  } else {
    const gone = new Set(removed);
    next = current.filter((x) => !gone.has(x));
  }
  for (const a of added) next.push(a);
  return { next, added, removed };
}

// ---------------------------------------------------------------------------------------------
// Plain value → wire value (what the typed operations send)

export function uuidAtom(uuid: string): Atom {
  return ['uuid', uuid];
}
export function namedUuidAtom(name: string): Atom {
  return ['named-uuid', name];
}

/** Always the explicit ["set",…] form: unambiguous for the server, whatever the column. */
export function encodeSet(atoms: readonly Atom[]): OvsdbSet {
  return ['set', atoms.slice()];
}
export function encodeUuidSet(uuids: readonly string[]): OvsdbSet {
  return ['set', uuids.map(uuidAtom)];
}
export function encodeStringMap(map: Readonly<StringMap>): OvsdbMap {
  const keys = Object.keys(map).sort();
  return ['map', keys.map((k) => [k, map[k]] as [Atom, Atom])];
}
/** An optional column: empty set when undefined. */
export function encodeOptional(value: Atom | undefined): OvsdbSet {
  return ['set', value === undefined ? [] : [value]];
}

export function sameStringMap(a: Readonly<StringMap>, b: Readonly<StringMap>): boolean {
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  for (const k of ak) if (b[k] !== a[k]) return false;
  return true;
}

/** Set equality of two string arrays, ignoring order and repeats. */
export function sameStringSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  if (sa.size !== sb.size) return false;
  for (const x of sa) if (!sb.has(x)) return false;
  return true;
}
