// The reflector's reaction to input a real apiserver does not produce on demand: malformed
// objects, non-JSON lines, a 500, a socket reset mid-stream, an empty 200 that closes at once,
// paging whose continue token expires. A scripted HTTP server plays the apiserver; the real-server
// behaviours (410 after compaction, restart, stalled watch) are in the *.int.test.ts files.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedInformer } from '../../src/kube/informer.ts';
import type { ReflectorEvent } from '../../src/kube/reflector.ts';
import { HttpKubeTransport } from '../../src/kube/watch-transport.ts';
import { listAll } from '../../src/kube/list-pager.ts';
import { silentLogger } from '../../src/kube/watch-types.ts';
import type { KubeObject } from '../../src/kube/watch-types.ts';
import { DeletedFinalStateUnknown } from '../../src/kube/store.ts';

type Route = (url: URL, req: http.IncomingMessage, res: http.ServerResponse) => void;

class ScriptedServer {
  readonly lists: URL[] = [];
  readonly watches: URL[] = [];
  onList: Route = (_u, _q, res) => sendList(res, [], '1');
  onWatch: Route = (_u, _q, res) => res.writeHead(200).flushHeaders();
  private server: http.Server | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://stub');
      if (url.searchParams.get('watch') === 'true') {
        this.watches.push(url);
        this.onWatch(url, req, res);
      } else {
        this.lists.push(url);
        this.onList(url, req, res);
      }
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }
}

function sendList(res: http.ServerResponse, items: unknown[], rv: string, cont?: string): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: rv, ...(cont ? { continue: cont } : {}) }, items }));
}

function cm(name: string, rv: string, data: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 't', resourceVersion: rv }, data };
}

function line(type: string, object: unknown): string {
  return `${JSON.stringify({ type, object })}\n`;
}

function kubeConfigFor(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    currentContext: 'stub',
    clusters: [{ name: 'stub', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'stub-token' }],
    contexts: [{ name: 'stub', cluster: 'stub', user: 'u' }],
  });
  return kc;
}

interface Recorded {
  log: string[];
  events: ReflectorEvent[];
}

