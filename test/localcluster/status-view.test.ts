import { describe, expect, it } from 'vitest';
import { createStatusView } from '../../src/cli/status-view.ts';

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const s = { isTTY, columns: 120, text: '', write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

describe('ovnkit up status view', () => {
  it('plain lines with timings when the output is not a terminal', () => {
    const out = fakeStream(false);
    const view = createStatusView(['etcd'], out);
    view.sink({ step: 'etcd', phase: 'starting', sinceStartMs: 10 });
    view.sink({ step: 'etcd', phase: 'ready', elapsedMs: 420, sinceStartMs: 430, pid: 42 });
    view.finish();
    expect(out.text).toBe('[ovnkit up] etcd starting\n[ovnkit up] etcd ready in 0.42s (pid 42) at +0.43s\n');
    expect(out.text).not.toContain('\x1b[');
  });

  it('on a terminal, one row per step redrawn in place', () => {
    const out = fakeStream(true);
    const view = createStatusView(['etcd', 'kube-apiserver'], out);
    view.sink({ step: 'etcd', phase: 'starting' });
    view.sink({ step: 'etcd', phase: 'ready', elapsedMs: 1500, pid: 7 });
    view.sink({ step: 'leftovers', phase: 'stopped', detail: 'killed 1 process(es)' });
    view.finish();
    const frames = out.text.split('\x1b[2A'); // cursor up over the two rows = one redraw
    expect(frames.length).toBeGreaterThan(2);
    const last = frames.at(-1) ?? '';
    expect(last).toMatch(/ok etcd\s+ready\s+1\.5s\s+pid 7/);
    expect(last).toMatch(/kube-apiserver\s+waiting/);
    // Events for steps outside the table print as a line above it.
    expect(out.text).toContain('[ovnkit up] leftovers stopped - killed 1 process(es)\n');
  });
});
