import { describe, expect, it } from 'vitest';
import { createEncoder, EncodeError } from '../../src/ovsdb/encoder.ts';
import type { OvsdbEncoder } from '../../src/ovsdb/encoder.ts';
import type { Condition, Operation } from '../../src/ovsdb/protocol.ts';
import { WIRE_VECTORS } from './encoder-vectors.ts';

// The native addon is built before the tests (make test-js depends on make native); requesting
// 'native' explicitly makes a missing addon fail here instead of silently testing TS twice.
const encoders: OvsdbEncoder[] = [createEncoder('ts'), createEncoder('native')];

const LS_UUID = '2984cbff-b6fc-4d64-acb3-ca5d1b596982';

function lspCreate(i: number): Operation[] {
  const name = `u${String(i).padStart(10, '0')}`;
  return [
    {
      op: 'insert',
      table: 'Logical_Switch_Port',
      'uuid-name': name,
      row: {
        name: `nginx-${i}.default`,
        addresses: '00:00:00:AA:BB:CC 10.16.0.5',
        external_ids: ['map', [['ls', 'ovn-default'], ['pod', `default/nginx-${i}`], ['vendor', 'kube-ovn']]],
      },
    },
    {
      op: 'mutate',
      table: 'Logical_Switch',
      where: [['_uuid', '==', ['uuid', LS_UUID]]],
      mutations: [['ports', 'insert', ['set', [['named-uuid', name]]]]],
    },
  ];
}

