// Splits the byte stream from ovsdb-server into JSON values. The server writes JSON-RPC messages
// back to back with no delimiter, so message boundaries come from bracket depth alone. Bytes are
// scanned once: the scan state (depth, in-string, escape) survives between chunks, and only the
// bytes of the value in progress are kept. UTF-8 continuation bytes are >= 0x80 and never look
// like '"', '\\', '{', '}', '[' or ']', so a multi-byte character split across reads needs no
// special care until the complete value is decoded.
// Invalid UTF-8 is decoded as U+FFFD, not refused: ovsdb-server stores a lone low surrogate
// escape ("\udc00") as the invalid bytes ED B0 80 and sends them back raw (measured on 3.1), so
// one such row written by any client would otherwise break every monitor of its table.

export const FRAMING_ERROR_CODE = 'FramingError';
export const DEFAULT_MAX_VALUE_BYTES = 64 * 1024 * 1024;

/** The peer sent something that is not a stream of JSON objects/arrays: drop the connection. */
export class FramingError extends Error {
  readonly code = FRAMING_ERROR_CODE;
  readonly stage = 'framing';
  /** Offset in the whole stream (bytes pushed so far) where the problem was seen. */
  readonly offset: number;
  readonly reason: string;

  constructor(reason: string, offset: number, remote?: string) {
    super(`ovsdb framing${remote ? ` from ${remote}` : ''}: ${reason} (stream offset ${offset})`);
    this.name = 'FramingError';
    this.reason = reason;
    this.offset = offset;
  }
}

export interface JsonStreamFramerOptions {
  /** Largest single value accepted, in bytes (default 64 MiB). */
  maxValueBytes?: number;
  /** Named in error messages, e.g. the remote address. */
  remote?: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

export class JsonStreamFramer {
  readonly #maxValueBytes: number;
  readonly #remote: string | undefined;
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** Earlier chunks' bytes of the value in progress. */
  #parts: Buffer[] = [];
  #partsBytes = 0;
  #streamOffset = 0;
  #failed: FramingError | undefined;

  constructor(options: JsonStreamFramerOptions = {}) {
    const max = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    if (!Number.isSafeInteger(max) || max <= 0) throw new RangeError(`maxValueBytes must be a positive integer, got ${max}`);
    this.#maxValueBytes = max;
    this.#remote = options.remote;
  }

  /** Bytes of an incomplete value held from earlier pushes. */
  get pendingBytes(): number {
    return this.#partsBytes;
  }

  /** Returns every value completed by this chunk, in order. After a FramingError every push throws it again. */
  push(chunk: Buffer): unknown[] {
    if (this.#failed) throw this.#failed;
    const values: unknown[] = [];
    const n = chunk.length;
    let valueStart = this.#depth > 0 ? 0 : -1;
    let i = 0;
    while (i < n) {
      if (this.#depth === 0) {
        const b = chunk[i] as number;
        if (b === OPEN_BRACE || b === OPEN_BRACKET) {
          valueStart = i;
          this.#depth = 1;
          i++;
          continue;
        }
        if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) {
          i++;
          continue;
        }
        throw this.#fail(`expected '{' or '[' to start a value, got byte 0x${b.toString(16).padStart(2, '0')}`, i);
      }
      const end = this.#scan(chunk, i);
      if (end < 0) {
        i = n;
        break;
      }
      // The value closes at `end`.
      const bytes = this.#take(chunk, valueStart, end + 1);
      values.push(this.#parse(bytes, end));
      valueStart = -1;
      i = end + 1;
    }
    if (valueStart >= 0) {
      const tail = chunk.subarray(valueStart);
      this.#partsBytes += tail.length;
      if (this.#partsBytes > this.#maxValueBytes) throw this.#fail(`value exceeds ${this.#maxValueBytes} bytes`, n);
      this.#parts.push(Buffer.from(tail));
    }
    this.#streamOffset += n;
    return values;
  }

  /** Advances the scan from `i` inside a value; returns the index of its closing byte, or -1. */
  #scan(chunk: Buffer, i: number): number {
    const n = chunk.length;
    let depth = this.#depth;
    let inString = this.#inString;
    let escaped = this.#escaped;
    for (; i < n; i++) {
      const b = chunk[i] as number;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) inString = false;
      } else if (b === QUOTE) inString = true;
      else if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
      else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        if (--depth === 0) {
          this.#depth = 0;
          this.#inString = false;
          this.#escaped = false;
          return i;
        }
      }
    }
    this.#depth = depth;
    this.#inString = inString;
    this.#escaped = escaped;
    return -1;
  }

  #take(chunk: Buffer, start: number, end: number): Buffer {
    const size = this.#partsBytes + (end - start);
    if (size > this.#maxValueBytes) throw this.#fail(`value exceeds ${this.#maxValueBytes} bytes`, end);
    if (this.#parts.length === 0) return chunk.subarray(start, end);
    this.#parts.push(chunk.subarray(start, end));
    const whole = Buffer.concat(this.#parts, size);
    this.#parts = [];
    this.#partsBytes = 0;
    return whole;
  }

  #parse(bytes: Buffer, end: number): unknown {
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw this.#fail(`malformed JSON: ${(err as Error).message}`, end);
    }
  }

  #fail(reason: string, indexInChunk: number): FramingError {
    this.#failed = new FramingError(reason, this.#streamOffset + indexInChunk, this.#remote);
    this.#parts = [];
    this.#partsBytes = 0;
    return this.#failed;
  }
}
