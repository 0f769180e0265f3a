// Spawning and stopping the real server processes that tests and `ovnkit up` run (ovsdb-server,
// ovn-northd, etcd, kube-apiserver, ...). Every child is tracked in one registry so that none
// outlives this Node process, and each writes a pid file so a later run can clean up after a
// run that crashed before it could.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  isAlive(): boolean;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves once the process is gone. */
  stop(timeoutMs?: number): Promise<ExitStatus>;
  /** Sends a signal as is (SIGKILL, SIGSTOP, SIGCONT, ...). */
  signal(sig: NodeJS.Signals): void;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended here. */
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export class ProcessError extends Error {
  readonly code: string;
  readonly stage: string;
  readonly process: string;
  constructor(code: string, stage: string, processName: string, message: string, options?: ErrorOptions) {
    super(`${processName}: ${stage}: ${message}`, options);
    this.name = 'ProcessError';
    this.code = code;
    this.stage = stage;
    this.process = processName;
  }
}

const live = new Map<number, ManagedProcess>();
let exitHooksInstalled = false;

/** Kills every live child synchronously (SIGKILL): used on exit, where nothing async runs. */
export function killAllManagedSync(): void {
  for (const [pid] of live) {
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

/** Stops every live child (SIGTERM, then SIGKILL). */
export async function stopAllManaged(timeoutMs = 5000): Promise<void> {
  await Promise.all([...live.values()].map((p) => p.stop(timeoutMs)));
}

export function liveManagedPids(): number[] {
  return [...live.keys()];
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killAllManagedSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      // Someone else handles this signal (e.g. `ovnkit up` stopping gracefully): leave it to
      // them; the 'exit' hook still kills whatever they leave running.
      if (process.listenerCount(sig) > 1) return;
      killAllManagedSync();
      // Listening for the signal replaced the default action; restore it and re-raise so the
      // process still dies with the signal's usual status.
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

export function spawnManaged(opts: SpawnOptions): ManagedProcess {
  installExitHooks();
  const logFd = openSync(opts.logFile, 'a');
  let child;
  try {
    child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', logFd, logFd],
    });
  } finally {
    closeSync(logFd);
  }
  // Registered before anything can throw: an unhandled 'error' (e.g. ENOENT) would crash Node.
  child.once('error', () => {
    // 'exit' follows, or the process never started (pid undefined, reported below).
  });
  const pid = child.pid;
  if (pid === undefined) {
    throw new ProcessError('SpawnFailed', 'spawn', opts.name, `could not start ${opts.command} (see ${opts.logFile})`);
  }
  let alive = true;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      alive = false;
      live.delete(pid);
      resolve({ code, signal });
    });
  });
  const managed: ManagedProcess = {
    name: opts.name,
    pid,
    logFile: opts.logFile,
    exited,
    isAlive: () => alive,
    signal(sig) {
      if (!alive) return;
      try {
        process.kill(pid, sig);
      } catch {
        // raced with exit
      }
    },
    async stop(timeoutMs = 5000) {
      if (!alive) return exited;
      managed.signal('SIGTERM');
      // A stopped (SIGSTOP) process only acts on SIGTERM once continued.
      managed.signal('SIGCONT');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const first = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (first === 'timeout') managed.signal('SIGKILL');
      return exited;
    },
  };
  live.set(pid, managed);
  return managed;
}

function findInPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Resolves a binary from PATH plus the sbin directories Debian puts servers in. */
export function resolveBinary(command: string, installHint: string): string {
  const found = findInPath(command) ?? ['/usr/sbin', '/usr/local/sbin', '/sbin'].map((d) => join(d, command)).find((p) => existsSync(p));
  if (!found) {
    throw new ProcessError('BinaryNotFound', 'resolve', command, `${command} is not installed; ${installHint}`);
  }
  return found;
}

export interface WaitForOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Named in the timeout error. */
  what: string;
}

/** Polls `probe` until it returns something other than undefined/false, or times out. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitForOptions,
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 20;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new ProcessError('Timeout', 'wait', opts.what, `not ready after ${opts.timeoutMs} ms${why}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * Cleans up after crashed earlier runs: for each directory under `root` whose name starts with
 * `prefix` and whose owner (see markOwned) is no longer running, kills every pid named by a
 * `*.pid` file in it that still runs one of `commands`; with `removeDirs`, also deletes those
 * directories. Returns the pids it killed.
 */
export function killLeftovers(root: string, prefix: string, commands: string[], opts: { removeDirs?: boolean } = {}): number[] {
  const killed: number[] = [];
  if (!existsSync(root)) return killed;
  for (const entry of readdirSync(root)) {
    if (!entry.startsWith(prefix)) continue;
    // Directories owned by a Node process that still runs belong to a concurrent run: hands off.
    if (ownerAlive(join(root, entry))) continue;
    for (const pidFile of findPidFiles(join(root, entry), 3)) {
      const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
      if (!Number.isInteger(pid) || pid <= 1 || live.has(pid)) continue;
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        continue; // not running
      }
      if (!commands.some((c) => cmdline.includes(c))) continue;
      try {
        process.kill(pid, 'SIGCONT');
        process.kill(pid, 'SIGKILL');
        killed.push(pid);
      } catch {
        // gone meanwhile
      }
    }
    // Only directories we marked are ours to delete; unmarked ones may belong to anything.
    if (opts.removeDirs === true && existsSync(join(root, entry, OWNER_FILE))) rmSync(join(root, entry), { recursive: true, force: true });
  }
  return killed;
}

export const OWNER_FILE = '.owner';

/** Marks `dir` as owned by this Node process (see killLeftovers). */
export function markOwned(dir: string): void {
  writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
}

function ownerAlive(dir: string): boolean {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(join(dir, OWNER_FILE), 'utf8').trim(), 10);
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 1) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function findPidFiles(dir: string, depth: number): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      continue;
    }
    if (isDir && depth > 0) out.push(...findPidFiles(path, depth - 1));
    else if (name.endsWith('.pid')) out.push(path);
  }
  return out;
}