describe.each(encoders.map((e) => [e.impl, e] as const))('%s encoder', (impl, enc) => {
  it('reports its implementation', () => {
    expect(enc.impl).toBe(impl);
  });

  it('reproduces every request the real server accepted, byte for byte', () => {
    let checked = 0;
    for (const v of WIRE_VECTORS) {
      const req = JSON.parse(v.request) as { method: string; params: unknown[]; id: number };
      if (v.name.endsWith('named-uuid with dash')) continue; // the server refused it; covered below
      const out =
        req.method === 'transact'
          ? enc.transact(req.id, req.params[0] as string, req.params.slice(1) as Operation[])
          : enc.request(req.method, req.params, req.id);
      expect(out.toString('utf8'), v.name).toBe(v.request);
      checked++;
    }
    expect(checked).toBe(WIRE_VECTORS.length - 1);
  });

  it('has a builder for every method, matching the captured requests', () => {
    const requests = [{ columns: ['name', 'addresses', 'port_security', 'external_ids'] }];
    const byName = new Map(WIRE_VECTORS.map((v) => [v.name, v.request]));
    expect(enc.listDbs(1).toString()).toBe(byName.get('list_dbs'));
    expect(enc.getSchema(2, 'OVN_Northbound').toString()).toBe(byName.get('get_schema'));
    expect(enc.echo(3, ['ping', 42]).toString()).toBe(byName.get('echo'));
    expect(enc.monitorCond(1, 'OVN_Northbound', 'mon-lsp', { Logical_Switch_Port: requests }).toString()).toBe(
      byName.get('monitor_cond Logical_Switch_Port'),
    );
    expect(
      enc
        .monitorCondSince(1, 'OVN_Northbound', 'mon3', { Logical_Switch_Port: requests }, '00000000-0000-0000-0000-000000000000')
        .toString(),
    ).toBe(byName.get('monitor_cond_since Logical_Switch_Port'));
    expect(enc.monitorCancel(20, 'mon-lsp').toString()).toBe('{"method":"monitor_cancel","params":["mon-lsp"],"id":20}');
    expect(enc.setDbChangeAware(9, true).toString()).toBe('{"method":"set_db_change_aware","params":[true],"id":9}');
    expect(enc.lock(10, 'ovnkit').toString()).toBe('{"method":"lock","params":["ovnkit"],"id":10}');
    expect(enc.steal(11, 'ovnkit').toString()).toBe('{"method":"steal","params":["ovnkit"],"id":11}');
    expect(enc.unlock(null, 'ovnkit').toString()).toBe('{"method":"unlock","params":["ovnkit"],"id":null}');
    expect(enc.reply('echo', []).toString()).toBe('{"id":"echo","result":[],"error":null}');
    expect(
      enc
        .monitorCond('m', 'OVN_Northbound', null, {
          // ovsdb-server takes literal true/false clauses in a monitor_cond where; protocol.ts types only conditions.
          Logical_Switch_Port: { where: [['name', 'includes', 'a'], false] as unknown as Condition[], select: { initial: true, modify: false } },
        })
        .toString(),
    ).toBe(
      '{"method":"monitor_cond","params":["OVN_Northbound",null,{"Logical_Switch_Port":[{"where":[["name","includes","a"],false],"select":{"initial":true,"modify":false}}]}],"id":"m"}',
    );
  });

  it('writes keys in canonical order whatever order the caller used', () => {
    const scrambled = {
      rows: [{ nb_cfg: -1 }],
      until: '!=',
      columns: ['nb_cfg'],
      where: [],
      timeout: 0,
      table: 'NB_Global',
      op: 'wait',
    } as unknown as Operation;
    expect(enc.transact(1, 'OVN_Northbound', [scrambled]).toString()).toBe(
      '{"method":"transact","params":["OVN_Northbound",{"op":"wait","table":"NB_Global","timeout":0,"where":[],"columns":["nb_cfg"],"until":"!=","rows":[{"nb_cfg":-1}]}],"id":1}',
    );
  });

  it('encodes every op kind', () => {
    const ops: Operation[] = [
      { op: 'select', table: 'Logical_Switch', where: [['name', '==', 'ovn-default']], columns: ['_uuid', 'ports'] },
      { op: 'select', table: 'Logical_Switch', where: [] },
      { op: 'update', table: 'Logical_Switch', where: [['name', '!=', ['set', []]]], row: { other_config: ['map', []] } },
      { op: 'delete', table: 'Logical_Switch_Port', where: [['external_ids', 'includes', ['map', [['pod', 'a/b']]]]] },
      { op: 'commit', durable: false },
      { op: 'abort' },
      { op: 'comment', comment: 'ovnkit "x"\n' },
      { op: 'assert', lock: 'ovnkit_lock' },
    ];
    expect(enc.transact(7, 'OVN_Northbound', ops).toString()).toBe(
      '{"method":"transact","params":["OVN_Northbound",' +
        '{"op":"select","table":"Logical_Switch","where":[["name","==","ovn-default"]],"columns":["_uuid","ports"]},' +
        '{"op":"select","table":"Logical_Switch","where":[]},' +
        '{"op":"update","table":"Logical_Switch","where":[["name","!=",["set",[]]]],"row":{"other_config":["map",[]]}},' +
        '{"op":"delete","table":"Logical_Switch_Port","where":[["external_ids","includes",["map",[["pod","a/b"]]]]]},' +
        '{"op":"commit","durable":false},{"op":"abort"},{"op":"comment","comment":"ovnkit \\"x\\"\\n"},' +
        '{"op":"assert","lock":"ovnkit_lock"}],"id":7}',
    );
  });

  it('batches transactions into one buffer equal to the concatenated single requests', () => {
    const items = Array.from({ length: 5 }, (_, i) => ({ id: i + 100, database: 'OVN_Northbound', ops: lspCreate(i) }));
    const singles = Buffer.concat(items.map((it) => enc.transact(it.id, it.database, it.ops)));
    expect(enc.transactBatch(items).equals(singles)).toBe(true);
    expect(enc.transactBatch([]).length).toBe(0);
  });

  it('encodes a batch larger than the native scratch buffer (64 KiB), twice in a row', () => {
    const items = Array.from({ length: 400 }, (_, i) => ({ id: i, database: 'OVN_Northbound', ops: lspCreate(i) }));
    const want = Buffer.from(items.map((it) => JSON.stringify({ method: 'transact', params: [it.database, ...it.ops], id: it.id })).join(''));
    expect(want.length).toBeGreaterThan(128 * 1024);
    expect(enc.transactBatch(items).equals(want)).toBe(true);
    expect(enc.transactBatch(items).equals(want)).toBe(true);
    const small = enc.transact(1, 'OVN_Northbound', lspCreate(1));
    expect(small.toString()).toBe(JSON.stringify({ method: 'transact', params: ['OVN_Northbound', ...lspCreate(1)], id: 1 }));
  });

  it('escapes strings exactly as JSON.stringify', () => {
    const awkward = 'q"b\\s\u0001\u001f\u007f\u2028\u2029 😀 \ud83d\ude00 {[]} é \ufeff\uffff';
    const op: Operation = { op: 'insert', table: 'T', row: { c: awkward, m: ['map', [[awkward, awkward]]] } };
    expect(enc.transact(awkward, awkward, [op]).toString()).toBe(
      JSON.stringify({ method: 'transact', params: [awkward, op], id: awkward }),
    );
  });

  it.each([
    ['U+0000', 'a\u0000b', /U\+0000 at index 1/],
    ['a lone high surrogate', 'a\ud800b', /lone surrogate U\+D800 at index 1/],
    ['a lone low surrogate', '\udc00', /lone surrogate U\+DC00 at index 0/],
    ['a reversed pair', '\ude00\ud83d', /lone surrogate U\+DE00/],
    ['a high surrogate at the end', 'x😀\ud83d', /lone surrogate U\+D83D at index 3/],
  ])('refuses a string with %s, which ovsdb-server cannot take', (_what, bad, reason) => {
    for (const ops of [
      [{ op: 'comment', comment: bad }],
      [{ op: 'insert', table: 'T', row: { c: ['map', [['k', bad]]] } }],
    ] as Operation[][]) {
      expect(() => enc.transact(1, 'db', ops)).toThrow(reason);
    }
    expect(() => enc.transact(bad, 'db', [])).toThrow(reason);
    expect(() => enc.echo(1, [{ [bad]: 1 }])).toThrow(reason);
  });

  it('refuses subnormal numbers, on which ovsdb-server drops the connection', () => {
    expect(() => enc.transact(1, 'db', [{ op: 'insert', table: 'T', row: { r: 5e-324 } }])).toThrow(/subnormal/);
    expect(() => enc.transact(-2.225073858507201e-308, 'db', [])).toThrow(/subnormal/);
    expect(enc.transact(1, 'db', [{ op: 'insert', table: 'T', row: { r: 2.2250738585072014e-308 } }]).toString()).toContain(
      '2.2250738585072014e-308',
    );
  });

  it('prints numbers as JS does', () => {
    const nums = [0, -0, 5, -17, 0.1, 1.5e-7, 1e21, 2 ** 53 + 2, 2 ** 63, -1.7976931348623157e308, 123.456];
    const op: Operation = { op: 'insert', table: 'T', row: { n: ['set', nums] } };
    expect(enc.transact(1.5, 'db', [op]).toString()).toBe(JSON.stringify({ method: 'transact', params: ['db', op], id: 1.5 }));
  });

  const bad: [string, unknown, RegExp, number?][] = [
    ['a named-uuid with a dash', { op: 'insert', table: 'T', 'uuid-name': 'bad-name', row: {} }, /uuid-name/],
    ['a named-uuid starting with a digit', { op: 'mutate', table: 'T', where: [], mutations: [['c', 'insert', ['named-uuid', '1x']]] }, /named-uuid/],
    ['a malformed uuid', { op: 'delete', table: 'T', where: [['_uuid', '==', ['uuid', 'zz']]] }, /uuid/],
    ['an unknown op', { op: 'drop', table: 'T' }, /unknown op/],
    ['an unknown condition function', { op: 'delete', table: 'T', where: [['c', '=~', 1]] }, /condition function/],
    ['an unknown mutator', { op: 'mutate', table: 'T', where: [], mutations: [['c', '^=', 1]] }, /mutator/],
    ['NaN', { op: 'insert', table: 'T', row: { n: Number.NaN } }, /finite/],
    ['Infinity in a set', { op: 'insert', table: 'T', row: { n: ['set', [Infinity]] } }, /finite/],
    ['undefined as a value', { op: 'insert', table: 'T', row: { n: undefined } }, /atom/],
    ['a nested set', { op: 'insert', table: 'T', row: { n: ['set', [['set', []]]] } }, /atom/],
    ['a bad table name', { op: 'delete', table: 'Logical Switch', where: [] }, /table/],
    ['a bad column name', { op: 'insert', table: 'T', row: { '9lives': 1 } }, /column/],
    ['a missing row', { op: 'insert', table: 'T' }, /row/],
    ['a bad until', { op: 'wait', table: 'T', where: [], columns: [], until: '<', rows: [] }, /until/],
    ['a non-boolean durable', { op: 'commit', durable: 'yes' }, /durable/],
  ];

  it.each(bad)('refuses %s with an EncodeError naming the op', (_what, op, reason) => {
    const ops = [{ op: 'abort' }, op] as Operation[];
    let caught: unknown;
    try {
      enc.transact(1, 'OVN_Northbound', ops);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(EncodeError);
    const err = caught as EncodeError;
    expect(err.code).toBe('EncodeError');
    expect(err.context.opIndex).toBe(1);
    expect(err.context.method).toBe('transact');
    expect(err.reason).toMatch(reason);
  });

  it('names the transaction in a batch that failed', () => {
    const items = [
      { id: 1, database: 'OVN_Northbound', ops: lspCreate(1) },
      { id: 2, database: 'OVN_Northbound', ops: [{ op: 'insert', table: 'T', 'uuid-name': 'x-y', row: {} }] as Operation[] },
    ];
    expect(() => enc.transactBatch(items)).toThrow(expect.objectContaining({ code: 'EncodeError', context: expect.objectContaining({ batchIndex: 1, opIndex: 0, table: 'T' }) }));
  });

  it('refuses what JSON.stringify would silently change in generic params', () => {
    expect(() => enc.request('echo', [undefined], 1)).toThrow(EncodeError);
    expect(() => enc.request('echo', [() => 1], 1)).toThrow(EncodeError);
    expect(() => enc.request('echo', [new Date(0)], 1)).toThrow(EncodeError);
    expect(() => enc.request('echo', [Number.NaN], 1)).toThrow(EncodeError);
    expect(() => enc.reply(Number.POSITIVE_INFINITY, [])).toThrow(EncodeError);
    expect(() => enc.monitorCondSince(1, 'db', 'm', {}, 'not-a-uuid')).toThrow(/last-txn-id/);
  });
});

describe('createEncoder', () => {
  it('honours OVNKIT_IMPL over the argument', () => {
    const saved = process.env.OVNKIT_IMPL;
    try {
      process.env.OVNKIT_IMPL = 'ts';
      expect(createEncoder('native').impl).toBe('ts');
      process.env.OVNKIT_IMPL = 'native';
      expect(createEncoder('ts').impl).toBe('native');
    } finally {
      if (saved === undefined) delete process.env.OVNKIT_IMPL;
      else process.env.OVNKIT_IMPL = saved;
    }
  });

  it('uses native under auto when the addon is built', () => {
    expect(createEncoder('auto').impl).toBe('native');
  });
});
