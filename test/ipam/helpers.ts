// Assertion helpers shared by the IPAM suites.
import { expect } from 'vitest';
import { IpamError } from '../../src/ipam/index.ts';
import type { IpamErrorCode } from '../../src/ipam/index.ts';

/** Runs fn, which must throw an IpamError with this code (and message / fields if given). */
export function expectIpamError(
  fn: () => unknown,
  code: IpamErrorCode,
  expected: { message?: string | RegExp; [field: string]: unknown } = {},
): IpamError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected IpamError ${code}`).toBeInstanceOf(IpamError);
  const err = thrown as IpamError;
  expect({ code: err.code, message: err.message }).toMatchObject({
    code,
    ...(typeof expected.message === 'string' ? { message: expected.message } : {}),
  });
  if (expected.message instanceof RegExp) expect(err.message).toMatch(expected.message);
  for (const [k, v] of Object.entries(expected)) {
    if (k !== 'message') expect((err as unknown as Record<string, unknown>)[k], `field ${k}`).toEqual(v);
  }
  return err;
}
