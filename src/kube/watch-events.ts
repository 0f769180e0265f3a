// Decoding of what the apiserver sends: list items and watch lines. Nothing here throws on bad
// input; every problem comes back as a value so the reflector can log it and carry on.
import type { KubeObject } from './watch-types.ts';

export type ObjectCheck = { ok: true; obj: KubeObject } | { ok: false; problem: string; name?: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Accepts an object only if the store can key and version it: metadata.name and
 * metadata.resourceVersion non-empty strings, and metadata.namespace a non-empty string for
 * namespaced resources (absent for cluster-scoped ones).
 */
export function checkObject(value: unknown, namespaced: boolean): ObjectCheck {
  if (!isRecord(value)) return { ok: false, problem: 'object is not a JSON object' };
  const meta = value.metadata;
  if (!isRecord(meta)) return { ok: false, problem: 'metadata missing or not an object' };
  const name = meta.name;
  if (typeof name !== 'string' || name === '') return { ok: false, problem: 'metadata.name missing or not a string' };
  const rv = meta.resourceVersion;
  if (typeof rv !== 'string' || rv === '') return { ok: false, problem: 'metadata.resourceVersion missing or not a string', name };
  const ns = meta.namespace;
  if (namespaced) {
    if (typeof ns !== 'string' || ns === '') return { ok: false, problem: 'metadata.namespace missing on a namespaced object', name };
  } else if (ns !== undefined && ns !== '') {
    return { ok: false, problem: 'metadata.namespace set on a cluster-scoped object', name };
  }
  if (meta.ownerReferences !== undefined && !Array.isArray(meta.ownerReferences)) {
    return { ok: false, problem: 'metadata.ownerReferences is not an array', name };
  }
  return { ok: true, obj: value as KubeObject };
}

export interface WatchStatus {
  code: number | undefined;
  reason: string | undefined;
  message: string | undefined;
}

export type WatchEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; obj: KubeObject }
  | { type: 'BOOKMARK'; resourceVersion: string }
  | { type: 'ERROR'; status: WatchStatus };

export type DecodedLine =
  | { ok: true; event: WatchEvent }
  /** A line that cannot be used. `resourceVersion` is set when it is still known, so the watch position can move past it. */
  | { ok: false; problem: string; resourceVersion?: string; name?: string; framing: boolean };

function statusOf(value: unknown): WatchStatus {
  if (!isRecord(value)) return { code: undefined, reason: undefined, message: undefined };
  return {
    code: typeof value.code === 'number' ? value.code : undefined,
    reason: typeof value.reason === 'string' ? value.reason : undefined,
    message: typeof value.message === 'string' ? value.message : undefined,
  };
}

/**
 * One line of a watch stream (`{"type":..., "object":...}`). `framing: true` means the line is not
 * JSON at all: the stream itself is damaged and the watch should be reopened from the last good
 * resourceVersion rather than trusting anything after it.
 */
export function decodeWatchLine(line: string, namespaced: boolean): DecodedLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    return { ok: false, problem: `line is not JSON (${(err as Error).message})`, framing: true };
  }
  if (!isRecord(parsed)) return { ok: false, problem: 'event is not a JSON object', framing: false };
  const type = parsed.type;
  const object = parsed.object;
  switch (type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED': {
      const check = checkObject(object, namespaced);
      if (!check.ok) {
        const rv = isRecord(object) && isRecord(object.metadata) ? object.metadata.resourceVersion : undefined;
        return {
          ok: false,
          problem: `${type} event: ${check.problem}`,
          ...(typeof rv === 'string' && rv !== '' ? { resourceVersion: rv } : {}),
          ...(check.name !== undefined ? { name: check.name } : {}),
          framing: false,
        };
      }
      return { ok: true, event: { type, obj: check.obj } };
    }
    case 'BOOKMARK': {
      const rv = isRecord(object) && isRecord(object.metadata) ? object.metadata.resourceVersion : undefined;
      if (typeof rv !== 'string' || rv === '') return { ok: false, problem: 'BOOKMARK without metadata.resourceVersion', framing: false };
      return { ok: true, event: { type: 'BOOKMARK', resourceVersion: rv } };
    }
    case 'ERROR':
      return { ok: true, event: { type: 'ERROR', status: statusOf(object) } };
    default:
      return { ok: false, problem: `unknown event type ${JSON.stringify(type)}`, framing: false };
  }
}

/** 410 Gone or reason Expired/Gone: the requested resourceVersion is no longer in the server's history. */
export function isExpiredStatus(status: WatchStatus): boolean {
  return status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone';
}

/**
 * Splits a byte stream into lines without ever cutting a multi-byte UTF-8 character: bytes are
 * only decoded once a whole line is present.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** A line longer than this is treated as a damaged stream (protects memory). */
  readonly maxLineBytes: number;

  constructor(maxLineBytes = 64 * 1024 * 1024) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Returns the complete lines in `chunk` (plus what was pending); throws RangeError past maxLineBytes. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl);
      let line: string;
      if (this.pendingBytes > 0) {
        this.pending.push(piece);
        line = Buffer.concat(this.pending).toString('utf8');
        this.pending = [];
        this.pendingBytes = 0;
      } else {
        line = piece.toString('utf8');
      }
      if (line.trim() !== '') lines.push(line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pending.push(rest);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > this.maxLineBytes) {
        this.pending = [];
        this.pendingBytes = 0;
        throw new RangeError(`watch line longer than ${this.maxLineBytes} bytes`);
      }
    }
    return lines;
  }

  /** What is left after the stream ended: a final line without a newline, if any. */
  flush(): string | undefined {
    if (this.pendingBytes === 0) return undefined;
    const line = Buffer.concat(this.pending).toString('utf8');
    this.pending = [];
    this.pendingBytes = 0;
    return line.trim() === '' ? undefined : line;
  }
}
