// `ovnkit up` as a user runs it: the whole stack in the foreground, a KUBECONFIG line, kubectl
// works against it, Ctrl-C (SIGINT) stops every process and removes the directory.
import { execFile, spawn } from 'node:child_process';
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
    const child = spawn(process.execPath, [main, 'up', '--nodes', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const kubeconfig = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no KUBECONFIG line in 120 s; stdout:\n${stdout}\nstderr:\n${stderr}`)), 120_000);
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        const m = /^KUBECONFIG=(.+)$/m.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(m[1] as string);
        }
      });
      void exited.then((code) => reject(new Error(`ovnkit up exited with ${code}:\n${stdout}\n${stderr}`)));
    });
    // Not a TTY: plain progress lines with timings, one per step.
    expect(stdout).toMatch(/\[ovnkit up\] kube-apiserver ready in \d+\.\d+s \(pid \d+\)/);
    expect(stdout).toMatch(/\[ovnkit up\] ovn-nb ready in/);
    expect(stdout).toContain(`${join(binDir(), 'kubectl')} get nodes`);
    const pids = [...stdout.matchAll(/ ready in [\d.]+s \(pid (\d+)\)/g)].map((m) => Number(m[1]));
    expect(pids.length).toBe(6); // etcd, apiserver, controller-manager, scheduler, kwok, ovn-nb

    const { stdout: nodes } = await execFileAsync(join(binDir(), 'kubectl'), [`--kubeconfig=${kubeconfig}`, 'get', 'nodes', '--no-headers']);
    const lines = nodes.trim().split('\n');
    expect(lines.length).toBe(2);
    for (const l of lines) expect(l).toMatch(/^kwok-node-\d\s+Ready\s/);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toContain('ovnkit up: stopped');
    for (const pid of pids) expect(pidGone(pid), `pid ${pid}`).toBe(true);
    expect(existsSync(dirname(kubeconfig))).toBe(false);
  });
});
