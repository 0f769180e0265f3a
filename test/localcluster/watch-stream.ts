// A raw watch stream for the local-cluster tests: every event as parsed JSON, straight from the
// apiserver (no client library in between, so what is asserted is what the server sent).
import { request } from 'node:https';
import type { LocalCluster } from '../../src/localcluster/index.ts';

export interface WatchEvent {
  type: string;
  object: { kind?: string; code?: number; reason?: string; metadata?: { name?: string; resourceVersion?: string; deletionTimestamp?: string }; [k: string]: unknown };
}

export interface WatchStream {
  events: WatchEvent[];
  status: Promise<number>;
  ended: Promise<void>;
  close(): void;
  waitFor(pred: (e: WatchEvent, all: WatchEvent[]) => boolean, timeoutMs: number): Promise<WatchEvent>;
}

export function openWatch(cluster: LocalCluster, path: string): WatchStream {
  const events: WatchEvent[] = [];
  const waiters = new Set<() => void>();
  let resolveStatus!: (s: number) => void;
  let resolveEnded!: () => void;
  const status = new Promise<number>((r) => (resolveStatus = r));
  const ended = new Promise<void>((r) => (resolveEnded = r));
  const url = new URL(`${cluster.server}${path}`);
  const req = request(url, { ca: cluster.caPem, headers: { authorization: `Bearer ${cluster.adminToken}` }, agent: false }, (res) => {
    resolveStatus(res.statusCode ?? 0);
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line !== '') events.push(JSON.parse(line) as WatchEvent);
        nl = buf.indexOf('\n');
      }
      for (const w of waiters) w();
    });
    res.on('end', () => {
      resolveEnded();
      for (const w of waiters) w();
    });
    res.on('error', () => resolveEnded());
  });
  req.on('error', () => {
    resolveStatus(0);
    resolveEnded();
  });
  req.end();
  return {
    events,
    status,
    ended,
    close: () => req.destroy(),
    waitFor(pred, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find((e) => pred(e, events));
          if (hit) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`watch ${path}: no matching event within ${timeoutMs} ms; got ${events.map((e) => `${e.type}:${e.object.metadata?.name ?? e.object.reason}`).join(', ')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/** True when no process with this PID exists any more. */
export function pidGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
