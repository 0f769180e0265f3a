// Pure logic of the client: remote parsing, result mapping (server result arrays captured from a
// real ovsdb-server, see /work/shared/reference/ovsdb-vectors), the schema guard.
import { describe, expect, it } from 'vitest';
import { checkTransactResult } from '../../src/ovsdb/client.ts';
import { OvsdbConnectionError, OvsdbError, tableFromDetails } from '../../src/ovsdb/errors.ts';
import type { Operation } from '../../src/ovsdb/protocol.ts';
import { parseRemotes } from '../../src/ovsdb/remote.ts';
import { type DatabaseSchema, checkOpsAgainstSchema, compareVersions, schemaHasColumn } from '../../src/ovsdb/schema.ts';

describe('parseRemotes', () => {
  it('parses unix, tcp, ssl, IPv6 and comma-separated lists', () => {
    expect(parseRemotes('unix:/run/ovn/ovnnb_db.sock')).toEqual([{ kind: 'unix', path: '/run/ovn/ovnnb_db.sock', text: 'unix:/run/ovn/ovnnb_db.sock' }]);
    expect(parseRemotes('tcp:10.0.0.1:6641, ssl:[fd00::1]:6641')).toEqual([
      { kind: 'tcp', host: '10.0.0.1', port: 6641, text: 'tcp:10.0.0.1:6641' },
      { kind: 'ssl', host: 'fd00::1', port: 6641, text: 'ssl:[fd00::1]:6641' },
    ]);
  });

  it.each(['', ',', 'unix:', 'tcp:1.2.3.4', 'tcp:1.2.3.4:0', 'tcp:1.2.3.4:65536', 'tcp::6641', 'ptcp:6641', 'ssl:fd00::1:6641'])(
    'rejects %j with BadRemote',
    (bad) => {
      let err: unknown;
      try {
        parseRemotes(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OvsdbConnectionError);
      expect((err as OvsdbConnectionError).code).toBe('BadRemote');
    },
  );
});

const ops: Operation[] = [
  { op: 'insert', table: 'Logical_Switch_Port', 'uuid-name': 'u1', row: { name: 'p' } },
  { op: 'mutate', table: 'Logical_Switch', where: [], mutations: [['ports', 'insert', ['named-uuid', 'u1']]] },
];

describe('checkTransactResult', () => {
  it('returns the results when no element has an error', () => {
    const r = [{ uuid: ['uuid', 'a152f8ba-a4af-46df-bffc-5101e72cba71'] }, { count: 1 }];
    expect(checkTransactResult('OVN_Northbound', ops, r)).toBe(r);
  });

  it('maps a per-op error, later ops null', () => {
    const r = [{ uuid: ['uuid', 'x'] }, { error: 'constraint violation', details: 'forward is not one of the allowed values' }];
    const e = (() => {
      try {
        checkTransactResult('OVN_Northbound', ops, [...r, null]);
      } catch (err) {
        return err as OvsdbError;
      }
    })();
    expect(e).toBeInstanceOf(OvsdbError);
    expect(e).toMatchObject({ code: 'constraint violation', stage: 'transact', opIndex: 1, table: 'Logical_Switch', commit: false });
  });

  it('maps the extra element past the op count to a commit error with the table from the details', () => {
    const details =
      'Transaction causes multiple rows in "Logical_Switch_Port" table to have identical values (nginx-0.default) for index on column "name".';
    try {
      checkTransactResult('OVN_Northbound', ops, [{ uuid: ['uuid', 'x'] }, { count: 1 }, { error: 'constraint violation', details }]);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'constraint violation', stage: 'commit', commit: true, opIndex: 2, table: 'Logical_Switch_Port', details });
    }
  });

  it('flags malformed replies', () => {
    expect(() => checkTransactResult('db', ops, { not: 'an array' })).toThrow(/malformed reply|not an array/);
    expect(() => checkTransactResult('db', ops, [{ count: 1 }])).toThrow(/1 results for 2 ops/);
  });

  it('extracts table names from commit-error details', () => {
    expect(tableFromDetails('cannot delete Logical_Switch_Port row 7c8e because of 1 remaining reference(s)')).toBe('Logical_Switch_Port');
    expect(tableFromDetails(undefined)).toBeUndefined();
    expect(tableFromDetails('something else')).toBeUndefined();
  });
});

describe('schema guard', () => {
  const schema: DatabaseSchema = {
    name: 'OVN_Northbound',
    version: '7.0.0',
    tables: { Logical_Switch: { columns: { name: { type: 'string' }, ports: { type: {} } } } },
  };

  it('knows implicit columns and refuses unknown ones with the server codes', () => {
    expect(schemaHasColumn(schema, 'Logical_Switch', '_uuid')).toBe(true);
    expect(schemaHasColumn(schema, 'Logical_Switch', 'copp')).toBe(false);
    expect(() => checkOpsAgainstSchema(schema, [{ op: 'insert', table: 'Logical_Switch', row: { name: 'a' } }])).not.toThrow();
    expect(() => checkOpsAgainstSchema(schema, [{ op: 'insert', table: 'Logical_Switch', row: { copp: ['set', []] } }])).toThrow(
      expect.objectContaining({ code: 'unknown column', table: 'Logical_Switch', opIndex: 0 }),
    );
    expect(() => checkOpsAgainstSchema(schema, [{ op: 'comment', comment: 'x' }, { op: 'delete', table: 'Nope', where: [] }])).toThrow(
      expect.objectContaining({ code: 'unknown table', opIndex: 1 }),
    );
    expect(() =>
      checkOpsAgainstSchema(schema, [{ op: 'mutate', table: 'Logical_Switch', where: [['nam', '==', 'x']], mutations: [] }]),
    ).toThrow(expect.objectContaining({ code: 'unknown column' }));
  });

  it('compares schema versions numerically', () => {
    expect(compareVersions('7.0.0', '7.11.0')).toBeLessThan(0);
    expect(compareVersions('7.11.0', '7.3.0')).toBeGreaterThan(0);
    expect(compareVersions('7.0', '7.0.0')).toBe(0);
  });
});
