import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type OvsdbSchemaJson, NB_TABLES, schemaShapes, decodeValue, columnShape } from '../../src/ovsdb/model.ts';
import { CacheStore } from '../../src/ovsdb/nb-cache-store.ts';

// The real Debian schema (OVN_Northbound 7.0.0) drives the shapes, as on a live server.
const schema = JSON.parse(readFileSync('/usr/share/ovn/ovn-nb.ovsschema', 'utf8')) as OvsdbSchemaJson;
const shapes = schemaShapes(schema);
const newStore = () => new CacheStore(shapes, { tables: NB_TABLES });

const LS = 'aaaaaaaa-0000-0000-0000-000000000001';
const LSP1 = 'bbbbbbbb-0000-0000-0000-000000000001';
const LSP2 = 'bbbbbbbb-0000-0000-0000-000000000002';

describe('model decoding', () => {
  it('decodes a bare atom as a one-element set and fills defaults', () => {
    const store = newStore();
    store.apply({
      Logical_Switch_Port: {
        [LSP1]: {
          insert: {
            name: 'nginx-0.default',
            addresses: '00:00:00:AA:BB:CC 10.16.0.5',
            external_ids: ['map', [['ls', 'ovn-default'], ['pod', 'default/nginx-0'], ['vendor', 'kube-ovn']]],
          },
        },
      },
    });
    const lsp = store.get('Logical_Switch_Port', LSP1)!;
    expect(lsp.addresses).toEqual(['00:00:00:AA:BB:CC 10.16.0.5']);
    expect(lsp.port_security).toEqual([]);
    expect(lsp.type).toBe('');
    expect(lsp.tag).toBeUndefined();
    expect(lsp.options).toEqual({});
    expect(lsp.external_ids).toEqual({ ls: 'ovn-default', pod: 'default/nginx-0', vendor: 'kube-ovn' });
  });

  it('rejects a map where a set is expected and a multi-atom value in a scalar column', () => {
    const set = columnShape({ key: 'string', min: 0, max: 'unlimited' });
    expect(() => decodeValue(set, ['map', [['a', 'b']]], 'T', 'c')).toThrow(/T\.c: expected a set/);
    const store = newStore();
    expect(() => store.apply({ Logical_Switch_Port: { [LSP1]: { insert: { name: 'x', addresses: ['map', [['a', 'b']]] } } } })).toThrow(
      /Logical_Switch_Port\.addresses: expected a set/,
    );
    expect(() => store.apply({ Logical_Switch_Port: { [LSP1]: { insert: { name: ['set', ['a', 'b']] } } } })).toThrow(/Logical_Switch_Port\.name: expected one atom/);
    const scalar = columnShape('string');
    expect(() => decodeValue(scalar, ['set', ['a', 'b']], 'T', 'c')).toThrow(/expected one atom, got 2/);
  });
});

