import { describe, expect, it } from 'vitest';
import { FramingError, JsonStreamFramer } from '../../src/ovsdb/framer.ts';
import { WIRE_VECTORS } from './encoder-vectors.ts';

/** What the server sent over the whole vector session, back to back as on the socket. */
const serverTexts = WIRE_VECTORS.flatMap((v) => [...v.notifications, ...(v.response === undefined ? [] : [v.response])]);
const serverStream = Buffer.from(serverTexts.join(''));
const expected = serverTexts.map((t) => JSON.parse(t) as unknown);

function feed(framer: JsonStreamFramer, chunks: Buffer[]): unknown[] {
  const out: unknown[] = [];
  for (const c of chunks) out.push(...framer.push(c));
  return out;
}

function splitAt(buf: Buffer, points: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    chunks.push(buf.subarray(prev, p));
    prev = p;
  }
  chunks.push(buf.subarray(prev));
  return chunks;
}

function framingError(fn: () => unknown): FramingError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FramingError);
    expect((err as FramingError).code).toBe('FramingError');
    return err as FramingError;
  }
  throw new Error('expected a FramingError');
}

describe('JsonStreamFramer', () => {
  it('has a non-trivial real stream to work on', () => {
    expect(expected.length).toBeGreaterThan(15);
    expect(serverStream.length).toBeGreaterThan(2000);
  });

  it('splits the real server stream in one push', () => {
    expect(feed(new JsonStreamFramer(), [serverStream])).toEqual(expected);
  });

  it('gives the same values for a split at every byte offset of the real stream', () => {
    for (let p = 0; p <= serverStream.length; p++) {
      const framer = new JsonStreamFramer();
      expect(feed(framer, splitAt(serverStream, [p])), `split at ${p}`).toEqual(expected);
      expect(framer.pendingBytes).toBe(0);
    }
  });

  it('handles the real stream one byte per push', () => {
    const framer = new JsonStreamFramer();
    const chunks = Array.from({ length: serverStream.length }, (_, i) => serverStream.subarray(i, i + 1));
    expect(feed(framer, chunks)).toEqual(expected);
  });

  it('handles random chunkings of the real stream (seeded)', () => {
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let round = 0; round < 200; round++) {
      const points = new Set<number>();
      const n = 1 + Math.floor(rand() * 40);
      for (let i = 0; i < n; i++) points.add(Math.floor(rand() * serverStream.length));
      const sorted = [...points].sort((a, b) => a - b);
      expect(feed(new JsonStreamFramer(), splitAt(serverStream, sorted)), `round ${round} points ${sorted.join(',')}`).toEqual(expected);
    }
  });

  it('is not fooled by brackets, quotes and backslashes inside strings', () => {
    const values = [
      { a: '}{][' },
      { a: 'say "hi" {' },
      { a: '\\' },
      { a: '\\"}' },
      { a: '\\\\' },
      { 'key}"': ['[', ']', '\\', '"'] },
      ['"', '{', ['}']],
      { s: '\u0000\n\t\u001f' },
    ];
    const text = values.map((v) => JSON.stringify(v)).join('');
    const buf = Buffer.from(text);
    for (let p = 0; p <= buf.length; p++) {
      expect(feed(new JsonStreamFramer(), splitAt(buf, [p])), `split at ${p}`).toEqual(values);
    }
  });

  it('reassembles 2-, 3- and 4-byte UTF-8 characters split at every byte, in two and three pieces', () => {
    const value = { s: 'é ß € 中 😀 𝄞', k: ['ü', '\u2028'] };
    const buf = Buffer.from(JSON.stringify(value));
    for (let p = 0; p <= buf.length; p++) {
      for (let q = p; q <= buf.length; q++) {
        expect(feed(new JsonStreamFramer(), splitAt(buf, [p, q]))).toEqual([value]);
      }
    }
  });

  it('skips whitespace between values and accepts top-level arrays', () => {
    expect(feed(new JsonStreamFramer(), [Buffer.from(' {"a":1}\n\r\t[2,3] {"b":[]}\n')])).toEqual([{ a: 1 }, [2, 3], { b: [] }]);
  });

  it.each([
    ['a letter', 'x{"a":1}'],
    ['a bare string', '"str"'],
    ['a number', '12'],
    ['a stray closing brace', '}'],
    ['a NUL byte', '\u0000'],
  ])('rejects a value starting with %s', (_what, text) => {
    const err = framingError(() => new JsonStreamFramer().push(Buffer.from(text)));
    expect(err.reason).toMatch(/expected '\{' or '\['/);
    expect(err.offset).toBe(0);
  });

  it('reports the stream offset of garbage after good values', () => {
    const framer = new JsonStreamFramer();
    expect(framer.push(Buffer.from('{"a":1}'))).toEqual([{ a: 1 }]);
    const err = framingError(() => framer.push(Buffer.from('  nope')));
    expect(err.offset).toBe(9);
  });

  it.each([
    ['a missing value', '{"a":}'],
    ['mismatched brackets', '{"a":[1}]'],
    ['a trailing comma', '{"a":1,}'],
    ['a bad escape', '{"a":"\\q"}'],
    ['a raw control character in a string', '{"a":"x\u0001"}'],
  ])('rejects malformed JSON: %s', (_what, text) => {
    expect(framingError(() => new JsonStreamFramer().push(Buffer.from(text))).reason).toMatch(/malformed JSON/);
  });

  it('decodes invalid UTF-8 (as ovsdb-server relays a stored lone low surrogate) to U+FFFD instead of failing', () => {
    const buf = Buffer.concat([Buffer.from('{"a":"x'), Buffer.from([0xed, 0xb0, 0x80]), Buffer.from('y"}')]);
    const [value] = new JsonStreamFramer().push(buf) as [{ a: string }];
    expect(value.a.startsWith('x')).toBe(true);
    expect(value.a.endsWith('y')).toBe(true);
    expect(value.a.slice(1, -1)).toMatch(/^\ufffd+$/);
  });

  it('stays failed after an error, so a caller cannot resume mid-garbage', () => {
    const framer = new JsonStreamFramer();
    const first = framingError(() => framer.push(Buffer.from('garbage')));
    expect(framingError(() => framer.push(Buffer.from('{"a":1}')))).toBe(first);
  });

  it('enforces the maximum value size, complete or still arriving', () => {
    const max = 1024;
    const fits = Buffer.from(JSON.stringify({ s: 'x'.repeat(max - 8) }));
    expect(fits.length).toBe(max);
    expect(new JsonStreamFramer({ maxValueBytes: max }).push(fits)).toHaveLength(1);

    const tooBig = Buffer.from(JSON.stringify({ s: 'x'.repeat(max) }));
    expect(framingError(() => new JsonStreamFramer({ maxValueBytes: max }).push(tooBig)).reason).toMatch(/exceeds 1024 bytes/);

    const framer = new JsonStreamFramer({ maxValueBytes: max });
    framer.push(Buffer.from('{"s":"'));
    const err = framingError(() => {
      for (let i = 0; i < 10; i++) framer.push(Buffer.alloc(200, 0x61));
    });
    expect(err.reason).toMatch(/exceeds/);
    expect(() => new JsonStreamFramer({ maxValueBytes: 0 })).toThrow(RangeError);
  });

  it('names the remote in its errors', () => {
    const framer = new JsonStreamFramer({ remote: 'tcp:127.0.0.1:6641' });
    expect(framingError(() => framer.push(Buffer.from('x'))).message).toContain('tcp:127.0.0.1:6641');
  });

  it('keeps only the pending value, not what it already returned', () => {
    const framer = new JsonStreamFramer();
    framer.push(Buffer.from('{"a":1}{"b":'));
    expect(framer.pendingBytes).toBe(5);
    expect(framer.push(Buffer.from('2}'))).toEqual([{ b: 2 }]);
    expect(framer.pendingBytes).toBe(0);
  });
});
