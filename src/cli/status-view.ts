// The live status of `ovnkit up`: on a terminal, a table redrawn in place (one row per step,
// with its state, time and pid); otherwise plain progress lines, one per event.
import { formatProgressLine, type ProgressEvent, type ProgressPhase, type ProgressSink } from '../localcluster/index.ts';

interface Row {
  step: string;
  phase: ProgressPhase;
  startedAt: number | undefined;
  elapsedMs: number | undefined;
  pid: number | undefined;
  detail: string | undefined;
}

export interface StatusView {
  sink: ProgressSink;
  /** Stops redrawing; later events print as plain lines. */
  finish(): void;
}

const MARK: Record<ProgressPhase, string> = {
  pending: '  ',
  starting: '..',
  ready: 'ok',
  failed: '!!',
  stopping: '..',
  stopped: '--',
  skipped: '  ',
};

export function createStatusView(steps: string[], out: NodeJS.WriteStream, prefix = '[ovnkit up]'): StatusView {
  const plain: ProgressSink = (e) => {
    out.write(`${formatProgressLine(e, prefix)}\n`);
  };
  if (!out.isTTY) return { sink: plain, finish: () => {} };

  const rows = new Map<string, Row>(steps.map((s) => [s, { step: s, phase: 'pending', startedAt: undefined, elapsedMs: undefined, pid: undefined, detail: undefined }]));
  let drawn = 0;
  let live = true;
  const width = Math.max(...steps.map((s) => s.length), 8);

  const render = (): void => {
    if (!live) return;
    const cols = out.columns ?? 100;
    const now = performance.now();
    const lines = [...rows.values()].map((r) => {
      const ms = r.elapsedMs ?? (r.phase === 'starting' && r.startedAt !== undefined ? now - r.startedAt : undefined);
      const time = ms === undefined ? '' : `${(ms / 1000).toFixed(1)}s`;
      const state = r.phase === 'pending' ? 'waiting' : r.phase;
      const pid = r.pid === undefined ? '' : `pid ${r.pid}`;
      const line = `${MARK[r.phase]} ${r.step.padEnd(width)}  ${state.padEnd(8)} ${time.padStart(7)}  ${pid.padEnd(11)} ${r.detail ?? ''}`;
      return line.length > cols - 1 ? line.slice(0, cols - 1) : line;
    });
    let text = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const l of lines) text += `\x1b[2K${l}\n`;
    out.write(text);
    drawn = lines.length;
  };
  const ticker = setInterval(render, 250);
  ticker.unref();

  const sink: ProgressSink = (e: ProgressEvent) => {
    const row = rows.get(e.step);
    if (!live || row === undefined) {
      plainAbove(e);
      return;
    }
    if (e.phase === 'starting' && row.phase === 'starting' && e.detail !== undefined) {
      row.detail = e.detail; // e.g. a build progress line
    } else {
      if (e.phase === 'starting') row.startedAt = performance.now();
      row.phase = e.phase;
      row.elapsedMs = e.elapsedMs;
      if (e.pid !== undefined) row.pid = e.pid;
      row.detail = e.detail;
    }
    render();
  };

  // Events for steps outside the table (leftovers, cluster) print above it.
  const plainAbove = (e: ProgressEvent): void => {
    if (!live) {
      plain(e);
      return;
    }
    if (drawn > 0) out.write(`\x1b[${drawn}A\x1b[0J`);
    drawn = 0;
    plain(e);
    render();
  };

  render();
  return {
    sink,
    finish() {
      render();
      live = false;
      clearInterval(ticker);
    },
  };
}
