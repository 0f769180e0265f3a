// RFC 7047 wire shapes, shared by the encoders (Rust and TS), the client, the cache and the typed NB ops.

export type Uuid = ['uuid', string];
export type NamedUuid = ['named-uuid', string];
export type Atom = string | number | boolean | Uuid | NamedUuid;
export type OvsdbSet = ['set', Atom[]];
export type OvsdbMap = ['map', [Atom, Atom][]];
export type Value = Atom | OvsdbSet | OvsdbMap;
export type Row = Record<string, Value>;

export type ConditionFunction = '<' | '<=' | '==' | '!=' | '>=' | '>' | 'includes' | 'excludes';
export type Condition = [column: string, fn: ConditionFunction, value: Value];
export type Mutator = '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';
export type Mutation = [column: string, mutator: Mutator, value: Value];

export interface InsertOp { op: 'insert'; table: string; row: Row; 'uuid-name'?: string }
export interface SelectOp { op: 'select'; table: string; where: Condition[]; columns?: string[] }
export interface UpdateOp { op: 'update'; table: string; where: Condition[]; row: Row }
export interface MutateOp { op: 'mutate'; table: string; where: Condition[]; mutations: Mutation[] }
export interface DeleteOp { op: 'delete'; table: string; where: Condition[] }
export interface WaitOp {
  op: 'wait';
  table: string;
  where: Condition[];
  columns: string[];
  until: '==' | '!=';
  rows: Row[];
  timeout?: number;
}
export interface CommitOp { op: 'commit'; durable: boolean }
export interface AbortOp { op: 'abort' }
export interface CommentOp { op: 'comment'; comment: string }
export interface AssertOp { op: 'assert'; lock: string }

export type Operation =
  | InsertOp
  | SelectOp
  | UpdateOp
  | MutateOp
  | DeleteOp
  | WaitOp
  | CommitOp
  | AbortOp
  | CommentOp
  | AssertOp;

/** One element of a transact result array. `null` follows an op that failed. */
export type OperationResult =
  | { uuid: Uuid }
  | { rows: Row[] }
  | { count: number }
  | { error: string; details?: string }
  | Record<string, never>
  | null;

export type RpcId = number | string | null;

export interface RpcRequest { method: string; params: unknown[]; id: RpcId }
export interface RpcResponse { id: RpcId; result?: unknown; error?: unknown }
export interface RpcNotification { method: string; params: unknown[]; id: null }

/** monitor_cond request for one table (RFC 7047 §4.1.5 + ovsdb-server's monitor_cond extension). */
export interface MonitorCondRequest {
  columns?: string[];
  where?: Condition[] | boolean;
  select?: { initial?: boolean; insert?: boolean; delete?: boolean; modify?: boolean };
}

/** update2/update3 per-row change. */
export type RowUpdate2 =
  | { initial: Row }
  | { insert: Row }
  | { modify: Row }
  | { delete: null };
export type TableUpdates2 = Record<string, Record<string, RowUpdate2>>;

export const NAMED_UUID_PATTERN = /^[_a-zA-Z][_a-zA-Z0-9]*$/;
