// Two clusters at once must not collide (ports, dirs, data), and a run that crashed before it
// could stop its cluster is cleaned up by the next start: its processes are killed by their
// recorded PIDs and its temp dir removed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type LocalCluster, startLocalCluster } from '../../src/localcluster/index.ts';
import { apiCall, apiCallOk } from '../../src/localcluster/rest.ts';
import { pidGone } from './watch-stream.ts';

const started: LocalCluster[] = [];

async function goneWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!pidGone(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return pidGone(pid);
}

afterAll(async () => {
  await Promise.all(started.map((c) => c.stop()));
});

/**
 * Starts an apiserver-only cluster in a child Node process and then ends that process without
 * stop(): by SIGKILL ('kill'), SIGTERM ('term') or process.exit ('exit').
 */
async function abandonedRun(how: 'kill' | 'exit' | 'term'): Promise<{ pids: number[]; dir: string; entry: string }> {
  const script = `
    import { startLocalCluster } from ${JSON.stringify(join(import.meta.dirname, '../../src/localcluster/index.ts'))};
    import { runRoot } from ${JSON.stringify(join(import.meta.dirname, '../../src/localcluster/run-registry.ts'))};
    const c = await startLocalCluster({ apiserverOnly: true, crds: false, rbac: false, progress: false });
    process.stdout.write(JSON.stringify({ pids: Object.values(c.processes), dir: c.dir, entry: runRoot() + '/cluster-' + c.name }) + '\\n');
    if (${JSON.stringify(how)} === 'exit') process.exit(0);
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.once('exit', (code) => {
      if (!buf.includes('\n')) reject(new Error(`child exited early with ${code}`));
    });
  });
  if (how === 'kill') child.kill('SIGKILL');
  if (how === 'term') child.kill('SIGTERM');
  if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  return JSON.parse(line) as { pids: number[]; dir: string; entry: string };
}

describe('clusters side by side and after a crash', () => {
  it('a process that exits without stop() takes its cluster with it', async () => {
    const run = await abandonedRun('exit');
    expect(run.pids.length).toBe(2);
    // SIGKILLed at exit; init reaps the orphaned zombies a moment later.
    for (const pid of run.pids) expect(await goneWithin(pid, 5000), `pid ${pid}`).toBe(true);
    expect(existsSync(run.dir)).toBe(false);
    expect(existsSync(run.entry)).toBe(false);
  });

  it('SIGTERM to the owning process kills its cluster processes', async () => {
    const run = await abandonedRun('term');
    for (const pid of run.pids) expect(await goneWithin(pid, 5000), `pid ${pid}`).toBe(true);
  });

  it('the next start stops what a crashed run left behind', async () => {
    const crashed = await abandonedRun('kill');
    expect(crashed.pids.length).toBe(2);
    // The owner died by SIGKILL, so nothing stopped its etcd and apiserver.
    for (const pid of crashed.pids) expect(pidGone(pid), `orphan ${pid} still running`).toBe(false);
    const events: string[] = [];
    const a = await startLocalCluster({ apiserverOnly: true, progress: (e) => events.push(`${e.step} ${e.phase} ${e.detail ?? ''}`) });
    started.push(a);
    // At least our 2 orphans (another crashed run on this machine may add its own).
    const reaped = events.map((e) => /^leftovers stopped killed (\d+) process/.exec(e)).find((m) => m !== null);
    expect(Number(reaped?.[1] ?? 0)).toBeGreaterThanOrEqual(2);
    for (const pid of crashed.pids) expect(await goneWithin(pid, 5000), `orphan ${pid}`).toBe(true);
    expect(existsSync(crashed.dir)).toBe(false);
  });

  it('two clusters run at once with their own ports, dirs and data', async () => {
    const [b, c] = await Promise.all([startLocalCluster({ apiserverOnly: true }), startLocalCluster({ apiserverOnly: true, crds: false })]);
    started.push(b, c);
    expect(b.server).not.toBe(c.server);
    expect(b.etcdEndpoint).not.toBe(c.etcdEndpoint);
    expect(b.dir).not.toBe(c.dir);
    await apiCallOk(b.api(), 'test', 'POST', '/api/v1/namespaces', { metadata: { name: 'only-in-b' } });
    expect((await apiCall(b.api(), 'GET', '/api/v1/namespaces/only-in-b')).status).toBe(200);
    expect((await apiCall(c.api(), 'GET', '/api/v1/namespaces/only-in-b')).status).toBe(404);
    // Tokens are per cluster: b's admin token means nothing to c.
    expect((await apiCall({ ...c.api(), token: b.adminToken }, 'GET', '/api/v1/namespaces')).status).toBe(401);
    // b has our CRDs, c was asked for none.
    expect((await apiCall(b.api(), 'GET', '/apis/kubeovn.io/v1/subnets')).status).toBe(200);
    expect((await apiCall(c.api(), 'GET', '/apis/kubeovn.io/v1/subnets')).status).toBe(404);

    const pids = [...Object.values(b.processes), ...Object.values(c.processes)];
    expect(new Set(pids).size).toBe(4);
    await b.stop();
    for (const pid of Object.values(c.processes)) expect(pidGone(pid)).toBe(false);
    expect((await apiCall(c.api(), 'GET', '/readyz')).status).toBe(200);
    await c.stop();
    for (const pid of pids) expect(pidGone(pid), `pid ${pid}`).toBe(true);
  });
});
