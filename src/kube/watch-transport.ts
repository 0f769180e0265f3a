// The HTTP side of list and watch, done with node:http(s) directly rather than client-node's Watch:
// we need our own abort, our own timeouts and our own line framing (client-node's watch can stop
// without telling anyone). client-node's KubeConfig still supplies the server, TLS material and
// credentials, re-read on every request so rotating tokens and exec plugins keep working.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { LineSplitter } from './watch-events.ts';
import { KubeWatchError } from './watch-types.ts';

export type Query = Record<string, string | number | boolean | undefined>;

/** What the reflector needs from the network. The HTTP implementation is below; tests may point it at any server. */
export interface KubeTransport {
  /** GET returning parsed JSON; non-2xx rejects with KubeWatchError (HTTP_STATUS, `status` set). */
  getJson(path: string, query: Query, signal: AbortSignal): Promise<unknown>;
  /** Streaming GET: resolves once response headers arrive with 200, then yields lines until the body ends. */
  openLines(path: string, query: Query, signal: AbortSignal): Promise<AsyncIterable<string>>;
  /** Releases sockets. */
  close(): void;
}

export function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

interface Prepared {
  url: URL;
  options: https.RequestOptions;
}

function apiStatusFromBody(body: string): { reason?: string; message?: string } {
  try {
    const parsed = JSON.parse(body) as { reason?: unknown; message?: unknown };
    return {
      ...(typeof parsed.reason === 'string' ? { reason: parsed.reason } : {}),
      ...(typeof parsed.message === 'string' ? { message: parsed.message } : {}),
    };
  } catch {
    return {};
  }
}

async function readBody(res: http.IncomingMessage, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limitBytes) throw new RangeError(`response body larger than ${limitBytes} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

export interface HttpKubeTransportOptions {
  /** Upper bound on a non-streaming response (one list page). Default 512 MiB. */
  maxBodyBytes?: number;
}

export class HttpKubeTransport implements KubeTransport {
  private readonly kubeConfig: KubeConfig;
  private readonly maxBodyBytes: number;
  private agent: http.Agent | undefined;

  constructor(kubeConfig: KubeConfig, options: HttpKubeTransportOptions = {}) {
    this.kubeConfig = kubeConfig;
    this.maxBodyBytes = options.maxBodyBytes ?? 512 * 1024 * 1024;
  }

  private async prepare(path: string, query: Query, stage: string): Promise<Prepared> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (cluster === null) throw new KubeWatchError('BAD_OPTION', stage, path, 'kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + path + queryString(query));
    const options: https.RequestOptions = { headers: {} };
    await this.kubeConfig.applyToHTTPSOptions(options);
    // client-node hands back its own cached agent; use ours (keep-alive, unlimited sockets: every watch holds one).
    const tls = {
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      ...(options.cert !== undefined ? { cert: options.cert } : {}),
      ...(options.key !== undefined ? { key: options.key } : {}),
      ...(options.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.rejectUnauthorized } : {}),
      ...(options.servername !== undefined ? { servername: options.servername } : {}),
    };
    if (this.agent === undefined) {
      this.agent =
        url.protocol === 'https:'
          ? new https.Agent({ keepAlive: true, keepAliveMsecs: 15_000, ...tls })
          : new http.Agent({ keepAlive: true, keepAliveMsecs: 15_000 });
    }
    const headers = { ...(options.headers as Record<string, string>), Accept: 'application/json' };
    return {
      url,
      options: { method: 'GET', headers, agent: this.agent, ...(options.auth !== undefined ? { auth: options.auth } : {}) },
    };
  }

  private request(prepared: Prepared, signal: AbortSignal, stage: string): Promise<http.IncomingMessage> {
    const { url, options } = prepared;
    const target = url.pathname + url.search;
    return new Promise((resolve, reject) => {
      const lib = url.protocol === 'https:' ? https : http;
      const req = lib.request(url, { ...options, signal }, (res) => resolve(res));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (signal.aborted) {
          reject(signal.reason instanceof Error ? signal.reason : new KubeWatchError('STOPPED', stage, target, 'request aborted', { cause: err }));
        } else {
          reject(new KubeWatchError('NETWORK', stage, target, `${err.code ?? err.name}: ${err.message}`, { cause: err }));
        }
      });
      req.end();
    });
  }

  private async failOnStatus(res: http.IncomingMessage, stage: string, target: string): Promise<void> {
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return;
    let body = '';
    try {
      body = (await readBody(res, 1024 * 1024)).toString('utf8');
    } catch {
      // The status line is the error; a body we cannot read adds nothing.
    }
    const api = apiStatusFromBody(body);
    throw new KubeWatchError(
      status === 410 ? 'EXPIRED' : 'HTTP_STATUS',
      stage,
      target,
      `HTTP ${status}${api.reason ? ` ${api.reason}` : ''}${api.message ? `: ${api.message}` : ''}`,
      { status, ...(api.reason !== undefined ? { reason: api.reason } : {}) },
    );
  }

  async getJson(path: string, query: Query, signal: AbortSignal): Promise<unknown> {
    const prepared = await this.prepare(path, query, 'list');
    const target = path + queryString(query);
    const res = await this.request(prepared, signal, 'list');
    await this.failOnStatus(res, 'list', target);
    let body: Buffer;
    try {
      body = await readBody(res, this.maxBodyBytes);
    } catch (err) {
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : err;
      throw new KubeWatchError('NETWORK', 'list', target, `reading body: ${(err as Error).message}`, { cause: err });
    }
    try {
      return JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new KubeWatchError('BAD_RESPONSE', 'list', target, `body is not JSON (${(err as Error).message})`, { cause: err });
    }
  }

  async openLines(path: string, query: Query, signal: AbortSignal): Promise<AsyncIterable<string>> {
    const prepared = await this.prepare(path, query, 'watch');
    const target = path + queryString(query);
    const res = await this.request(prepared, signal, 'watch');
    await this.failOnStatus(res, 'watch', target);
    return linesOf(res, signal, target);
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

async function* linesOf(res: http.IncomingMessage, signal: AbortSignal, target: string): AsyncGenerator<string> {
  const splitter = new LineSplitter();
  try {
    for await (const chunk of res) {
      for (const line of splitter.push(chunk as Buffer)) yield line;
    }
  } catch (err) {
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : err;
    if (err instanceof RangeError) throw new KubeWatchError('BAD_RESPONSE', 'watch', target, err.message, { cause: err });
    const code = (err as NodeJS.ErrnoException).code;
    throw new KubeWatchError('NETWORK', 'watch', target, `stream broke: ${code ?? ''} ${(err as Error).message}`.trim(), { cause: err });
  } finally {
    if (!res.complete) res.destroy();
  }
  // A body cut short without an error (server closed mid-chunk) is a damaged stream, not a clean end.
  if (!res.complete) throw new KubeWatchError('NETWORK', 'watch', target, 'stream ended before the response completed');
  const last = splitter.flush();
  if (last !== undefined) yield last;
}
