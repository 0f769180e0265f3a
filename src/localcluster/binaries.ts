// Locates the pinned control-plane binaries built by scripts/build-k8s-binaries.sh and builds
// them when missing. The script is the single source of truth for the cache location (it reads
// scripts/pins.env and OVNKIT_CACHE_DIR); this file never recomputes the path itself.
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalClusterError } from './errors.ts';

export const REQUIRED_BINARIES = [
  'etcd',
  'etcdctl',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kwok',
] as const;
export type BinaryName = (typeof REQUIRED_BINARIES)[number];
export const KWOK_STAGES_FILE = 'kwok-stages.yaml';

/** The package root: src/localcluster/ (or dist/localcluster/) is two levels below it. */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export function buildScriptPath(): string {
  return join(packageRoot(), 'scripts', 'build-k8s-binaries.sh');
}

let cachedBinDir: string | undefined;

/** The cache directory for the current pins, as the build script computes it. */
export function binDir(): string {
  if (cachedBinDir !== undefined) return cachedBinDir;
  const script = buildScriptPath();
  try {
    cachedBinDir = execFileSync('bash', [script, '--print-bin-dir'], { encoding: 'utf8' }).trim();
  } catch (err) {
    throw new LocalClusterError('BINARIES_MISSING', 'locate-binaries', script, 'could not ask the build script for its bin dir', { cause: err });
  }
  if (cachedBinDir === '') throw new LocalClusterError('BINARIES_MISSING', 'locate-binaries', script, 'the build script printed an empty bin dir');
  return cachedBinDir;
}

/** Names of binaries (and the kwok stage file) absent from `dir`. */
export function missingBinaries(dir: string): string[] {
  const missing: string[] = [];
  for (const name of REQUIRED_BINARIES) {
    try {
      accessSync(join(dir, name), constants.X_OK);
    } catch {
      missing.push(name);
    }
  }
  try {
    if (statSync(join(dir, KWOK_STAGES_FILE)).size === 0) missing.push(KWOK_STAGES_FILE);
  } catch {
    missing.push(KWOK_STAGES_FILE);
  }
  return missing;
}

export interface EnsureBinariesOptions {
  /** Receives every progress line of the build script; default: written to stderr. */
  onLine?: (line: string) => void;
  /** Use this bin dir instead of asking the script (it must already be complete). */
  binDir?: string;
}

/**
 * Returns the bin dir, building the binaries first when any is missing. A cold build takes
 * about 20 minutes; the script prints a heartbeat every 30 s which is passed through.
 */
export async function ensureBinaries(options: EnsureBinariesOptions = {}): Promise<string> {
  if (options.binDir !== undefined) {
    const missing = missingBinaries(options.binDir);
    if (missing.length > 0) {
      throw new LocalClusterError('BINARIES_MISSING', 'locate-binaries', options.binDir, `missing ${missing.join(', ')}`);
    }
    return options.binDir;
  }
  const dir = binDir();
  if (missingBinaries(dir).length === 0) return dir;
  const onLine = options.onLine ?? ((line: string) => process.stderr.write(`${line}\n`));
  await runBuildScript(onLine);
  const missing = missingBinaries(dir);
  if (missing.length > 0) {
    throw new LocalClusterError('BUILD_FAILED', 'build', dir, `the build script succeeded but ${missing.join(', ')} are still missing`);
  }
  return dir;
}

function runBuildScript(onLine: (line: string) => void): Promise<void> {
  const script = buildScriptPath();
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const forward = (chunk: Buffer, pending: { text: string }) => {
      pending.text += chunk.toString('utf8');
      let nl = pending.text.indexOf('\n');
      while (nl >= 0) {
        const line = pending.text.slice(0, nl);
        pending.text = pending.text.slice(nl + 1);
        lines.push(line);
        if (lines.length > 200) lines.shift();
        onLine(line);
        nl = pending.text.indexOf('\n');
      }
    };
    const out = { text: '' };
    const err = { text: '' };
    child.stdout.on('data', (c: Buffer) => forward(c, out));
    child.stderr.on('data', (c: Buffer) => forward(c, err));
    child.on('error', (e) => reject(new LocalClusterError('BUILD_FAILED', 'build', script, `could not run bash: ${e.message}`, { cause: e })));
    child.on('close', (code, signal) => {
      for (const rest of [out.text, err.text]) if (rest !== '') onLine(rest);
      if (code === 0) {
        resolvePromise();
        return;
      }
      const failure = describeBuildFailure([...lines, out.text, err.text]);
      reject(new LocalClusterError('BUILD_FAILED', 'build', failure.step, `${failure.message} (exit ${code ?? signal})`));
    });
  });
}

/** Picks the failing step and its log file out of the script's `FAILED: step <name> (see <log>...` line. */
export function describeBuildFailure(lines: string[]): { step: string; message: string } {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? '';
    const step = /FAILED: step (\S+) \(see (\S+?)[;)]/.exec(line);
    if (step) return { step: step[1] ?? 'unknown', message: `step ${step[1]} failed; its log is ${step[2]}` };
    const other = /FAILED: (.*)$/.exec(line);
    if (other) return { step: 'build-script', message: other[1] ?? line };
  }
  return { step: 'build-script', message: `scripts/build-k8s-binaries.sh failed; see the output above` };
}
