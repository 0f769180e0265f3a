// The coalescer's own bookkeeping (window, bounds, result slicing, renaming, blame routing).
// The transact function here only records what it is given and answers one result per op; what
// the real server does with merged transactions is covered in coalescer.int.test.ts.
import { describe, expect, it } from 'vitest';
import { TransactionCoalescer, renameNamedUuids } from '../../src/ovsdb/coalescer.ts';
import { OvsdbError } from '../../src/ovsdb/errors.ts';
import type { MutateOp, Operation, OperationResult } from '../../src/ovsdb/protocol.ts';

const insert = (name: string, uuidName?: string): Operation => ({
  op: 'insert',
  table: 'Port_Group',
  row: { name },
  ...(uuidName ? { 'uuid-name': uuidName } : {}),
});

function recorder(fail?: (ops: Operation[]) => Error | undefined) {
  const batches: Operation[][] = [];
  const transact = async (ops: Operation[]): Promise<OperationResult[]> => {
    batches.push(ops);
    const err = fail?.(ops);
    if (err) throw err;
    return ops.map((op) => ({ uuid: ['uuid', (op as unknown as { row: { name: string } }).row.name] }));
  };
  return { batches, transact };
}

describe('TransactionCoalescer', () => {
  it('merges members submitted in the same turn and gives each its own results', async () => {
    const r = recorder();
    const c = new TransactionCoalescer(r.transact);
    const results = await Promise.all([c.submit([insert('a')]), c.submit([insert('b'), insert('c')]), c.submit([insert('d')])]);
    expect(r.batches).toHaveLength(1);
    expect(results).toEqual([[{ uuid: ['uuid', 'a'] }], [{ uuid: ['uuid', 'b'] }, { uuid: ['uuid', 'c'] }], [{ uuid: ['uuid', 'd'] }]]);
  });

  it('with maxDelayMs, merges members arriving across turns within the window, and still sends a lone member', async () => {
    const r = recorder();
    const c = new TransactionCoalescer(r.transact, { maxDelayMs: 30 });
    const first = c.submit([insert('a')]);
    await new Promise((res) => setImmediate(res));
    const second = c.submit([insert('b')]);
    await Promise.all([first, second]);
    expect(r.batches.map((b) => b.length)).toEqual([2]);
    const t0 = performance.now();
    await c.submit([insert('lone')]);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.batches).toHaveLength(2);
  });

  it('runs a member with a blocking wait or an abort on its own', async () => {
    const r = recorder();
    const c = new TransactionCoalescer(async (ops) => {
      r.batches.push(ops);
      return ops.map(() => ({}));
    });
    await Promise.all([
      c.submit([insert('a')]),
      c.submit([{ op: 'wait', table: 'T', where: [], columns: ['x'], until: '==', rows: [], timeout: 1000 }]),
      c.submit([insert('b')]),
    ]);
    expect(r.batches.map((b) => b.map((o) => o.op))).toEqual([['wait'], ['insert', 'insert']]);
  });

  it('closes a batch at maxOps', async () => {
    const r = recorder();
    const c = new TransactionCoalescer(r.transact, { maxOps: 4, maxInFlight: 10 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => c.submit([insert(`p${i}`)])));
    expect(r.batches.map((b) => b.length)).toEqual([4, 4, 2]);
  });

  it('renames a clashing uuid-name and every reference to it, only in the later member', async () => {
    const r = recorder();
    const c = new TransactionCoalescer(r.transact);
    const m1: Operation[] = [insert('a', 'row'), { op: 'mutate', table: 'T', where: [], mutations: [['ports', 'insert', ['set', [['named-uuid', 'row']]]]] }];
    const m2: Operation[] = [insert('b', 'row'), { op: 'mutate', table: 'T', where: [], mutations: [['ports', 'insert', ['named-uuid', 'row']]] }];
    await Promise.all([c.submit(m1), c.submit(m2)]).catch(() => undefined);
    const sent = r.batches[0]!;
    expect(sent[0]).toBe(m1[0]);
    const renamed = (sent[2] as { 'uuid-name': string })['uuid-name'];
    expect(renamed).toMatch(/^c\d+_row$/);
    expect((sent[3] as { mutations: unknown[] }).mutations[0]).toEqual(['ports', 'insert', ['named-uuid', renamed]]);
  });

  it('fails only the member an op error blames and resubmits the others without it', async () => {
    const r = recorder((ops) => {
      const bad = ops.findIndex((op) => (op as unknown as { row: { name: string } }).row.name === 'bad');
      if (bad < 0) return undefined;
      return new OvsdbError({ code: 'constraint violation', stage: 'transact', opIndex: bad, results: ops.map(() => null) });
    });
    const c = new TransactionCoalescer(r.transact);
    const out = await Promise.allSettled([c.submit([insert('a')]), c.submit([insert('x'), insert('bad')]), c.submit([insert('b')])]);
    expect(out.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const err = (out[1] as PromiseRejectedResult).reason as OvsdbError;
    expect(err.opIndex).toBe(1); // relative to the member's own two ops
    expect(r.batches.map((b) => b.length)).toEqual([4, 2]);
  });

  it('bisects on a commit error that blames nobody, and never retries a transport error', async () => {
    const r = recorder((ops) =>
      ops.some((op) => (op as unknown as { row: { name: string } }).row.name === 'bad') ? new OvsdbError({ code: 'constraint violation', stage: 'commit', opIndex: ops.length }) : undefined,
    );
    const c = new TransactionCoalescer(r.transact);
    const names = Array.from({ length: 16 }, (_, i) => (i === 11 ? 'bad' : `p${i}`));
    const out = await Promise.allSettled(names.map((n) => c.submit([insert(n)])));
    expect(out.filter((o) => o.status === 'rejected')).toHaveLength(1);
    expect(out[11]!.status).toBe('rejected');
    expect(r.batches.length).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(16)));

    const lost = new Error('connection lost');
    const t = new TransactionCoalescer(async () => {
      throw lost;
    });
    const res = await Promise.allSettled([t.submit([insert('a')]), t.submit([insert('b')])]);
    expect(res.map((x) => (x as PromiseRejectedResult).reason)).toEqual([lost, lost]);
  });

  it('fuses tail set-inserts on the same row and column into one mutate, and gives each member its result', async () => {
    const batches: Operation[][] = [];
    const c = new TransactionCoalescer(async (ops) => {
      batches.push(ops);
      return ops.map((op) => (op.op === 'mutate' ? { count: 1 } : { uuid: ['uuid', 'x'] as ['uuid', string] }));
    });
    const tail = (sw: string, ref: string): MutateOp => ({ op: 'mutate', table: 'Logical_Switch', where: [['name', '==', sw]], mutations: [['ports', 'insert', ['set', [['named-uuid', ref]]]]] });
    const out = await Promise.all([
      c.submit([insert('a', 'ra')], [tail('s1', 'ra')]),
      c.submit([insert('b', 'rb')], [tail('s1', 'rb')]),
      c.submit([insert('c', 'ra')], [tail('s2', 'ra')]),
    ]);
    const sent = batches[0]!;
    expect(sent.map((o) => o.op)).toEqual(['insert', 'insert', 'insert', 'mutate', 'mutate']);
    const s1 = sent[3] as MutateOp;
    expect(s1.mutations[0]![2]).toEqual(['set', [['named-uuid', 'ra'], ['named-uuid', 'rb']]]);
    // the third member's clashing name was renamed in its tail too
    const renamed = (sent[2] as { 'uuid-name': string })['uuid-name'];
    expect((sent[4] as MutateOp).mutations[0]![2]).toEqual(['set', [['named-uuid', renamed]]]);
    expect(out.map((r) => r.length)).toEqual([2, 2, 2]);
    expect(out[0]![1]).toEqual({ count: 1 });
    await expect(c.submit([], [{ op: 'mutate', table: 'T', where: [], mutations: [['x', '+=', 1]] }])).rejects.toMatchObject({ code: 'COALESCER_BAD_TAIL' });
  });

  it('renameNamedUuids leaves ops without named uuids equal', () => {
    const ops: Operation[] = [{ op: 'update', table: 'T', where: [['name', '==', 'x']], row: { a: ['map', [['k', 'v']]] } }];
    expect(renameNamedUuids(ops, 'p_')).toEqual(ops);
  });
});
