// The native binding's own guarantees: a Rust panic surfaces as IpamError 'Internal' (never an
// abort), wrong JS types are refused as InvalidArgument (napi would otherwise coerce numbers),
// handles are per instance, and the packed transports survive awkward text.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { IpamError } from '../../src/ipam/errors.ts';
import { Ipam } from '../../src/ipam/index.ts';
import { createNativeBackend } from '../../src/ipam/native.ts';
import { createTsBackend } from '../../src/ipam/ts/backend.ts';
import type { IpamBackend } from '../../src/ipam/types.ts';

const require = createRequire(import.meta.url);
const binding = require('../../native/index.js') as Record<string, unknown>;

function thrown(fn: () => unknown): IpamError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(IpamError);
    return err as IpamError;
  }
  throw new Error('expected an IpamError, nothing was thrown');
}

function backend(seed = 1) {
  const b = createNativeBackend(binding, { macSeed: seed });
  b.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24,fd00::/120' });
  return b;
}

describe('native IPAM binding', () => {
  it('turns a Rust panic into an Internal error and keeps the process alive', () => {
    const testPanic = binding.__testPanic as (unguarded: boolean) => void;
    for (const unguarded of [false, true]) {
      let err: unknown;
      try {
        testPanic(unguarded);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      const code = (err as { code: string }).code;
      // Inside an operation the guard maps it to Internal; outside, napi's catch_unwind gives
      // GenericFailure, which the adapter maps to Internal too.
      expect(code).toBe(unguarded ? 'GenericFailure' : 'Internal');
    }
    // Through the adapter, a real panic in the addon is an IpamError 'Internal' either way.
    for (const unguarded of [false, true]) {
      const panicking = { ...binding, ipamAllocate: () => testPanic(unguarded), ipamAllocatePacked: () => testPanic(unguarded) };
      const b = createNativeBackend(panicking, { macSeed: 1 });
      const e = thrown(() => b.allocate({ subnet: 's', owner: 'ns/a', nic: 'e' }));
      expect(e.code).toBe('Internal');
      expect(e.message).toContain('deliberate test panic');
    }
    const b = backend();
    expect(b.allocate({ subnet: 's', owner: 'ns/a', nic: 'e' }).v4).toBe('10.0.0.2');
  });

  it('keeps the panic hook out of the typed public surface', () => {
    expect(Object.keys(binding).filter((k) => k.startsWith('__test'))).toEqual(['__testPanic']);
  });

  it('refuses numbers and objects where strings are expected', () => {
    const b = backend();
    const cases: Array<() => unknown> = [
      () => b.allocate({ subnet: 5 as unknown as string, owner: 'ns/a', nic: 'e' }),
      () => b.allocate({ subnet: 's', owner: { x: 1 } as unknown as string, nic: 'e' }),
      () => b.allocate({ subnet: 's', owner: 'ns/a', nic: 'e', skip: [1 as unknown as string] }),
      () => b.allocate({ subnet: 's', owner: 'ns/a', nic: 'e', mac: 42 as unknown as string }),
      () => b.allocate({ subnet: 's', owner: 'ns/a', nic: 'e', family: 'ipv5' as unknown as 'ipv4' }),
      () => b.allocateStatic({ subnet: 's', owner: 'ns/a', nic: 'e', ips: 167772169 as unknown as string }),
      () => b.allocateStatic({ subnet: 's', owner: 'ns/a', nic: 'e', ips: '10.0.0.9', force: 1 as unknown as boolean }),
      () => b.ownerOf('s', 167772169 as unknown as string),
      () => b.addOrUpdateSubnet({ name: 't', cidr: 10 as unknown as string }),
      () => b.addOrUpdatePool('s', 'p', [10 as unknown as string]),
      () => b.restore([{ subnet: 's', owner: 'ns/a', nic: 'e', v4: 167772169 as unknown as string }]),
      () => b.restore('x' as unknown as []),
    ];
    for (const c of cases) expect(thrown(c).code).toBe('InvalidArgument');
    // Nothing was allocated by the refused calls.
    expect(b.addressesOf('ns/a')).toEqual([]);
  });

  it('refuses a non-integer or out-of-range seed instead of coercing it', () => {
    for (const seed of [1.5, -1, 2 ** 53, Number.NaN]) {
      expect(thrown(() => createNativeBackend(binding, { macSeed: seed })).code).toBe('InvalidArgument');
    }
    expect(thrown(() => createNativeBackend(binding, { macSeed: '7' as unknown as number })).code).toBe('InvalidArgument');
  });

  it('keeps instances apart and refuses a foreign handle', () => {
    const a = backend(3);
    const b = backend(3);
    const x = a.allocate({ subnet: 's', owner: 'ns/a', nic: 'e' });
    expect(b.allocate({ subnet: 's', owner: 'ns/a', nic: 'e' })).toEqual(x);
    a.releaseOwner('ns/a');
    expect(a.ownerOf('s', x.v4!)).toBeUndefined();
    expect(b.ownerOf('s', x.v4!)).toBe('ns/a');
    const allocate = binding.ipamAllocate as (...args: unknown[]) => string;
    let err: unknown;
    try {
      allocate({}, 's', 'ns/a', 'e', undefined, 0, 0, undefined, undefined);
    } catch (e) {
      err = e;
    }
    expect((err as { code: string }).code).toBe('InvalidArg');
  });

  it('makes a deferred releaseNic visible to every following call', () => {
    // The adapter ships releaseNic with the next call; nothing may observe the delay.
    const observers: Array<[string, (b: IpamBackend) => unknown]> = [
      ['ownerOf', (b) => b.ownerOf('s', '10.0.0.2')],
      ['addressesOf', (b) => b.addressesOf('ns/a')],
      ['subnetStats', (b) => b.subnetStats('s')],
      ['poolStats', (b) => b.poolStats('s', '')],
      ['allocateStatic', (b) => b.allocateStatic({ subnet: 's', owner: 'ns/b', nic: 'e', ips: '10.0.0.2' })],
      ['allocate', (b) => b.allocate({ subnet: 's', owner: 'ns/b', nic: 'e' })],
      ['allocate with mac', (b) => b.allocate({ subnet: 's', owner: 'ns/b', nic: 'e', mac: null })],
      ['restore', (b) => b.restore([{ subnet: 's', owner: 'ns/b', nic: 'e', v4: '10.0.0.2' }])],
    ];
    for (const [name, observe] of observers) {
      const n = backend(5);
      const t = createTsBackend({ macSeed: 5 });
      t.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24,fd00::/120' });
      for (const b of [n, t]) {
        b.allocate({ subnet: 's', owner: 'ns/a', nic: 'e' });
        b.releaseNic('ns/a', 'e', 's');
      }
      expect(observe(n), name).toEqual(observe(t));
      expect(n.addressesOf('ns/a'), name).toEqual([]);
    }
    // Like the TS backend, a release under a name nothing can hold is a no-op; the facade is what
    // rejects such a name, at once.
    const n = backend();
    n.releaseNic('bad name', 'e');
    n.releaseNic('a\u0001b', 'e\u0000', 's');
    expect(n.addressesOf('ns/x')).toEqual([]);
    expect(thrown(() => new Ipam({ impl: 'native', macSeed: 1 }).releaseNic('bad name', 'e')).code).toBe('InvalidArgument');
  });

  it('takes any text as a name, like the TS backend (names are the facade\'s to check)', () => {
    const n = backend(2);
    const t = createTsBackend({ macSeed: 2 });
    t.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24,fd00::/120' });
    const long = `ns/${'x'.repeat(300)}`;
    for (const owner of ['a b', 'é/ü', long]) {
      const req = { subnet: 's', owner, nic: 'eth 0' };
      expect(n.allocate(req)).toEqual(t.allocate(req));
      expect(n.addressesOf(owner)).toEqual(t.addressesOf(owner));
      n.releaseOwner(owner);
      t.releaseOwner(owner);
      expect(n.addressesOf(owner)).toEqual([]);
    }
    expect(n.subnetStats('s')).toEqual(t.subnetStats('s'));
  });

  it('reports error code, message and fields like the TS twin', () => {
    const n = backend();
    const t = createTsBackend({ macSeed: 1 });
    t.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24,fd00::/120' });
    for (const b of [n, t]) b.allocate({ subnet: 's', owner: 'ns/a', nic: 'e' });
    const en = thrown(() => n.allocateStatic({ subnet: 's', owner: 'ns/b', nic: 'e', ips: '10.0.0.2' }));
    const et = thrown(() => t.allocateStatic({ subnet: 's', owner: 'ns/b', nic: 'e', ips: '10.0.0.2' }));
    expect({ ...en, message: en.message }).toEqual({ ...et, message: et.message });
    expect(en.code).toBe('AddressConflict');
    expect(en.heldBy).toBe('ns/a');
  });

  it('carries awkward text through restore and error messages unchanged', () => {
    const n = backend();
    const t = createTsBackend({ macSeed: 1 });
    t.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24,fd00::/120' });
    const records = [
      { subnet: 's', owner: 'ns/a', nic: 'e', v4: '10.0.0.\u00009' },
      { subnet: 's', owner: 'ns/b', nic: 'e', mac: 'é\u0001"\\', v4: '10.0.0.7' },
      { subnet: 's', owner: 'ns/d', nic: 'e', v4: '10.0.0.8', mac: '02:00:00:00:00:08' },
    ];
    const rn = n.restore(records);
    const rt = t.restore(records);
    expect(rn).toEqual(rt);
    expect(rn.restored).toBe(1);
    expect(rn.conflicts[0]!.record).toBe(records[0]);
    expect(rn.conflicts.map((c) => c.code)).toEqual(['InvalidArgument', 'InvalidMAC']);
    const skipText = 'a\u0000b\u{1F600}';
    const en = thrown(() => n.allocate({ subnet: 's', owner: 'ns/x', nic: 'e', skip: [skipText] }));
    const et = thrown(() => t.allocate({ subnet: 's', owner: 'ns/x', nic: 'e', skip: [skipText] }));
    expect([en.code, en.message, en.address]).toEqual([et.code, et.message, et.address]);
  });

  it('reports a lone UTF-16 surrogate as U+FFFD (known, documented difference)', () => {
    // napi hands Rust UTF-8, so an unpaired surrogate in a text input becomes U+FFFD in the
    // message; the code is still the same as the TS twin's.
    const n = backend();
    const e = thrown(() => n.ownerOf('s', 'fd00::\ud800'));
    expect(e.code).toBe('InvalidArgument');
    expect(e.message).toBe('invalid IP address "fd00::\ufffd"');
  });

  it('refuses a malformed packed ASCII restore batch before restoring anything', () => {
    const raw = binding as unknown as {
      ipamNew(seed: number): object;
      ipamAddOrUpdateSubnet(h: object, n: string, c: string, g: undefined, e: string[]): string;
      ipamRestoreAscii(h: object, lengths: Int32Array, bytes: Uint8Array): string;
      ipamOwnerOf(h: object, s: string, ip: string): string | null;
    };
    const h = raw.ipamNew(1);
    raw.ipamAddOrUpdateSubnet(h, 's', '10.0.0.0/24', undefined, []);
    const bytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
    const good = { lengths: [1, 4, 1, 8, -1, -1], text: 'sns/ae10.0.0.9' };
    const cases: Array<[number[], Uint8Array]> = [
      [[...good.lengths, 1, 4, 1, 9, -1, -1], bytes(`${good.text}sns/be10.0.0.10`.slice(0, -1))], // runs past the text
      [good.lengths.slice(0, 5), bytes(good.text)], // not 6 per record
      [good.lengths, Uint8Array.from([...bytes(good.text).slice(0, -1), 0xc3])], // not ASCII
    ];
    for (const [lengths, b] of cases) {
      let err: unknown;
      try {
        raw.ipamRestoreAscii(h, Int32Array.from(lengths), b);
      } catch (e) {
        err = e;
      }
      expect((err as { code?: string }).code).toBe('InvalidArgument');
      expect(raw.ipamOwnerOf(h, 's', '10.0.0.9')).toBeNull();
    }
    expect(JSON.parse(raw.ipamRestoreAscii(h, Int32Array.from(good.lengths), bytes(good.text)))).toEqual({ restored: 1, conflicts: [] });
    expect(raw.ipamOwnerOf(h, 's', '10.0.0.9')).toBe('ns/a');
  });

  it('restores 20k shuffled records in one call and agrees with TS', () => {
    const n = createNativeBackend(binding, { macSeed: 9 });
    const t = createTsBackend({ macSeed: 9 });
    for (const b of [n, t]) b.addOrUpdateSubnet({ name: 'big', cidr: '10.16.0.0/16' });
    const records = Array.from({ length: 20_000 }, (_, i) => ({
      subnet: 'big',
      owner: `ns/p${i}`,
      nic: `p${i}.ns`,
      v4: `10.16.${(i + 2) >> 8}.${(i + 2) & 255}`,
    }));
    for (let i = records.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [records[i], records[j]] = [records[j]!, records[i]!];
    }
    records.push({ ...records[5]!, owner: 'ns/dup' });
    const rn = n.restore(records);
    expect(rn).toEqual(t.restore(records));
    expect(rn.restored).toBe(20_000);
    expect(rn.conflicts).toHaveLength(1);
    expect(n.subnetStats('big')).toEqual(t.subnetStats('big'));
    expect(n.allocate({ subnet: 'big', owner: 'ns/new', nic: 'e' })).toEqual(t.allocate({ subnet: 'big', owner: 'ns/new', nic: 'e' }));
  });
});
