// The dense forms (hierarchical bitmap, array of holders) and the sparse forms (ranges minus
// holes plus extras, map of holders) must be indistinguishable: the same random call sequence
// on one TS IPAM built dense and one forced sparse gives identical outcomes, call by call.
import { afterEach, describe, expect, it } from 'vitest';
import { Ipam } from '../../src/ipam/index.ts';
import { setLayoutLimitsForTests } from '../../src/ipam/ts/family.ts';
import { apply, initialSubnets, randomOp, rng, snapshot } from './random-ops.ts';

afterEach(() => setLayoutLimitsForTests());

function withLayout<T>(sparse: boolean, fn: () => T): T {
  if (sparse) setLayoutLimitsForTests(0n, 0n);
  else setLayoutLimitsForTests();
  try {
    return fn();
  } finally {
    setLayoutLimitsForTests();
  }
}

describe('dense and sparse layouts agree', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('random sequence, seed %d', (seed) => {
    delete process.env.OVNKIT_IMPL;
    const dense = new Ipam({ impl: 'ts', macSeed: seed });
    const sparse = new Ipam({ impl: 'ts', macSeed: seed });
    withLayout(false, () => initialSubnets(dense));
    withLayout(true, () => initialSubnets(sparse));
    const r = rng(seed * 7919);
    let errors = 0;
    for (let i = 0; i < 4000; i++) {
      const op = randomOp(r);
      const a = withLayout(false, () => apply(dense, op));
      const b = withLayout(true, () => apply(sparse, op));
      if (JSON.stringify(a) !== JSON.stringify(b)) {
        throw new Error(`seed ${seed}, op #${i} ${JSON.stringify(op)}:\n dense  ${JSON.stringify(a)}\n sparse ${JSON.stringify(b)}`);
      }
      if (typeof a === 'object' && a !== null && 'error' in a) errors++;
      if (i % 500 === 499) expect(snapshot(sparse)).toEqual(snapshot(dense));
    }
    // the sequence must exercise both outcomes, or it proves little
    expect(errors).toBeGreaterThan(100);
    expect(errors).toBeLessThan(3500);
  });
});
