// One JSON-RPC session over one socket: request/reply matching, the server's echo, our own
// inactivity probe, per-request timeouts and notification dispatch. No reconnection here: when
// the socket goes, every pending request is rejected and 'close' fires once; the client decides
// what to do next.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { OvsdbEncoder } from './encoder.ts';
import { OvsdbConnectionError, OvsdbError } from './errors.ts';
import { JsonStreamFramer } from './framer.ts';
import type { RpcId } from './protocol.ts';
import type { Remote } from './remote.ts';

export interface ConnectionOptions {
  encoder: OvsdbEncoder;
  logger: Logger;
  /** Idle time before we probe the peer with an echo; the peer is declared dead after a second idle interval. 0 disables. */
  probeIntervalMs: number;
  /** Default per-request timeout. */
  requestTimeoutMs: number;
}

export type NotificationHandler = (method: string, params: unknown[]) => void;

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

interface Message {
  id?: RpcId;
  method?: string;
  params?: unknown[];
  result?: unknown;
  error?: unknown;
}

export class OvsdbConnection extends EventEmitter<{ close: [Error] }> {
  readonly remote: Remote;
  readonly #socket: Socket;
  readonly #encoder: OvsdbEncoder;
  readonly #log: Logger;
  readonly #framer: JsonStreamFramer;
  readonly #pending = new Map<number, Pending>();
  readonly #requestTimeoutMs: number;
  #nextId = 1;
  #closedWith: Error | undefined;
  #corked = false;
  #lastReceived = Date.now();
  #probeOutstanding = false;
  #probeTimer: NodeJS.Timeout | undefined;
  onNotification: NotificationHandler = () => {};

