// A record of every running local cluster under one known directory (default
// ~/.cache/ovnkit/run/), so a run that crashed (SIGKILL, OOM, a killed test runner) is cleaned up
// by the next start: its processes are killed by their recorded PIDs and its temp dir removed.
// Entries whose owning Node process is still alive belong to a concurrent run and are left alone.
// The kill itself is process.ts's killLeftovers; this file adds the per-cluster bookkeeping.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { killLeftovers, markOwned, OWNER_FILE } from './process.ts';

export const ENTRY_PREFIX = 'cluster-';
const INFO_FILE = 'cluster.json';

/** Process names a leftover pid must still run before it is killed (guards against PID reuse). */
export const CLUSTER_COMMANDS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'ovsdb-server', 'ovn-northd'];

export function runRoot(): string {
  return process.env.OVNKIT_RUN_DIR ?? join(process.env.OVNKIT_CACHE_DIR ?? join(homedir(), '.cache', 'ovnkit'), 'run');
}

interface EntryInfo {
  workDir: string;
  removeWorkDir: boolean;
  ownerPid: number;
  startedAt: string;
}

export interface RunEntry {
  readonly path: string;
  recordPid(component: string, pid: number): void;
  forgetPid(component: string): void;
  /** Removes the entry (after every process is stopped). */
  remove(): void;
}

export function createRunEntry(name: string, workDir: string, removeWorkDir: boolean): RunEntry {
  const root = runRoot();
  mkdirSync(root, { recursive: true });
  const path = join(root, `${ENTRY_PREFIX}${name}`);
  // Built under a name the reaper ignores, then renamed: a concurrent reaper never sees an entry
  // without its owner file (it would take it for a crashed run and delete it).
  const building = join(root, `.building-${name}`);
  mkdirSync(building, { recursive: true });
  markOwned(building);
  const info: EntryInfo = { workDir, removeWorkDir, ownerPid: process.pid, startedAt: new Date().toISOString() };
  writeFileSync(join(building, INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
  renameSync(building, path);
  const pidFile = (component: string) => join(path, `${component.replace(/[^a-zA-Z0-9_.-]/g, '_')}.pid`);
  return {
    path,
    recordPid(component, pid) {
      writeFileSync(pidFile(component), `${pid}\n`);
    },
    forgetPid(component) {
      rmSync(pidFile(component), { force: true });
    },
    remove() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}

export interface LeftoverReport {
  killedPids: number[];
  removedEntries: string[];
}

/** Kills processes of clusters whose owner died, then removes those entries and their temp dirs. */
export function reapLeftoverClusters(): LeftoverReport {
  const root = runRoot();
  if (!existsSync(root)) return { killedPids: [], removedEntries: [] };
  const killedPids = killLeftovers(root, ENTRY_PREFIX, CLUSTER_COMMANDS);
  const removedEntries: string[] = [];
  for (const name of readdirSync(root)) {
    if (!name.startsWith(ENTRY_PREFIX)) continue;
    const entry = join(root, name);
    if (ownerAlive(entry)) continue;
    try {
      const info = JSON.parse(readFileSync(join(entry, INFO_FILE), 'utf8')) as EntryInfo;
      if (info.removeWorkDir && existsSync(info.workDir)) rmSync(info.workDir, { recursive: true, force: true });
    } catch {
      // no or broken info file: only the entry itself can go
    }
    rmSync(entry, { recursive: true, force: true });
    removedEntries.push(entry);
  }
  return { killedPids, removedEntries };
}

function ownerAlive(entry: string): boolean {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(join(entry, OWNER_FILE), 'utf8').trim(), 10);
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
