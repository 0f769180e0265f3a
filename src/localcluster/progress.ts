// Start/stop progress of a local cluster as events, so tests print plain lines and `ovnkit up`
// can draw a live status view from the same stream.

export type ProgressPhase = 'pending' | 'starting' | 'ready' | 'failed' | 'stopping' | 'stopped' | 'skipped';

export interface ProgressEvent {
  /** A step of the start: binaries, pki, etcd, kube-apiserver, crds, rbac, ..., ovn-nb. */
  step: string;
  phase: ProgressPhase;
  /** Milliseconds since this step started (ready/failed/stopped). */
  elapsedMs?: number;
  /** Milliseconds since the whole start began. */
  sinceStartMs?: number;
  pid?: number;
  detail?: string;
}

export type ProgressSink = (event: ProgressEvent) => void;

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

/** One line per event, e.g. "[localcluster] kube-apiserver ready in 2.31s (pid 4242) at +3.05s". */
export function formatProgressLine(e: ProgressEvent, prefix = '[localcluster]'): string {
  const parts = [prefix, e.step, e.phase];
  if (e.elapsedMs !== undefined) parts.push(`in ${formatSeconds(e.elapsedMs)}`);
  if (e.pid !== undefined) parts.push(`(pid ${e.pid})`);
  if (e.detail !== undefined) parts.push(`- ${e.detail}`);
  if (e.sinceStartMs !== undefined && e.phase !== 'starting') parts.push(`at +${formatSeconds(e.sinceStartMs)}`);
  return parts.join(' ');
}

export const stderrProgress: ProgressSink = (e) => {
  process.stderr.write(`${formatProgressLine(e)}\n`);
};

/** Times one step and reports starting → ready/failed. */
export async function timedStep<T>(
  sink: ProgressSink,
  clusterStart: number,
  step: string,
  run: () => Promise<T>,
  describe?: (value: T) => { pid?: number; detail?: string },
): Promise<T> {
  const start = performance.now();
  sink({ step, phase: 'starting', sinceStartMs: start - clusterStart });
  try {
    const value = await run();
    const now = performance.now();
    sink({ step, phase: 'ready', elapsedMs: now - start, sinceStartMs: now - clusterStart, ...describe?.(value) });
    return value;
  } catch (err) {
    const now = performance.now();
    sink({ step, phase: 'failed', elapsedMs: now - start, sinceStartMs: now - clusterStart, detail: (err as Error).message });
    throw err;
  }
}
