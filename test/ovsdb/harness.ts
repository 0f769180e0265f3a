// Test-only peers and helpers around the real ovsdb-server: TLS material made by openssl, a
// pass-through proxy that can inject garbage into the server's stream, and a log capture.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, type Socket, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';
import type { OvsdbClient } from '../../src/ovsdb/client.ts';
import type { Operation } from '../../src/ovsdb/protocol.ts';

export const NB = 'OVN_Northbound';

export interface TlsMaterial {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client cert/key signed by a different CA: the server must refuse it. */
  strangerCert: string;
  strangerKey: string;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function issue(dir: string, name: string, caCert: string, caKey: string): { cert: string; key: string } {
  const key = join(dir, `${name}-key.pem`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}-cert.pem`);
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
  openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '1']);
  return { cert, key };
}

/** A CA, a server and a client certificate signed by it, and a stranger signed by another CA. */
export function makeTlsMaterial(): TlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), 'ovnkit-tls-'));
  const ca = join(dir, 'ca-cert.pem');
  const caKey = join(dir, 'ca-key.pem');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', ca, '-days', '1', '-subj', '/CN=ovnkit-test-ca']);
  const otherCa = join(dir, 'other-ca-cert.pem');
  const otherCaKey = join(dir, 'other-ca-key.pem');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', otherCaKey, '-out', otherCa, '-days', '1', '-subj', '/CN=stranger-ca']);
  const server = issue(dir, 'server', ca, caKey);
  const client = issue(dir, 'client', ca, caKey);
  const stranger = issue(dir, 'stranger', otherCa, otherCaKey);
  return {
    dir,
    ca,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    strangerCert: stranger.cert,
    strangerKey: stranger.key,
  };
}

export interface GarbageProxy {
  /** unix socket path clients connect to */
  path: string;
  remote: string;
  /** Number of client connections accepted so far. */
  readonly connections: number;
  /** Writes `bytes` to every connected client, as if the server had sent them. */
  inject(bytes: Buffer | string): void;
  close(): Promise<void>;
}

/**
 * Listens on a unix socket and forwards each connection to `targetPath` (the real server), so the
 * client sees a real ovsdb-server, until the test injects garbage into the server→client stream.
 */
export async function startGarbageProxy(targetPath: string): Promise<GarbageProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'ovnkit-proxy-'));
  const path = join(dir, 'proxy.sock');
  const clients = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((client) => {
    connections++;
    clients.add(client);
    const upstream = createConnection({ path: targetPath });
    client.pipe(upstream);
    upstream.pipe(client);
    const done = (): void => {
      clients.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    remote: `unix:${path}`,
    get connections() {
      return connections;
    },
    inject(bytes) {
      for (const c of clients) c.write(bytes);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of clients) c.destroy();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}

/** A peer that answers anything with `bytes` (not OVSDB at all). */
export async function startGarbagePeer(bytes: string): Promise<{ remote: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ovnkit-garbage-'));
  const path = join(dir, 'garbage.sock');
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.once('data', () => s.write(bytes));
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    remote: `unix:${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}

export interface CapturedLog {
  logger: Logger;
  lines: Record<string, unknown>[];
}

/** A pino logger at debug level whose JSON lines land in `lines`. */
export function captureLog(): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export function insertSwitch(name: string, extra: Record<string, string> = {}): Operation {
  return {
    op: 'insert',
    table: 'Logical_Switch',
    'uuid-name': 'ls',
    row: { name, external_ids: ['map', Object.entries(extra)] },
  };
}

/** Names of all Logical_Switch rows, with repetitions. */
export async function switchNames(client: OvsdbClient): Promise<string[]> {
  const [res] = await client.transact(NB, [{ op: 'select', table: 'Logical_Switch', where: [], columns: ['name'] }]);
  return (res as { rows: { name: string }[] }).rows.map((r) => r.name);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
