// The npm package as a user gets it: scripts/pack.sh makes the two tarballs, an empty project
// installs them offline, and child processes on this Node import `ovnkit`, load the addon from
// the platform package, fall back to TS without it, and run the `ovnkit` bin.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');
const PLATFORM_PACKAGE = '@ovnkit/binding-linux-x64-gnu';
const BINARY = 'ovnkit.linux-x64-gnu.node';

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

// Children run on the Node running this test (24), also through `#!/usr/bin/env node` and npm.
const childEnv: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
delete childEnv.OVNKIT_IMPL;
delete childEnv.NAPI_RS_NATIVE_LIBRARY_PATH;
delete childEnv.NODE_OPTIONS;
// When the test runs under `npx`/`npm run`, npm's per-invocation context (the repo as local
// prefix, the repo's package fields) must not leak into the npm commands run in the temp project.
for (const key of Object.keys(childEnv)) {
  if (key === 'INIT_CWD' || key === 'npm_command' || key === 'npm_config_local_prefix' || key.startsWith('npm_package_') || key.startsWith('npm_lifecycle_')) delete childEnv[key];
}

function run(command: string, args: string[], cwd: string, timeoutMs = 240_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: childEnv, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function describeRun(what: string, r: RunResult): string {
  return `${what} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

interface ProbeResult {
  stage: 'import' | 'ipam';
  ok: boolean;
  exports?: Record<string, string>;
  impl?: string;
  secondImpl?: string;
  v4?: string;
  error?: string;
  code?: string;
  addons?: string[];
  warnings: { name: string; code?: string; message: string }[];
}

let work: string;
let project: string;
let tarballs: { root: string; platform: string; sizes: Record<string, number> };

async function probe(impl: string): Promise<ProbeResult> {
  const r = await run(process.execPath, ['probe.mjs', impl], project, 60_000);
  expect(r.code, describeRun(`probe ${impl}`, r)).toBe(0);
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as ProbeResult;
}

async function listTarball(path: string): Promise<string[]> {
  const r = await run('tar', ['tzf', path], work);
  expect(r.code, describeRun(`tar tzf ${path}`, r)).toBe(0);
  return r.stdout.trim().split('\n');
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ovnkit-pack-test-'));
  // The tarballs land in the project dir, which pack.sh makes installable (--install-project:
  // package.json on both tarballs, package-lock.json pinning their dependencies to the repo's).
  project = join(work, 'project');
  // `make test` builds native/ first; reuse it rather than rebuild (and rewrite a mapped .node).
  const reuse = existsSync(join(REPO, 'native', BINARY)) && existsSync(join(REPO, 'native', 'index.js'));
  // OVNKIT_PACK_REF=HEAD packs the committed sources (a shared tree may hold others' half edits).
  const ref = process.env.OVNKIT_PACK_REF ? ['--ref', process.env.OVNKIT_PACK_REF] : [];
  const packed = await run('bash', [join(REPO, 'scripts', 'pack.sh'), ...(reuse ? ['--reuse-native'] : []), ...ref, '--install-project', project], REPO, 600_000);
  expect(packed.code, describeRun('scripts/pack.sh', packed)).toBe(0);
  const sizes: Record<string, number> = {};
  for (const line of packed.stdout.trim().split('\n')) {
    const [path, size] = line.split(' ');
    sizes[path!] = Number(size);
  }
  const paths = Object.keys(sizes);
  const platform = paths.find((p) => p.endsWith('/ovnkit-binding-linux-x64-gnu-0.1.0.tgz'));
  const root = paths.find((p) => p.endsWith('/ovnkit-0.1.0.tgz'));
  expect({ platform, root, count: paths.length }, packed.stdout).toMatchObject({ platform: expect.any(String), root: expect.any(String), count: 2 });
  tarballs = { root: root!, platform: platform!, sizes };

  copyFileSync(join(import.meta.dirname, 'probe.mjs'), join(project, 'probe.mjs'));
  // --offline: every tarball comes from the npm cache that `npm ci` filled; nothing is fetched.
  const installed = await run('npm', ['install', '--offline', '--no-audit', '--no-fund'], project);
  expect(installed.code, describeRun('npm install --offline (a cache miss shows as ENOTCACHED)', installed)).toBe(0);
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('packed tarballs', () => {
  it('the root package has the JS, types, bin and napi loader but no binary; the platform package only the binary', async () => {
    const root = await listTarball(tarballs.root);
    for (const f of ['package/package.json', 'package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/cli/main.js', 'package/native/index.js', 'package/deploy/rbac.yaml', 'package/scripts/build-k8s-binaries.sh', 'package/scripts/pins.env']) {
      expect(root).toContain(f);
    }
    expect(root.filter((f) => f.endsWith('.node') || f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts') || f.startsWith('package/src/'))).toEqual([]);
    expect((await listTarball(tarballs.platform)).sort()).toEqual(['package/README.md', `package/${BINARY}`, 'package/package.json']);
    // The binary dominates; the root package is JS only.
    expect(tarballs.sizes[tarballs.platform]).toBeGreaterThan(100_000);
  });

  it('the installed root package depends on the platform package only as an optional dependency', () => {
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules', 'ovnkit', 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    expect(manifest.optionalDependencies).toEqual({ [PLATFORM_PACKAGE]: '0.1.0' });
    expect(manifest.dependencies?.[PLATFORM_PACKAGE]).toBeUndefined();
    // Every runtime dependency is the version the repo's lock pins (pack.sh --install-project).
    const repoLock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dev?: boolean; devOptional?: boolean; optional?: boolean }> };
    const runtime = Object.entries(repoLock.packages).filter(([key, e]) => key.startsWith('node_modules/') && !e.dev && !e.devOptional && !e.optional);
    expect(runtime.length).toBeGreaterThan(10);
    const installedVersions = runtime.map(([key]) => [key, (JSON.parse(readFileSync(join(project, key, 'package.json'), 'utf8')) as { version: string }).version]);
    expect(installedVersions).toEqual(runtime.map(([key, e]) => [key, e.version]));
    // The repo's own package.json must not carry it (npm ci breaks until it is published).
    const repoManifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(repoManifest.optionalDependencies).toBeUndefined();
  });
});

describe('installed package', () => {
  it("imports the public API and serves impl 'native' from the platform package", async () => {
    const result = await probe('native');
    expect(result, JSON.stringify(result)).toMatchObject({ stage: 'ipam', ok: true, impl: 'native', secondImpl: 'native', v4: '10.16.0.2' });
    expect(result.exports).toEqual({ Ipam: 'function', OvsdbClient: 'function', WorkQueue: 'function', startLocalCluster: 'function' });
    expect(result.addons).toEqual([join(project, 'node_modules', PLATFORM_PACKAGE, BINARY)]);
    expect(result.warnings).toEqual([]);
  });

  it("impl 'auto' picks the platform package's binary without a warning", async () => {
    const result = await probe('auto');
    expect(result, JSON.stringify(result)).toMatchObject({ ok: true, impl: 'native', v4: '10.16.0.2' });
    expect(result.addons).toEqual([join(project, 'node_modules', PLATFORM_PACKAGE, BINARY)]);
    expect(result.warnings).toEqual([]);
  });

  it('npx ovnkit --help exits 0 and prints usage; a bad flag is a usage error', async () => {
    const help = await run('npx', ['ovnkit', '--help'], project, 60_000);
    expect(help.code, describeRun('npx ovnkit --help', help)).toBe(0);
    expect(help.stdout).toMatch(/^Usage:/m);
    expect(help.stdout).toContain('ovnkit up [flags]');
    const bad = await run('npx', ['ovnkit', '--no-such-flag'], project, 60_000);
    expect(bad.code, describeRun('npx ovnkit --no-such-flag', bad)).toBe(2);
    expect(bad.stderr).toContain('unknown flag "--no-such-flag"');
  });
});

describe('published types', () => {
  it("a TypeScript consumer type-checks against dist/*.d.ts (not any: a wrong type is caught)", async () => {
    writeFileSync(
      join(project, 'consumer.ts'),
      [
        "import { Ipam, OvsdbClient, WorkQueue, startLocalCluster, type Allocation } from 'ovnkit';",
        "const ipam = new Ipam({ impl: 'auto' });",
        "const allocation: Allocation = ipam.allocate({ subnet: 's', owner: 'o', nic: 'n' });",
        'const wrong: number = ipam.impl;',
        'console.log(allocation, OvsdbClient, WorkQueue, startLocalCluster, wrong);',
        '',
      ].join('\n'),
    );
    const compilerOptions = { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2023', lib: ['es2023'], strict: true, noEmit: true, types: [], skipLibCheck: true };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
    const tsc = await run(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], project, 120_000);
    const errors = tsc.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
    expect(errors, describeRun('tsc', tsc)).toEqual([expect.stringMatching(/^consumer\.ts\(4,7\): error TS2322: Type '[^']+' is not assignable to type 'number'/)]);
  });
});

describe('installed package without the platform package', () => {
  const platformDir = (): string => join(project, 'node_modules', ...PLATFORM_PACKAGE.split('/'));
  const asideDir = (): string => join(work, 'platform-package-aside');

  beforeAll(() => renameSync(platformDir(), asideDir()));
  afterAll(() => {
    if (existsSync(asideDir())) renameSync(asideDir(), platformDir());
  });

  it("impl 'auto' falls back to TS with exactly one warning", async () => {
    const result = await probe('auto');
    expect(result, JSON.stringify(result)).toMatchObject({ stage: 'ipam', ok: true, impl: 'ts', secondImpl: 'ts', v4: '10.16.0.2' });
    expect(result.addons).toEqual([]);
    expect(result.warnings).toHaveLength(1);
    const [warning] = result.warnings;
    expect(warning!.code).toBe('OVNKIT_NATIVE_FALLBACK');
    expect(warning!.message).toMatch(/^ipam: falling back to the TypeScript implementation; native addon failed to load: /);
    expect(warning!.message).not.toContain('Cannot find native binding');
  });

  it("impl 'native' is an error with code Internal, not a silent fallback", async () => {
    const result = await probe('native');
    expect(result, JSON.stringify(result)).toMatchObject({ stage: 'ipam', ok: false, code: 'Internal' });
    expect(result.error).toMatch(/impl 'native' requested but native addon failed to load/);
    expect(result.addons).toEqual([]);
  });

  // napi tries the .node next to its loader first and the platform package last; the warning
  // must name the platform package, the piece an installed package is actually missing.
  it('the fallback warning names the missing platform package', async () => {
    const result = await probe('auto');
    expect(result.warnings[0]?.message).toContain(`Cannot find module '${PLATFORM_PACKAGE}'`);
  });
});
