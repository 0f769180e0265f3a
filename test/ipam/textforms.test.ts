// Address/MAC grammar, RFC 5952 output, splitmix64 against a bigint reference, and the
// per-address sets against a plain Set model (docs/ipam.md §1, §3, §8).
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatV6, parseIp, parseMac, parseV4, parseV6, SplitMix64 } from '../../src/ipam/ts/addr.ts';
import { DenseSet, SparseSet, type IdxSet } from '../../src/ipam/ts/bitset.ts';
import { TombMap } from '../../src/ipam/ts/tombmap.ts';
import { MacTable } from '../../src/ipam/ts/mactable.ts';
import { FamilyState } from '../../src/ipam/ts/family.ts';
import { parseSubnetSpec } from '../../src/ipam/ts/spec.ts';

describe('IPv4 text', () => {
  it.each([
    ['0.0.0.0', 0],
    ['10.16.0.1', 0x0a100001],
    ['255.255.255.255', 0xffffffff],
  ])('%s parses', (text, value) => expect(parseV4(text)).toBe(value));

  it.each(['', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.256', '1.2.3.-4', ' 1.2.3.4', '1.2.3.4 ', '1..2.3', '1.2.3.4.', 'a.b.c.d', '1.2.3.00'])(
    '%j is rejected',
    (text) => expect(parseV4(text)).toBeUndefined(),
  );
});

describe('IPv6 text', () => {
  it.each([
    ['::', '::'],
    ['::1', '::1'],
    ['FD00::0A', 'fd00::a'],
    ['fd00:0:0:0:0:0:0:1', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0001:0000:0000:0000:0001', '2001:db8:0:1::1'],
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['1::', '1::'],
    ['0:0:1::', '0:0:1::'],
  ])('%s is written %s', (text, canonical) => {
    expect(formatV6(parseV6(text)!)).toBe(canonical);
  });

  it.each(['', ':', ':::', '1:::2', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::', '::ffff:1.2.3.4', 'fe80::1%eth0', '[::1]', ' ::1', '1:2:3:4:5:6:7::8', ':1::'])(
    '%j is rejected',
    (text) => expect(parseV6(text)).toBeUndefined(),
  );

  it('agrees with node:net on random valid forms and round-trips', () => {
    let s = 7;
    const rnd = (n: number) => (s = (s * 48271) % 2147483647) % n;
    for (let i = 0; i < 2000; i++) {
      const groups = Array.from({ length: 8 }, () => (rnd(3) === 0 ? 0 : rnd(65536)));
      const full = groups.map((g) => g.toString(16)).join(':');
      const value = parseV6(full)!;
      const text = formatV6(value);
      expect(isIP(text)).toBe(6);
      expect(parseV6(text)).toBe(value);
      expect(text).toBe(text.toLowerCase());
    }
  });

  it('family is decided by ":"', () => {
    expect(parseIp('10.0.0.1')).toEqual({ family: 'ipv4', value: 0x0a000001 });
    expect(parseIp('::2')).toEqual({ family: 'ipv6', value: 2n });
    expect(parseIp('10.0.0.1:80')).toBeUndefined();
  });
});

describe('MAC text', () => {
  it('normalises case and rejects other forms', () => {
    expect(parseMac('0A:58:0a:10:00:05')).toBe('0a:58:0a:10:00:05');
    for (const bad of ['0a580a100005', '0a-58-0a-10-00-05', '0a:58:0a:10:00', '0a:58:0a:10:00:05:06', 'ga:58:0a:10:00:05', '0a:58:0a:10:00:5']) {
      expect(parseMac(bad)).toBeUndefined();
    }
  });
});

describe('splitmix64', () => {
  const MASK = (1n << 64n) - 1n;
  function reference(seed: bigint) {
    let state = seed;
    return () => {
      state = (state + 0x9e3779b97f4a7c15n) & MASK;
      let z = state;
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
      return z ^ (z >> 31n);
    };
  }

  it.each([0, 1, 42, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 123456789012345])('matches the bigint reference for seed %d', (seed) => {
    const ref = reference(BigInt(seed));
    const ours = new SplitMix64(seed);
    for (let i = 0; i < 1000; i++) {
      const [hi, lo] = ours.next();
      expect((BigInt(hi) << 32n) | BigInt(lo)).toBe(ref());
    }
  });

  it('seed 0 gives e2:20:a8:39:7b:1d first', () => {
    expect(new SplitMix64(0).nextMac()).toBe('e2:20:a8:39:7b:1d');
  });
});

describe('per-address sets agree with a Set model', () => {
  const run = (make: () => IdxSet, size: number, toIdx: (n: number) => number | bigint, seed: number, scale = 1) => {
    let s = seed;
    const rnd = (n: number) => (s = (s * 48271) % 2147483647) % n;
    const set = make();
    const model = new Set<number>();
    for (let op = 0; op < 20000; op++) {
      const i = rnd(size);
      const r = rnd(10);
      if (r < 4) expect(set.add(toIdx(i))).toBe(!model.has(i)), model.add(i);
      else if (r < 7) expect(set.delete(toIdx(i))).toBe(model.has(i)), model.delete(i);
      else if (r < 8) expect(set.has(toIdx(i))).toBe(model.has(i));
      else {
        let want: number | undefined;
        for (const m of model) if (m >= i && (want === undefined || m < want)) want = m;
        const got = set.lowestAtLeast(toIdx(i));
        expect(got === undefined ? undefined : Number(got) / scale).toBe(want);
      }
      expect(set.isEmpty()).toBe(model.size === 0);
    }
  };

  it('DenseSet (hierarchical bitmap)', () => {
    run(() => new DenseSet(70000), 70000, (n) => n, 3);
    run(() => new DenseSet(100), 100, (n) => n, 5);
  });

  it('SparseSet with an empty base', () => {
    run(() => new SparseSet(), 5000, (n) => BigInt(n) * 97n, 11, 97);
  });

  it('SparseSet built from base ranges (holes and extras)', () => {
    let s = 17;
    const rnd = (n: number) => (s = (s * 48271) % 2147483647) % n;
    const set = new SparseSet([
      [10n, 2000n],
      [5000n, 5100n],
    ]);
    const model = new Set<number>();
    for (let i = 10; i <= 2000; i++) model.add(i);
    for (let i = 5000; i <= 5100; i++) model.add(i);
    for (let op = 0; op < 20000; op++) {
      const i = rnd(6000);
      const r = rnd(10);
      if (r < 3) expect(set.add(BigInt(i))).toBe(!model.has(i)), model.add(i);
      else if (r < 7) expect(set.delete(BigInt(i))).toBe(model.has(i)), model.delete(i);
      else {
        let want: number | undefined;
        for (const m of model) if (m >= i && (want === undefined || m < want)) want = m;
        const got = set.lowestAtLeast(BigInt(r === 9 ? 0 : i));
        if (r === 9) want = model.size === 0 ? undefined : Math.min(...model);
        expect(got === undefined ? undefined : Number(got)).toBe(want);
      }
    }
  });

  it('a DenseSet spanning only part of the family works in family offsets', () => {
    const d = new DenseSet(100, 1000);
    expect(d.add(1050)).toBe(true);
    expect(d.lowestAtLeast(0)).toBe(1050);
    expect(d.lowestAtLeast(1051)).toBeUndefined();
    expect(d.has(50)).toBe(false);
    expect(d.delete(50)).toBe(false);
    expect(() => d.add(1100)).toThrow(/outside/);
    const e = d.emptyLike() as DenseSet;
    e.fillRanges([[1000, 1009]]);
    expect(e.size).toBe(10);
    const all = new DenseSet(2000);
    all.absorb(e);
    all.absorb(d);
    expect([all.lowestAtLeast(0), all.lowestAtLeast(1010), all.size]).toEqual([1000, 1050, 11]);
  });

  it('absorb merges disjoint sets', () => {
    const a = new DenseSet(1000);
    const b = new DenseSet(1000);
    a.fillRanges([[0, 9]]);
    b.fillRanges([[500, 509]]);
    a.absorb(b);
    expect(a.size).toBe(20);
    expect(a.lowestAtLeast(10)).toBe(500);
    const c = new SparseSet([[0n, 9n]]);
    const d = new SparseSet([[500n, 509n]]);
    d.delete(500n);
    c.absorb(d);
    expect(c.size).toBe(19n);
    expect(c.lowestAtLeast(10n)).toBe(501n);
  });
});

describe('TombMap', () => {
  it('behaves like a Map across deletes, re-adds and compaction', () => {
    const t = new TombMap<string, number>();
    const m = new Map<string, number>();
    let s = 9;
    const rnd = (n: number) => (s = (s * 48271) % 2147483647) % n;
    for (let op = 0; op < 50000; op++) {
      const k = `k${rnd(3000)}`;
      if (rnd(2) === 0) {
        t.set(k, op);
        m.set(k, op);
      } else {
        expect(t.delete(k)).toBe(m.delete(k));
      }
      expect(t.size).toBe(m.size);
    }
    expect(new Map(t.entries())).toEqual(m);
  });
});

describe('MacTable', () => {
  it('behaves like a Map of 48-bit keys across inserts, deletes (backward shift) and growth', () => {
    const t = new MacTable<number>(4);
    const m = new Map<number, number>();
    let s = 5;
    const rnd = (n: number) => (s = (s * 48271) % 2147483647) % n;
    // few distinct keys so probe runs collide and wrap; some keys differ only in the high word
    const keys = Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? i * 4294967296 + 7 : 0xfeffffffffff - i));
    for (let op = 0; op < 60000; op++) {
      const k = keys[rnd(keys.length)]!;
      const r = rnd(3);
      if (r === 0) {
        t.set(k, op);
        m.set(k, op);
      } else if (r === 1) {
        expect(t.delete(k)).toBe(m.delete(k));
      } else {
        expect(t.get(k)).toBe(m.get(k));
        expect(t.has(k)).toBe(m.has(k));
      }
      expect(t.size).toBe(m.size);
    }
    for (const k of keys) expect(t.get(k)).toBe(m.get(k));
  });
});

describe('IPv6 family formatting fast path', () => {
  it.each(['fd00::/64', 'fd00:1:2:3::/64', '2001:db8::/96', 'fd00::ffff:ffff:ffff:0/112', 'fd00::/120', '::/64', 'fd00::/48', '::/127'])(
    '%s formats every offset like formatV6',
    (cidr) => {
      const fam = new FamilyState(parseSubnetSpec({ name: 's', cidr }).ipv6!);
      let s = 3;
      const rnd = (n: number) => (s = (s * 48271) % 2147483647) % n;
      const offsets: bigint[] = [0n, 1n, fam.size - 1n, fam.size - 2n > 0n ? fam.size - 2n : 0n];
      for (let k = 0; k < 300; k++) offsets.push((BigInt(rnd(2 ** 31)) * BigInt(rnd(2 ** 31)) * BigInt(1 + rnd(2 ** 20))) % fam.size);
      for (const o of offsets) {
        const idx = fam.dense ? Number(o) : o;
        expect(fam.format(idx)).toBe(formatV6(fam.def.first + o));
      }
    },
  );
});
