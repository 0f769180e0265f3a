// A start that cannot succeed fails fast, says which part failed and why (with the log's tail),
// and leaves nothing running or on disk.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalClusterError, type ProgressEvent, startLocalCluster } from '../../src/localcluster/index.ts';
import { pidGone } from './watch-stream.ts';

const scratch = mkdtempSync(join(tmpdir(), 'ovnkit-start-failure-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function failingStart(options: Parameters<typeof startLocalCluster>[0]): Promise<{ err: LocalClusterError; events: ProgressEvent[]; ms: number }> {
  const events: ProgressEvent[] = [];
  const t = performance.now();
  const err = await startLocalCluster({ ...options, progress: (e) => events.push(e) }).then(
    (c) => {
      void c.stop();
      throw new Error('the start should have failed');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LocalClusterError);
  return { err: err as LocalClusterError, events, ms: performance.now() - t };
}

const startedPids = (events: ProgressEvent[]) => events.filter((e) => e.phase === 'starting' || e.phase === 'ready').flatMap((e) => (e.pid === undefined ? [] : [e.pid]));
const clusterDir = (events: ProgressEvent[]) => events.find((e) => e.step === 'certificates' && e.phase === 'ready')?.detail;

describe('a start that fails', () => {
  it('an apiserver that exits: EXITED_EARLY naming it, with its log, and everything stopped', async () => {
    const { err, events, ms } = await failingStart({ apiserverOnly: true, apiserverArgs: ['--no-such-flag'] });
    expect(err.code).toBe('EXITED_EARLY');
    expect(err.stage).toBe('start');
    expect(err.object).toBe('kube-apiserver');
    expect(err.message).toContain('unknown flag: --no-such-flag');
    expect(err.message).toContain('logs/kube-apiserver.log');
    expect(ms).toBeLessThan(30_000);
    const pids = startedPids(events);
    expect(pids.length).toBeGreaterThanOrEqual(1); // etcd was up
    for (const pid of pids) expect(pidGone(pid), `pid ${pid}`).toBe(true);
    expect(existsSync(clusterDir(events) as string)).toBe(false);
  });

  it('a manifest of the wrong kind in the CRD dir: BAD_OPTION naming the object', async () => {
    const crdDir = join(scratch, 'crds');
    mkdirSync(crdDir);
    writeFileSync(join(crdDir, 'oops.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: not-a-crd\n  namespace: default\n');
    const { err, events } = await failingStart({ apiserverOnly: true, rbac: false, crdDir });
    expect(err.code).toBe('BAD_OPTION');
    expect(err.object).toBe('ConfigMap/not-a-crd');
    expect(err.message).toContain('only CustomResourceDefinitions belong in');
    for (const pid of startedPids(events)) expect(pidGone(pid), `pid ${pid}`).toBe(true);
  });
});
