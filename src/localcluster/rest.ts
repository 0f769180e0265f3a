// A minimal HTTPS client for the cluster's own setup steps (CRDs, RBAC, nodes, readiness).
// node:https with the cluster CA; no client library needed before the apiserver is even up.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { LocalClusterError } from './errors.ts';

export interface ApiTarget {
  server: string;
  ca: string | Buffer;
  token: string;
}

export interface RawResponse {
  status: number;
  body: string;
}

export interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  ca?: string | Buffer;
  /** Skip verification: only for the controller-manager's and scheduler's self-signed health ports. */
  insecure?: boolean;
  timeoutMs?: number;
}

export function rawRequest(url: string, req: RawRequest = {}): Promise<RawResponse> {
  const parsed = new URL(url);
  const send = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const r = send(
      parsed,
      {
        method: req.method ?? 'GET',
        headers: { ...(req.body !== undefined ? { 'content-length': String(Buffer.byteLength(req.body)) } : {}), ...req.headers },
        ...(parsed.protocol === 'https:' ? { ca: req.ca, rejectUnauthorized: req.insecure !== true } : {}),
        timeout: req.timeoutMs ?? 10_000,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`timed out after ${req.timeoutMs ?? 10_000} ms`)));
    r.on('error', reject);
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

/** An authenticated apiserver call; non-2xx statuses are returned, transport errors thrown. */
export function apiCall(target: ApiTarget, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<RawResponse> {
  return rawRequest(`${target.server}${path}`, {
    method,
    ca: target.ca,
    headers: { authorization: `Bearer ${target.token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': contentType } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
}

/** Like apiCall, but any non-2xx status becomes a LocalClusterError naming the stage and path. */
export async function apiCallOk(target: ApiTarget, stage: string, method: string, path: string, body?: unknown, contentType?: string): Promise<unknown> {
  let res: RawResponse;
  try {
    res = await apiCall(target, method, path, body, contentType);
  } catch (err) {
    throw new LocalClusterError('API_REQUEST', stage, `${method} ${path}`, (err as Error).message, { cause: err });
  }
  if (res.status < 200 || res.status > 299) {
    throw new LocalClusterError('API_REQUEST', stage, `${method} ${path}`, `HTTP ${res.status}: ${statusMessage(res.body)}`);
  }
  return res.body === '' ? undefined : (JSON.parse(res.body) as unknown);
}

function statusMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: string };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.slice(0, 500);
}