  constructor(socket: Socket, remote: Remote, opts: ConnectionOptions) {
    super();
    this.#socket = socket;
    this.remote = remote;
    this.#encoder = opts.encoder;
    this.#log = opts.logger.child({ remote: remote.text });
    this.#requestTimeoutMs = opts.requestTimeoutMs;
    this.#framer = new JsonStreamFramer({ remote: remote.text });
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#fail(new OvsdbConnectionError('ConnectionLost', 'socket', remote.text, err.message, { cause: err })));
    socket.on('close', () => this.#fail(new OvsdbConnectionError('ConnectionLost', 'socket', remote.text, 'connection closed by peer')));
    if (opts.probeIntervalMs > 0) {
      this.#probeTimer = setInterval(() => this.#probe(opts.probeIntervalMs), opts.probeIntervalMs);
      this.#probeTimer.unref();
    }
  }

  get closed(): boolean {
    return this.#closedWith !== undefined;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Sends `method` with `params` (encoded by the encoder) and resolves to the result. */
  call(method: string, params: readonly unknown[], timeoutMs?: number): Promise<unknown> {
    return this.send(method, (id) => this.#encoder.request(method, params, id), timeoutMs);
  }

  /** Sends a request whose bytes `encode(id)` builds; resolves to the result. */
  send(method: string, encode: (id: number) => Buffer, timeoutMs?: number): Promise<unknown> {
    return this.sendMany(method, 1, (ids) => encode(ids[0]!), timeoutMs)[0]!;
  }

  /**
   * Sends `count` requests whose bytes `encode(ids)` builds in one go (one encoder call, one
   * write); returns one promise per request, in order.
   */
  sendMany(method: string, count: number, encode: (ids: number[]) => Buffer, timeoutMs?: number): Promise<unknown>[] {
    if (count === 0) return [];
    if (this.#closedWith) {
      const err = new OvsdbConnectionError('ConnectionLost', method, this.remote.text, `connection is down (${this.#closedWith.message})`, {
        cause: this.#closedWith,
      });
      return Array.from({ length: count }, () => Promise.reject(err));
    }
    const ids = Array.from({ length: count }, () => this.#nextId++);
    let bytes: Buffer;
    try {
      bytes = encode(ids);
    } catch (err) {
      return ids.map(() => Promise.reject(err));
    }
    const limit = timeoutMs ?? this.#requestTimeoutMs;
    const promises = ids.map(
      (id) =>
        new Promise<unknown>((resolve, reject) => {
          const pending: Pending = { method, resolve, reject, timer: undefined };
          if (limit > 0) {
            pending.timer = setTimeout(() => {
              this.#pending.delete(id);
              reject(new OvsdbConnectionError('RequestTimeout', method, this.remote.text, `no reply within ${limit} ms`));
            }, limit);
          }
          this.#pending.set(id, pending);
        }),
    );
    this.#write(bytes);
    return promises;
  }

  /** Closes the socket; pending requests reject with `reason`. */
  close(reason?: Error): void {
    this.#fail(reason ?? new OvsdbConnectionError('ClientClosed', 'close', this.remote.text, 'connection closed by client'));
  }

  #write(bytes: Buffer): void {
    // Requests issued in the same tick (pipelining) leave in one syscall.
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    this.#socket.write(bytes);
  }

  #onData(chunk: Buffer): void {
    this.#lastReceived = Date.now();
    this.#probeOutstanding = false;
    let messages: unknown[];
    try {
      messages = this.#framer.push(chunk);
    } catch (err) {
      this.#log.error({ event: 'framing_error', err }, 'peer sent bytes that are not JSON-RPC; dropping connection');
      this.#fail(err as Error);
      return;
    }
    for (const msg of messages) {
      if (this.#closedWith) return;
      this.#dispatch(msg as Message);
    }
  }

  #dispatch(msg: Message): void {
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      this.#log.error({ event: 'bad_message' }, 'peer sent a JSON value that is not a JSON-RPC object; dropping connection');
      this.#fail(new OvsdbConnectionError('ConnectionLost', 'dispatch', this.remote.text, 'peer sent a non-object JSON-RPC message'));
      return;
    }
    if (typeof msg.method === 'string') {
      const params = Array.isArray(msg.params) ? msg.params : [];
      if (msg.id === null || msg.id === undefined) {
        this.onNotification(msg.method, params);
      } else if (msg.method === 'echo') {
        // The server's inactivity probe: it drops us if this goes unanswered.
        this.#write(this.#encoder.reply(msg.id, params));
      } else {
        this.#log.warn({ event: 'unexpected_request', method: msg.method }, 'peer sent a request we do not serve');
        this.#write(Buffer.from(JSON.stringify({ id: msg.id, result: null, error: 'unknown method' })));
      }
      return;
    }
    if (typeof msg.id !== 'number') {
      // Replies to our probe use a string id; anything else unmatched is logged and ignored.
      if (msg.id !== 'ovnkit-probe') this.#log.warn({ event: 'unmatched_reply', id: msg.id }, 'reply with unknown id');
      return;
    }
    const pending = this.#pending.get(msg.id);
    if (!pending) {
      this.#log.warn({ event: 'unmatched_reply', id: msg.id }, 'reply for a request no longer pending');
      return;
    }
    this.#pending.delete(msg.id);
    if (pending.timer) clearTimeout(pending.timer);
    if (msg.error !== null && msg.error !== undefined) {
      // ovsdb-server answers an unknown method with {"id":n,"error":"unknown method"} and no
      // result; RFC 7047 errors are objects {"error": "...", "details": "..."}.
      const { code, details } = rpcErrorFields(msg.error);
      pending.reject(new OvsdbError({ code, stage: 'rpc', method: pending.method, details }));
      return;
    }
    pending.resolve(msg.result);
  }

  #probe(intervalMs: number): void {
    if (this.#closedWith) return;
    const idle = Date.now() - this.#lastReceived;
    if (idle < intervalMs) return;
    if (this.#probeOutstanding) {
      this.#log.warn({ event: 'probe_timeout', idleMs: idle }, 'no response to inactivity probe; dropping connection');
      this.#fail(new OvsdbConnectionError('ProbeTimeout', 'probe', this.remote.text, `no data for ${idle} ms after an echo probe`));
      return;
    }
    this.#probeOutstanding = true;
    this.#write(this.#encoder.echo('ovnkit-probe', []));
  }

  #fail(reason: Error): void {
    if (this.#closedWith) return;
    this.#closedWith = reason;
    if (this.#probeTimer) clearInterval(this.#probeTimer);
    this.#socket.destroy();
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      if (pending.timer) clearTimeout(pending.timer);
      pending.reject(
        reason instanceof OvsdbConnectionError
          ? new OvsdbConnectionError(reason.code === 'ClientClosed' ? 'ClientClosed' : 'ConnectionLost', pending.method, this.remote.text, reason.message, { cause: reason })
          : new OvsdbConnectionError('ConnectionLost', pending.method, this.remote.text, reason.message, { cause: reason }),
      );
    }
    this.emit('close', reason);
  }
}

function rpcErrorFields(error: unknown): { code: string; details: string | undefined } {
  if (typeof error === 'string') return { code: error, details: undefined };
  if (typeof error === 'object' && error !== null) {
    const e = error as { error?: unknown; details?: unknown };
    return {
      code: typeof e.error === 'string' ? e.error : JSON.stringify(error),
      details: typeof e.details === 'string' ? e.details : undefined,
    };
  }
  return { code: JSON.stringify(error) ?? 'error', details: undefined };
}
