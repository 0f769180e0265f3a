// The generic process helper under the harness: spawn failures, SIGTERM→SIGKILL escalation,
// stopping a stopped process, and waitFor's timeout error.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { liveManagedPids, spawnManaged, waitFor } from '../../src/localcluster/process.ts';

const dir = mkdtempSync(join(tmpdir(), 'ovnkit-proc-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('spawnManaged', () => {
  it('reports a binary that cannot start as SpawnFailed without crashing the process', async () => {
    expect(() => spawnManaged({ name: 'missing', command: '/nonexistent/binary', args: [], logFile: join(dir, 'missing.log') })).toThrow(
      expect.objectContaining({ code: 'SpawnFailed', process: 'missing' }),
    );
    await new Promise((r) => setTimeout(r, 100)); // the child's async 'error' must not be unhandled
  });

  it('writes output to the log file and stops with SIGTERM', async () => {
    const p = spawnManaged({ name: 'sleeper', command: 'sh', args: ['-c', 'echo started; exec sleep 30'], logFile: join(dir, 'sleeper.log') });
    expect(liveManagedPids()).toContain(p.pid);
    await waitFor(() => readFileSync(p.logFile, 'utf8').includes('started'), { timeoutMs: 5000, what: 'sleeper output' });
    const status = await p.stop(5000);
    expect(status.signal).toBe('SIGTERM');
    expect(p.isAlive()).toBe(false);
    expect(liveManagedPids()).not.toContain(p.pid);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const p = spawnManaged({ name: 'stubborn', command: 'sh', args: ['-c', 'trap "" TERM; echo ready; while :; do sleep 1; done'], logFile: join(dir, 'stubborn.log') });
    await waitFor(() => readFileSync(p.logFile, 'utf8').includes('ready'), { timeoutMs: 5000, what: 'stubborn ready' });
    const t0 = Date.now();
    const status = await p.stop(300);
    expect(status.signal).toBe('SIGKILL');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('stops a SIGSTOPped process', async () => {
    const p = spawnManaged({ name: 'frozen', command: 'sleep', args: ['30'], logFile: join(dir, 'frozen.log') });
    p.signal('SIGSTOP');
    const status = await p.stop(5000);
    expect(status.signal).toBe('SIGTERM');
  });
});

describe('waitFor', () => {
  it('returns the first truthy value and times out with a named, coded error', async () => {
    let n = 0;
    expect(await waitFor(() => (++n >= 3 ? n : undefined), { timeoutMs: 2000, intervalMs: 5, what: 'counter' })).toBe(3);
    await expect(waitFor(() => false, { timeoutMs: 50, intervalMs: 5, what: 'never ready thing' })).rejects.toMatchObject({
      code: 'Timeout',
      message: expect.stringContaining('never ready thing'),
    });
    await expect(
      waitFor(
        () => {
          throw new Error('probe broke');
        },
        { timeoutMs: 50, intervalMs: 5, what: 'probe' },
      ),
    ).rejects.toThrow(/last error: probe broke/);
  });
});
