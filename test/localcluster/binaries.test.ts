// The build step's failure messages, driven through the real script in a scratch cache dir:
// no Go on PATH, and a Go module proxy that cannot be reached. Nothing is built.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const scratch = mkdtempSync(join(tmpdir(), 'ovnkit-build-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Calls ensureBinaries() in a child Node whose environment points at an empty cache. */
function ensureIn(env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  const script = `
    import { ensureBinaries } from ${JSON.stringify(join(import.meta.dirname, '../../src/localcluster/binaries.ts'))};
    try { await ensureBinaries({ onLine: (l) => console.log('LINE ' + l) }); console.log('OK'); }
    catch (e) { console.log('ERR ' + JSON.stringify({ code: e.code, stage: e.stage, object: e.object, message: e.message })); }
  `;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

function errorOf(out: string): { code: string; stage: string; object: string; message: string } {
  const line = out.split('\n').find((l) => l.startsWith('ERR '));
  expect(line, out).toBeDefined();
  return JSON.parse((line as string).slice(4)) as { code: string; stage: string; object: string; message: string };
}

describe('building the pinned binaries', () => {
  it('--print-bin-dir names a cache dir per pin set and creates nothing', () => {
    const cache = join(scratch, 'print');
    const dir = execFileSync('bash', ['scripts/build-k8s-binaries.sh', '--print-bin-dir'], { env: { ...process.env, OVNKIT_CACHE_DIR: cache }, encoding: 'utf8' }).trim();
    expect(dir).toMatch(new RegExp(`^${cache}/bin-k8s-v[\\d.]+-etcd-v[\\d.]+-kwok-v[\\d.]+$`));
    expect(() => execFileSync('test', ['-e', cache])).toThrow();
  });

  it('without Go: a BUILD_FAILED error that says so', async () => {
    const env = { ...process.env, OVNKIT_CACHE_DIR: join(scratch, 'nogo'), PATH: '/usr/bin:/bin' };
    const { out } = await ensureIn(env);
    const err = errorOf(out);
    expect(err.code).toBe('BUILD_FAILED');
    expect(err.message).toContain('Go is not installed');
    expect(out).toContain('LINE [build-k8s] FAILED: Go is not installed');
  });

  it('with an unreachable module proxy: the error names the failed step and its log file', async () => {
    const cache = join(scratch, 'noproxy');
    const env = { ...process.env, OVNKIT_CACHE_DIR: cache, GOPROXY: 'off', GOMODCACHE: join(scratch, 'empty-modcache'), GOFLAGS: '-mod=mod' };
    const { out } = await ensureIn(env);
    const err = errorOf(out);
    expect(err.code).toBe('BUILD_FAILED');
    expect(err.stage).toBe('build');
    expect(err.object).toBe('k8s-mod-tidy');
    expect(err.message).toContain(`${cache}/build-logs/k8s-mod-tidy.log`);
    // Progress went through as it happened.
    expect(out).toContain('LINE [build-k8s] step k8s-mod-tidy: started');
  });
});
