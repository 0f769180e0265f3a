// The database schema as get_schema returns it, and the guard that keeps us from writing a column
// the server lacks (OVN_Northbound 7.0.0 on Debian's OVN 23.03 has fewer columns than the 7.11
// Kube-OVN targets).
import { OvsdbError } from './errors.ts';
import type { Operation } from './protocol.ts';

export interface ColumnSchema {
  type: unknown;
  ephemeral?: boolean;
  mutable?: boolean;
}

export interface TableSchema {
  columns: Record<string, ColumnSchema>;
  maxRows?: number;
  isRoot?: boolean;
  indexes?: string[][];
}

export interface DatabaseSchema {
  name: string;
  version: string;
  cksum?: string;
  tables: Record<string, TableSchema>;
}

/** Columns every table has without the schema listing them. */
const IMPLICIT_COLUMNS = new Set(['_uuid', '_version']);

export function schemaHasColumn(schema: DatabaseSchema, table: string, column: string): boolean {
  const t = schema.tables[table];
  if (!t) return false;
  return IMPLICIT_COLUMNS.has(column) || Object.hasOwn(t.columns, column);
}

/** Compares dotted versions: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Throws OvsdbError code 'unknown column' / 'unknown table' (the server's own codes) for the first
 * op that names a table or writes/reads a column the schema lacks, before anything is sent.
 */
export function checkOpsAgainstSchema(schema: DatabaseSchema, ops: readonly Operation[]): void {
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as Operation;
    if (!('table' in op)) continue;
    const table = schema.tables[op.table];
    if (!table) {
      throw new OvsdbError({ code: 'unknown table', stage: 'schema', database: schema.name, table: op.table, opIndex: i, details: `schema ${schema.version} has no table ${op.table}` });
    }
    const check = (column: string): void => {
      if (IMPLICIT_COLUMNS.has(column) || Object.hasOwn(table.columns, column)) return;
      throw new OvsdbError({
        code: 'unknown column',
        stage: 'schema',
        database: schema.name,
        table: op.table,
        opIndex: i,
        details: `schema ${schema.name} ${schema.version} has no column ${op.table}.${column}`,
      });
    };
    switch (op.op) {
      case 'insert':
      case 'update':
        for (const column of Object.keys(op.row)) check(column);
        if (op.op === 'update') for (const c of op.where) check(c[0]);
        break;
      case 'mutate':
        for (const m of op.mutations) check(m[0]);
        for (const c of op.where) check(c[0]);
        break;
      case 'select':
      case 'delete':
        for (const c of op.where) check(c[0]);
        if (op.op === 'select') for (const c of op.columns ?? []) check(c);
        break;
      case 'wait':
        for (const c of op.where) check(c[0]);
        for (const c of op.columns) check(c);
        break;
    }
  }
}