function record(informer: SharedInformer): Recorded {
  const rec: Recorded = { log: [], events: [] };
  informer.addEventHandler({
    onAdd: (o) => rec.log.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`),
    onUpdate: (o, n) => rec.log.push(`update ${n.metadata.name}@${o.metadata.resourceVersion}->${n.metadata.resourceVersion}`),
    onDelete: (o) =>
      rec.log.push(o instanceof DeletedFinalStateUnknown ? `delete-unknown ${o.obj.metadata.name}` : `delete ${o.metadata.name}@${o.metadata.resourceVersion}`),
  });
  informer.onReflectorEvent((e) => rec.events.push(e));
  return rec;
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const resource = { group: '', version: 'v1', plural: 'configmaps', namespaced: true, namespace: 't' } as const;
const fastRetry = { initialMs: 10, maxMs: 40, resetAfterMs: 60_000 };

let server: ScriptedServer;
let informer: SharedInformer | undefined;
let transport: HttpKubeTransport | undefined;

async function startInformer(extra: Partial<ConstructorParameters<typeof SharedInformer>[0]> = {}): Promise<{ informer: SharedInformer; rec: Recorded }> {
  const url = await server.start();
  transport = new HttpKubeTransport(kubeConfigFor(url));
  informer = new SharedInformer({ transport, resource, backoff: fastRetry, log: silentLogger, ...extra });
  const rec = record(informer);
  informer.start();
  return { informer, rec };
}

afterEach(async () => {
  await informer?.stop();
  informer = undefined;
  transport?.close();
  await server?.stop();
});

describe('reflector against a scripted server', () => {
  it('skips malformed objects in the list and on the watch, keeps the good ones, and keeps watching', async () => {
    server = new ScriptedServer();
    server.onList = (_u, _q, res) =>
      sendList(res, [cm('a', '10'), { metadata: { namespace: 't', resourceVersion: '11' } }, 'junk', cm('b', '12'), { metadata: { name: 'no-ns', resourceVersion: '13' } }], '20');
    server.onWatch = (_u, _q, res) => {
      res.writeHead(200);
      res.write(line('ADDED', cm('c', '21')));
      res.write(line('ADDED', { metadata: { namespace: 't', resourceVersion: '22' } })); // no name
      res.write(line('MODIFIED', 42));
      res.write(line('SOMETHING', cm('x', '23')));
      res.write(line('MODIFIED', cm('a', '24', { k: 'v' })));
    };
    const { informer, rec } = await startInformer();
    await informer.waitForSync(5_000);
    await until(() => rec.log.includes('update a@10->24'), 'update of a after the bad lines');
    expect(rec.log).toEqual(['add a@10', 'add b@12', 'add c@21', 'update a@10->24']);
    expect(informer.store.keys().sort()).toEqual(['t/a', 't/b', 't/c']);
    // 3 bad list items + 2 bad objects + 1 unknown event type (which has no object check, counted as skipped too).
    expect(informer.reflector.stats.skipped).toBe(6);
    // The watch position moved past the nameless object (its resourceVersion was readable).
    expect(informer.lastSyncResourceVersion()).toBe('24');
    expect(server.watches).toHaveLength(1);
  });

  it('reopens the watch from the last good resourceVersion after a non-JSON line, a 500 and a socket reset', async () => {
    server = new ScriptedServer();
    server.onList = (_u, _q, res) => sendList(res, [cm('a', '5')], '5');
    let n = 0;
    server.onWatch = (_u, req, res) => {
      n++;
      if (n === 1) {
        res.writeHead(200);
        res.write(line('MODIFIED', cm('a', '6')));
        res.write('{"type":"MODIFIED","object":{"metadata":\n'); // framing broken
      } else if (n === 2) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"kind":"Status","reason":"InternalError","message":"etcd unhappy","code":500}');
      } else if (n === 3) {
        res.writeHead(200);
        res.write(line('MODIFIED', cm('a', '7')));
        setTimeout(() => req.socket.destroy(), 20); // ECONNRESET mid-stream
      } else if (n === 4) {
        res.writeHead(200);
        res.write(line('BOOKMARK', { kind: 'ConfigMap', metadata: { resourceVersion: '9' } }));
        res.end(); // clean server-side close
      } else {
        res.writeHead(200);
        res.write(line('ADDED', cm('b', '10')));
      }
    };
    const { informer, rec } = await startInformer();
    await until(() => rec.log.includes('add b@10'), 'event on the fifth watch');
    expect(rec.log).toEqual(['add a@5', 'update a@5->6', 'update a@6->7', 'add b@10']);
    expect(server.watches.map((u) => u.searchParams.get('resourceVersion'))).toEqual(['5', '6', '6', '7', '9']);
    for (const u of server.watches) {
      expect(u.searchParams.get('allowWatchBookmarks')).toBe('true');
      expect(Number(u.searchParams.get('timeoutSeconds'))).toBeGreaterThanOrEqual(300);
    }
    expect(server.lists).toHaveLength(1); // none of these needs a relist
    const ended = rec.events.filter((e) => e.type === 'watch-ended').map((e) => (e as { reason: string }).reason);
    expect(ended).toEqual(['error', 'error', 'error', 'closed']);
    expect(rec.events.filter((e) => e.type === 'retry')).toHaveLength(3);
  });

  it('relists on HTTP 410 and on an ERROR 410 event, delivering only the differences', async () => {
    server = new ScriptedServer();
    let lists = 0;
    server.onList = (_u, _q, res) => {
      lists++;
      if (lists === 1) sendList(res, [cm('keep', '1'), cm('change', '2'), cm('gone', '3')], '3');
      else if (lists === 2) sendList(res, [cm('keep', '1'), cm('change', '8'), cm('new', '9')], '9');
      else sendList(res, [cm('keep', '1'), cm('change', '8')], '12');
    };
    let watches = 0;
    server.onWatch = (_u, _q, res) => {
      watches++;
      if (watches === 1) {
        res.writeHead(410, { 'content-type': 'application/json' });
        res.end('{"kind":"Status","reason":"Expired","message":"too old","code":410}');
      } else if (watches === 2) {
        res.writeHead(200);
        res.end(line('ERROR', { kind: 'Status', status: 'Failure', reason: 'Expired', message: 'The resourceVersion for the provided watch is too old.', code: 410 }));
      } else {
        res.writeHead(200).flushHeaders();
      }
    };
    const { informer, rec } = await startInformer();
    await until(() => server.lists.length === 3 && server.watches.length === 3, 'two relists');
    expect(rec.log).toEqual([
      'add keep@1',
      'add change@2',
      'add gone@3',
      'delete-unknown gone',
      'add new@9',
      'update change@2->8',
      'delete-unknown new',
    ]);
    expect(informer.reflector.stats.expired).toBe(2);
    expect(informer.reflector.stats.relists).toBe(2);
    expect(server.watches.map((u) => u.searchParams.get('resourceVersion'))).toEqual(['3', '9', '12']);
    // Relists are consistent reads (no resourceVersion), paginated.
    for (const u of server.lists) {
      expect(u.searchParams.has('resourceVersion')).toBe(false);
      expect(u.searchParams.get('limit')).toBe('500');
    }
  });

  it('backs off instead of spinning when the server closes every watch at once with nothing in it', async () => {
    server = new ScriptedServer();
    server.onList = (_u, _q, res) => sendList(res, [], '3');
    server.onWatch = (_u, _q, res) => res.writeHead(200).end();
    const { rec } = await startInformer({ backoff: { initialMs: 100, maxMs: 200 } });
    await new Promise((r) => setTimeout(r, 1_000));
    // With back-off of 100–400 ms, about 3–10 attempts in a second; a tight loop would make hundreds.
    expect(server.watches.length).toBeGreaterThanOrEqual(2);
    expect(server.watches.length).toBeLessThan(15);
    expect(rec.events.some((e) => e.type === 'retry')).toBe(true);
  });

  it('restarts a watch on which nothing arrives (watchdog), from the same resourceVersion', async () => {
    server = new ScriptedServer();
    server.onList = (_u, _q, res) => sendList(res, [cm('a', '4')], '4');
    server.onWatch = (_u, _q, res) => {
      if (server.watches.length === 1) {
        res.writeHead(200).flushHeaders(); // then silence, connection open
      } else if (server.watches.length === 2) {
        // never even answers with headers
      } else {
        res.writeHead(200);
        res.write(line('MODIFIED', cm('a', '5')));
      }
    };
    const { informer, rec } = await startInformer({ quietTimeoutMs: 300 });
    await until(() => rec.log.includes('update a@4->5'), 'event after two watchdog restarts');
    // The first watch was answered then went quiet; the second was never answered.
    const ends = rec.events.filter((e) => e.type === 'watch-ended');
    expect(ends.slice(0, 2).map((e) => e.type === 'watch-ended' && [e.reason, e.opened])).toEqual([['watchdog', true], ['watchdog', false]]);
    // Two restarts before the event; a loaded machine may add more after it (the watch is quiet again).
    expect(informer.reflector.stats.watchdogRestarts).toBeGreaterThanOrEqual(2);
    expect(server.watches.slice(0, 3).map((u) => u.searchParams.get('resourceVersion'))).toEqual(['4', '4', '4']);
    expect(server.lists).toHaveLength(1);
  });

  it('keeps retrying a failing list with back-off and syncs once it succeeds', async () => {
    server = new ScriptedServer();
    server.onList = (_u, _q, res) => {
      if (server.lists.length <= 3) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"kind":"Status","reason":"ServiceUnavailable","code":503}');
      } else sendList(res, [cm('a', '1')], '1');
    };
    const { informer, rec } = await startInformer();
    await informer.waitForSync(10_000);
    expect(server.lists).toHaveLength(4);
    expect(rec.events.filter((e) => e.type === 'retry' && e.stage === 'list')).toHaveLength(3);
    expect(informer.hasSynced()).toBe(true);
  });

  it('isolates a throwing handler from the others', async () => {
    server = new ScriptedServer();
    server.onList = (_u, _q, res) => sendList(res, [cm('a', '1'), cm('b', '2')], '2');
    const url = await server.start();
    transport = new HttpKubeTransport(kubeConfigFor(url));
    informer = new SharedInformer({ transport, resource, backoff: fastRetry, log: silentLogger });
    const seen: string[] = [];
    informer.addEventHandler({
      onAdd: () => {
        throw new Error('handler bug');
      },
    });
    informer.addEventHandler({ onAdd: (o) => seen.push(o.metadata.name) });
    informer.start();
    await informer.waitForSync(5_000);
    expect(seen).toEqual(['a', 'b']);
  });

  it('replays the cache to a handler added after sync, and resyncs periodically', async () => {
    server = new ScriptedServer();
    server.onList = (_u, _q, res) => sendList(res, [cm('a', '1'), cm('b', '2')], '2');
    const { informer } = await startInformer({ resyncPeriodMs: 150 });
    await informer.waitForSync(5_000);
    const late: string[] = [];
    informer.addEventHandler({
      onAdd: (o, initial) => late.push(`add ${o.metadata.name} ${initial}`),
      onUpdate: (o, n) => late.push(`resync ${n.metadata.name} ${o === n}`),
    });
    expect(late).toEqual(['add a true', 'add b true']);
    await until(() => late.length >= 4, 'one resync');
    expect(late.slice(2, 4).sort()).toEqual(['resync a true', 'resync b true']);
  });
});

describe('waitForSync', () => {
  it('rejects with NOT_SYNCED on timeout and with STOPPED when the informer stops first', async () => {
    server = new ScriptedServer();
    server.onList = (_u, _q, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"kind":"Status","reason":"ServiceUnavailable","code":503}');
    };
    const { informer } = await startInformer();
    await expect(informer.waitForSync(200)).rejects.toMatchObject({ code: 'NOT_SYNCED' });
    const pending = informer.waitForSync(60_000);
    await informer.stop();
    await expect(pending).rejects.toMatchObject({ code: 'STOPPED' });
  });
});

describe('informer health', () => {
  it('is healthy while the server answers and unhealthy once it stops answering', async () => {
    server = new ScriptedServer();
    server.onList = (_u, _q, res) => sendList(res, [cm('a', '1')], '1');
    let answering = true;
    server.onWatch = (_u, _q, res) => {
      if (answering) {
        res.writeHead(200);
        res.write(line('BOOKMARK', { kind: 'ConfigMap', metadata: { resourceVersion: '2' } }));
      } else {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"kind":"Status","reason":"ServiceUnavailable","code":503}');
      }
    };
    const { informer } = await startInformer({ quietTimeoutMs: 200 });
    expect(informer.isHealthy(1_000)).toBe(false); // not synced yet
    await informer.waitForSync(5_000);
    await until(() => informer.reflector.stats.bookmarks >= 1, 'bookmark');
    expect(informer.isHealthy(1_000)).toBe(true);
    answering = false; // the watchdog drops the quiet watch; every reopen now fails
    await until(() => !informer.isHealthy(600), 'health to turn false', 10_000);
    expect(informer.reflector.stats.watchErrors).toBeGreaterThanOrEqual(1);
  });
});

describe('listAll', () => {
  it('follows continue tokens and restarts once when a token expires mid-list', async () => {
    server = new ScriptedServer();
    let calls = 0;
    server.onList = (u, _q, res) => {
      calls++;
      const token = u.searchParams.get('continue');
      if (calls === 2 && token === 'p2') {
        res.writeHead(410, { 'content-type': 'application/json' });
        res.end('{"kind":"Status","reason":"Expired","message":"continue token expired","code":410}');
        return;
      }
      if (token === null) sendList(res, [cm('a', '1'), cm('b', '1')], '7', 'p2');
      else if (token === 'p2') sendList(res, [cm('c', '1')], '7', 'p3');
      else sendList(res, [cm('d', '1')], '7');
    };
    const url = await server.start();
    transport = new HttpKubeTransport(kubeConfigFor(url));
    const got: string[] = [];
    const restarts: string[] = [];
    const result = await listAll(transport, '/api/v1/namespaces/t/configmaps', {
      pageSize: 2,
      signal: new AbortController().signal,
      onPage: ({ items }) => got.push(...items.map((i) => (i as KubeObject).metadata.name)),
      onRestart: (why) => {
        restarts.push(why);
        got.length = 0;
      },
    });
    expect(got).toEqual(['a', 'b', 'c', 'd']);
    expect(result).toEqual({ resourceVersion: '7', pages: 3, items: 4, restarts: 1 });
    expect(restarts).toHaveLength(1);
    expect(server.lists.every((u) => u.searchParams.get('limit') === '2')).toBe(true);
  });
});
