// `ovnkit up`: the local control plane in the foreground until SIGINT/SIGTERM.
import { join } from 'node:path';
import { type LocalCluster, plannedSteps, startLocalCluster } from '../localcluster/index.ts';
import type { LocalClusterOptions, ProgressSink } from '../localcluster/index.ts';
import { killAllManagedSync } from '../localcluster/process.ts';
import type { UpFlags } from './args.ts';
import { createStatusView } from './status-view.ts';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export function upOptions(flags: UpFlags): LocalClusterOptions {
  return {
    nodes: flags.nodes,
    nb: flags.nb,
    northd: flags.northd,
    keepDir: flags.keep,
    ...(flags.dir !== undefined ? { dir: flags.dir } : {}),
  };
}

export function readyMessage(cluster: LocalCluster): string {
  const kubectl = join(cluster.binDir, 'kubectl');
  const lines = [
    '',
    `ovnkit local cluster ready in ${(cluster.startupMs / 1000).toFixed(1)}s (${cluster.server})`,
    `KUBECONFIG=${cluster.kubeconfig}`,
    '',
    'Try it (paste into another shell):',
    `  export KUBECONFIG=${cluster.kubeconfig}`,
    `  ${kubectl} get nodes -o wide`,
    `  ${kubectl} get crd`,
  ];
  if (cluster.nbAddress !== undefined) lines.push(`  ovn-nbctl --db=${cluster.nbAddress} show`);
  lines.push(
    '',
    `Other identities: ${cluster.kubeconfigs.controller} (the controller, RBAC from deploy/rbac.yaml),`,
    `                  ${cluster.kubeconfigs.unprivileged} (no permissions)`,
    `Logs: ${join(cluster.dir, 'logs')}`,
    'Press Ctrl-C to stop.',
    '',
  );
  return lines.join('\n');
}

/** Runs until a signal; returns the exit code. */
export async function runUp(flags: UpFlags): Promise<number> {
  // The terminal may be gone by the time we stop (SIGHUP, closed pipe): a failed write must not
  // abort the shutdown half-way.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  const options = upOptions(flags);
  const view = createStatusView(plannedSteps(options), process.stdout);
  let signalled: NodeJS.Signals | undefined;
  let wake: (() => void) | undefined;
  let cluster: LocalCluster | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled !== undefined) {
      process.stderr.write(`\n${sig} again: killing every process now\n`);
      process.exit(130);
    }
    signalled = sig;
    process.stderr.write(`\n${sig}: stopping the local cluster\n`);
    // During the start there is nothing to stop gracefully yet: kill what runs so the start
    // fails at once and cleans up after itself. (While we listen, the process registry leaves
    // signals to us; its exit hook still kills whatever survives.)
    if (cluster === undefined) killAllManagedSync();
    wake?.();
  };
  for (const sig of SIGNALS) process.on(sig, onSignal);

  let crashed: string | undefined;
  const sink: ProgressSink = (e) => {
    view.sink(e);
    // After the start, a 'failed' event means a component died: a half-working stack is
    // worse than none, so stop everything and exit non-zero.
    if (cluster !== undefined && e.phase === 'failed' && crashed === undefined) {
      crashed = e.step;
      wake?.();
    }
  };
  try {
    cluster = await startLocalCluster({ ...options, progress: sink });
  } catch (err) {
    view.finish();
    if (signalled !== undefined) return 130;
    process.stderr.write(`\novnkit up: start failed: ${(err as Error).message}\n`);
    return 1;
  }
  view.finish();
  if (signalled === undefined && crashed === undefined) {
    process.stdout.write(readyMessage(cluster));
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
  try {
    await cluster.stop();
  } catch (err) {
    process.stderr.write(`ovnkit up: stop failed: ${(err as Error).message}\n`);
    return 1;
  }
  if (crashed !== undefined) {
    process.stderr.write(`ovnkit up: stopped because ${crashed} exited unexpectedly (see ${join(cluster.dir, 'logs')})\n`);
    return 1;
  }
  process.stdout.write('ovnkit up: stopped\n');
  return 0;
}