describe('CacheStore', () => {
  it('applies set, map and optional diffs the way ovsdb-server computes them', () => {
    const store = newStore();
    store.apply({
      Logical_Switch_Port: {
        [LSP1]: { initial: { name: 'p1', addresses: ['set', ['a', 'b']], external_ids: ['map', [['k1', 'v1'], ['k2', 'v2']]], tag_request: 7 } },
      },
    });
    store.apply({
      Logical_Switch_Port: {
        // set diff: b removed, c added; map diff: k1 same value → delete, k2 new value → replace, k3 insert;
        // optional diff: old 7 and new 9 → 9; scalar: new value.
        [LSP1]: { modify: { addresses: ['set', ['b', 'c']], external_ids: ['map', [['k1', 'v1'], ['k2', 'x'], ['k3', 'v3']]], tag_request: ['set', [7, 9]], type: 'router' } },
      },
    });
    const lsp = store.get('Logical_Switch_Port', LSP1)!;
    expect(lsp.addresses.sort()).toEqual(['a', 'c']);
    expect(lsp.external_ids).toEqual({ k2: 'x', k3: 'v3' });
    expect(lsp.tag_request).toBe(9);
    expect(lsp.type).toBe('router');
    store.apply({ Logical_Switch_Port: { [LSP1]: { modify: { tag_request: 9 } } } });
    expect(store.get('Logical_Switch_Port', LSP1)!.tag_request).toBeUndefined();
  });

  it('keeps name, external_ids:pod and parent indexes in step with inserts, modifies and deletes', () => {
    const store = newStore();
    const changes = store.apply({
      Logical_Switch: { [LS]: { initial: { name: 'ovn-default', ports: ['set', [['uuid', LSP1], ['uuid', LSP2]]] } } },
      Logical_Switch_Port: {
        [LSP1]: { initial: { name: 'a.default', external_ids: ['map', [['pod', 'default/a']]] } },
        [LSP2]: { initial: { name: 'b.default', external_ids: ['map', [['pod', 'default/b']]] } },
      },
    });
    expect(changes.map((c) => c.kind)).toEqual(['insert', 'insert', 'insert']);
    expect(store.firstByName('Logical_Switch', 'ovn-default')?._uuid).toBe(LS);
    expect(store.byExternalId('Logical_Switch_Port', 'pod', 'default/b').map((r) => r.name)).toEqual(['b.default']);
    expect(store.parentsOf(LSP2, 'Logical_Switch')).toEqual([{ table: 'Logical_Switch', column: 'ports', uuid: LS }]);

    // the port leaves the switch (a bare uuid atom as the one-element diff) and is garbage-collected
    const c2 = store.apply({ Logical_Switch: { [LS]: { modify: { ports: ['uuid', LSP2] } } }, Logical_Switch_Port: { [LSP2]: { delete: null } } });
    expect(c2.map((c) => `${c.table}:${c.kind}`)).toEqual(['Logical_Switch:update', 'Logical_Switch_Port:delete']);
    expect(store.parentsOf(LSP2)).toEqual([]);
    expect(store.byExternalId('Logical_Switch_Port', 'pod', 'default/b')).toEqual([]);
    expect(store.get('Logical_Switch', LS)!.ports).toEqual([LSP1]);

    // rename updates the name index
    store.apply({ Logical_Switch_Port: { [LSP1]: { modify: { name: 'a2.default', external_ids: ['map', [['pod', 'default/a2']]] } } } });
    expect(store.firstByName('Logical_Switch_Port', 'a.default')).toBeUndefined();
    expect(store.firstByName('Logical_Switch_Port', 'a2.default')?._uuid).toBe(LSP1);
    expect(store.byExternalId('Logical_Switch_Port', 'pod', 'default/a2')).toHaveLength(1);
  });

  it('hands out a new row object per modify; plain set columns are copied, followed references report their delta', () => {
    const store = newStore();
    store.apply({
      Logical_Switch: { [LS]: { initial: { name: 's', ports: ['set', []] } } },
      Logical_Switch_Port: { [LSP2]: { initial: { name: 'p', addresses: ['set', ['a']] } } },
    });
    const beforeLsp = store.get('Logical_Switch_Port', LSP2)!;
    store.apply({ Logical_Switch_Port: { [LSP2]: { modify: { addresses: 'b' } } } });
    expect(beforeLsp.addresses).toEqual(['a']);
    expect(store.get('Logical_Switch_Port', LSP2)!.addresses.sort()).toEqual(['a', 'b']);

    const before = store.get('Logical_Switch', LS)!;
    const [change] = store.apply({ Logical_Switch: { [LS]: { modify: { ports: ['set', [['uuid', LSP1], ['uuid', LSP2]]] } } } });
    expect(store.get('Logical_Switch', LS)).not.toBe(before);
    expect(store.get('Logical_Switch', LS)!.ports.sort()).toEqual([LSP1, LSP2]);
    expect(change!.refs).toEqual([{ column: 'ports', added: [LSP1, LSP2], removed: [] }]);
    const [c2] = store.apply({ Logical_Switch: { [LS]: { modify: { ports: ['uuid', LSP1] } } } });
    expect(c2!.refs).toEqual([{ column: 'ports', added: [], removed: [LSP1] }]);
    expect(store.get('Logical_Switch', LS)!.ports).toEqual([LSP2]);
  });

  it('applies a large diff to a large reference set in place', () => {
    const store = newStore();
    const uuids = Array.from({ length: 500 }, (_, i) => `cccccccc-0000-0000-0000-${String(i).padStart(12, '0')}`);
    store.apply({ Logical_Switch: { [LS]: { initial: { name: 's', ports: ['set', uuids.slice(0, 300).map((u) => ['uuid', u] as ['uuid', string])] } } } });
    // remove 0..99, add 300..499 in one diff (more than 16 elements: the Set path)
    const diff = [...uuids.slice(0, 100), ...uuids.slice(300)].map((u) => ['uuid', u] as ['uuid', string]);
    store.apply({ Logical_Switch: { [LS]: { modify: { ports: ['set', diff] } } } });
    expect(store.get('Logical_Switch', LS)!.ports.sort()).toEqual(uuids.slice(100).sort());
    expect(store.parentsOf(uuids[0]!)).toEqual([]);
    expect(store.parentsOf(uuids[499]!)).toHaveLength(1);
  });

  it('replaceAll emits only the difference against the previous contents', () => {
    const store = newStore();
    store.apply({
      Logical_Switch_Port: {
        [LSP1]: { initial: { name: 'kept' } },
        [LSP2]: { initial: { name: 'gone' } },
      },
    });
    const LSP3 = 'bbbbbbbb-0000-0000-0000-000000000003';
    const changes = store.replaceAll({
      Logical_Switch_Port: {
        [LSP1]: { initial: { name: 'kept' } },
        [LSP3]: { initial: { name: 'new' } },
      },
    });
    expect(changes.map((c) => `${c.kind}:${(c.row ?? c.old)!.name}`).sort()).toEqual(['delete:gone', 'insert:new']);
    expect(store.rows('Logical_Switch_Port').map((r) => r.name).sort()).toEqual(['kept', 'new']);
  });

  it('refuses a modify of an unknown row and an unindexed external_ids key with coded errors', () => {
    const store = newStore();
    expect(() => store.apply({ Logical_Switch: { [LS]: { modify: { name: 'x' } } } })).toThrow(expect.objectContaining({ code: 'CACHE_MODIFY_UNKNOWN_ROW' }));
    expect(() => store.byExternalId('Logical_Switch_Port', 'ls', 'x')).toThrow(expect.objectContaining({ code: 'CACHE_NOT_INDEXED' }));
    expect(() => new CacheStore(shapes, { tables: ['No_Such_Table'] })).toThrow(expect.objectContaining({ code: 'CACHE_UNKNOWN_TABLE' }));
  });
});
