// `ovnkit up` as a user runs it: the whole stack in the foreground, a KUBECONFIG line, kubectl
// works against it, Ctrl-C (SIGINT) stops every process and removes the directory.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { binDir } from '../../src/localcluster/index.ts';
import { pidGone } from './watch-stream.ts';

const execFileAsync = promisify(execFile);
const main = join(import.meta.dirname, '../../src/cli/main.ts');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

interface RunningUp {
  child: ChildProcess;
  exited: Promise<number | null>;
  kubeconfig: string;
  output: { stdout: string; stderr: string };
}

/** Spawns `ovnkit up` and resolves once it printed its KUBECONFIG line. */
async function startUp(args: string[]): Promise<RunningUp> {
  const child = spawn(process.execPath, [main, 'up', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stderr?.on('data', (c: Buffer) => (output.stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const kubeconfig = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no KUBECONFIG line in 120 s; stdout:\n${output.stdout}\nstderr:\n${output.stderr}`)), 120_000);
    child.stdout?.on('data', (c: Buffer) => {
      output.stdout += c.toString();
      const m = /^KUBECONFIG=(.+)$/m.exec(output.stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    void exited.then((code) => reject(new Error(`ovnkit up exited with ${code}:\n${output.stdout}\n${output.stderr}`)));
  });
  return { child, exited, kubeconfig, output };
}

const readyPids = (stdout: string): Map<string, number> =>
  new Map([...stdout.matchAll(/\] (\S+) ready in [\d.]+s \(pid (\d+)\)/g)].map((m) => [m[1] as string, Number(m[2])]));

describe('ovnkit up', () => {
  it('--help lists the flags; a bad flag is a usage error (exit 2)', async () => {
    const help = await runCli(['up', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--nodes N', '--no-nb', '--northd', '--keep', '--dir DIR']) expect(help.stdout).toContain(flag);
    const bad = await runCli(['up', '--frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown flag "--frobnicate"');
    expect(bad.stdout).toBe('');
    const badValue = await runCli(['up', '--nodes', 'many']);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toMatch(/--nodes must be a whole number/);
  });

  it('starts the stack, prints KUBECONFIG, serves kubectl, and stops everything on SIGINT', async () => {
    const up = await startUp(['--nodes', '2']);
    const { child, exited, kubeconfig } = up;
    const stdout = up.output.stdout;
    // Not a TTY: plain progress lines with timings, one per step.
    expect(stdout).toMatch(/\[ovnkit up\] kube-apiserver ready in \d+\.\d+s \(pid \d+\)/);
    expect(stdout).toMatch(/\[ovnkit up\] ovn-nb ready in/);
    expect(stdout).toContain(`${join(binDir(), 'kubectl')} get nodes`);
    const pids = [...readyPids(stdout).values()];
    expect(pids.length).toBe(6); // etcd, apiserver, controller-manager, scheduler, kwok, ovn-nb

    const { stdout: nodes } = await execFileAsync(join(binDir(), 'kubectl'), [`--kubeconfig=${kubeconfig}`, 'get', 'nodes', '--no-headers']);
    const lines = nodes.trim().split('\n');
    expect(lines.length).toBe(2);
    for (const l of lines) expect(l).toMatch(/^kwok-node-\d\s+Ready\s/);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(up.output.stdout).toContain('ovnkit up: stopped');
    for (const pid of pids) expect(pidGone(pid), `pid ${pid}`).toBe(true);
    expect(existsSync(dirname(kubeconfig))).toBe(false);
  });

  it('a component dying stops the whole stack and exits 1', async () => {
    const up = await startUp(['--nodes', '1', '--no-nb']);
    const pids = readyPids(up.output.stdout);
    const kwok = pids.get('kwok');
    expect(kwok).toBeDefined();
    process.kill(kwok as number, 'SIGKILL');
    expect(await up.exited).toBe(1);
    expect(up.output.stderr).toContain('ovnkit up: stopped because kwok exited unexpectedly');
    for (const pid of pids.values()) expect(pidGone(pid), `pid ${pid}`).toBe(true);
    expect(existsSync(dirname(up.kubeconfig))).toBe(false);
  });

  it('SIGINT during the start aborts it, stops what started, and exits 130', async () => {
    const child = spawn(process.execPath, [main, 'up', '--nodes', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`etcd never got ready:\n${stdout}\n${stderr}`)), 60_000);
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        if (/etcd ready in/.test(stdout)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const dir = /certificates ready in [\d.]+s - (\S+)/.exec(stdout)?.[1];
    expect(dir).toBeDefined();
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stdout).not.toContain('KUBECONFIG=');
    for (const pid of readyPids(stdout).values()) expect(pidGone(pid), `pid ${pid}`).toBe(true);
    expect(existsSync(dir as string)).toBe(false);
  });
});
