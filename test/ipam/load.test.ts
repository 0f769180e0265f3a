// Choosing the implementation: OVNKIT_IMPL=ts needs no native binary; `auto` with a binary
// that cannot load falls back to TS with ONE warning naming the real load error (the napi
// loader hides it several `cause` levels down); explicit `native` fails with that error.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ipam, IpamError } from '../../src/ipam/index.ts';
import { resetNativeLoaderForTests, rootCause } from '../../src/native/load.ts';

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

function collectWarnings(): { list: Error[]; stop: () => void } {
  const list: Error[] = [];
  const onWarning = (w: Error) => {
    if ((w as Error & { code?: string }).code === 'OVNKIT_NATIVE_FALLBACK') list.push(w);
  };
  process.on('warning', onWarning);
  return { list, stop: () => process.off('warning', onWarning) };
}

const savedImpl = process.env.OVNKIT_IMPL;
afterEach(() => {
  if (savedImpl === undefined) delete process.env.OVNKIT_IMPL;
  else process.env.OVNKIT_IMPL = savedImpl;
  resetNativeLoaderForTests();
});

describe('rootCause', () => {
  it('lists every load attempt, first to last, and keeps the chain', () => {
    const deepest = new Error('libovnkit.node: invalid ELF header');
    const err = new Error('Cannot find native binding', { cause: new Error('level 1', { cause: new Error('level 2', { cause: deepest }) }) });
    const root = rootCause(err) as Error & { chain: string[] };
    expect(root.message).toBe('native addon failed to load: libovnkit.node: invalid ELF header; level 2; level 1');
    expect(root.chain).toEqual(['Cannot find native binding', 'level 1', 'level 2', 'libovnkit.node: invalid ELF header']);
    expect(root.cause).toBe(err);
  });

  it('handles a non-Error cause and a plain value', () => {
    expect(rootCause(new Error('top', { cause: 'text cause' })).message).toBe('native addon failed to load: top');
    expect(rootCause('just a string').message).toBe('native addon failed to load: just a string');
  });
});

describe('implementation choice', () => {
  it('OVNKIT_IMPL=ts works with no native binary present, without any warning', async () => {
    process.env.OVNKIT_IMPL = 'ts';
    resetNativeLoaderForTests(join(tmpdir(), 'ovnkit-no-such-dir', 'index.js'));
    const warnings = collectWarnings();
    try {
      const ipam = new Ipam({ impl: 'native', macSeed: 3 });
      expect(ipam.impl).toBe('ts');
      ipam.addOrUpdateSubnet({ name: 's', cidr: '10.0.0.0/24' });
      expect(ipam.allocate({ subnet: 's', owner: 'o', nic: 'n', mac: null })).toEqual({ v4: '10.0.0.2' });
      await nextTick();
      expect(warnings.list).toEqual([]);
    } finally {
      warnings.stop();
    }
  });

  it('a bad OVNKIT_IMPL value is an error, not a silent default', () => {
    process.env.OVNKIT_IMPL = 'rust';
    expect(() => new Ipam({ macSeed: 1 })).toThrow(/OVNKIT_IMPL must be one of native, ts, auto/);
  });

  it('auto with a broken binary falls back to TS with one warning naming the real load error', async () => {
    delete process.env.OVNKIT_IMPL;
    const dir = mkdtempSync(join(tmpdir(), 'ovnkit-broken-'));
    try {
      // The real napi-generated loader next to a .node file that is not a shared object.
      copyFileSync(join(import.meta.dirname, '../../native/index.js'), join(dir, 'index.js'));
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
      writeFileSync(join(dir, 'ovnkit.linux-x64-gnu.node'), 'this is not an ELF file\n'.repeat(100));
      resetNativeLoaderForTests(join(dir, 'index.js'));
      const warnings = collectWarnings();
      try {
        const a = new Ipam({ macSeed: 1 });
        const b = new Ipam({ impl: 'auto', macSeed: 1 });
        expect([a.impl, b.impl]).toEqual(['ts', 'ts']);
        a.addOrUpdateSubnet({ name: 's', cidr: 'fd00::/120' });
        expect(a.allocate({ subnet: 's', owner: 'o', nic: 'n', mac: null })).toEqual({ v6: 'fd00::2' });
        await nextTick();
        expect(warnings.list).toHaveLength(1);
        const message = warnings.list[0]!.message;
        expect(message).toMatch(/^ipam: falling back to the TypeScript implementation; native addon failed to load: /);
        // the dlopen failure of our .node file, not the loader's generic "Cannot find native binding"
        expect(message).toContain('ovnkit.linux-x64-gnu.node');
        expect(message).toMatch(/invalid ELF header|file too short|not a valid/i);
        expect(message).not.toMatch(/Cannot find native binding/);

        let thrown: unknown;
        try {
          new Ipam({ impl: 'native', macSeed: 1 });
        } catch (err) {
          thrown = err;
        }
        expect(thrown).toBeInstanceOf(IpamError);
        expect((thrown as IpamError).code).toBe('Internal');
        expect((thrown as IpamError).message).toMatch(/invalid ELF header|file too short|not a valid/i);
      } finally {
        warnings.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
