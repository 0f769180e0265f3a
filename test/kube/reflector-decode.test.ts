import { describe, expect, it } from 'vitest';
import { JitteredBackoff } from '../../src/kube/watch-backoff.ts';
import { checkObject, decodeWatchLine, isExpiredStatus, LineSplitter } from '../../src/kube/watch-events.ts';
import { collectionPath } from '../../src/kube/watch-types.ts';

describe('checkObject', () => {
  const good = { metadata: { name: 'p', namespace: 'a', resourceVersion: '5' } };
  it('accepts an object with name, namespace and resourceVersion', () => {
    expect(checkObject(good, true).ok).toBe(true);
  });
  it.each([
    ['not an object', 'x', true, /not a JSON object/],
    ['array', [], true, /not a JSON object/],
    ['no metadata', { spec: {} }, true, /metadata missing/],
    ['name not a string', { metadata: { name: 5, namespace: 'a', resourceVersion: '1' } }, true, /metadata.name/],
    ['empty name', { metadata: { name: '', namespace: 'a', resourceVersion: '1' } }, true, /metadata.name/],
    ['no resourceVersion', { metadata: { name: 'p', namespace: 'a' } }, true, /resourceVersion/],
    ['namespaced without namespace', { metadata: { name: 'p', resourceVersion: '1' } }, true, /namespace missing/],
    ['cluster-scoped with namespace', { metadata: { name: 'p', namespace: 'a', resourceVersion: '1' } }, false, /cluster-scoped/],
    ['ownerReferences not an array', { metadata: { name: 'p', namespace: 'a', resourceVersion: '1', ownerReferences: {} } }, true, /ownerReferences/],
  ])('rejects %s', (_label, value, namespaced, problem) => {
    const check = checkObject(value, namespaced);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.problem).toMatch(problem);
  });
});

describe('decodeWatchLine', () => {
  it('decodes ADDED/MODIFIED/DELETED, BOOKMARK and ERROR', () => {
    const obj = { metadata: { name: 'p', namespace: 'a', resourceVersion: '7' } };
    for (const type of ['ADDED', 'MODIFIED', 'DELETED'] as const) {
      const d = decodeWatchLine(JSON.stringify({ type, object: obj }), true);
      expect(d.ok && d.event.type === type && d.event.obj.metadata.name === 'p').toBe(true);
    }
    const bm = decodeWatchLine('{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"99"}}}', true);
    expect(bm).toEqual({ ok: true, event: { type: 'BOOKMARK', resourceVersion: '99' } });
    const err = decodeWatchLine(
      '{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"The resourceVersion for the provided watch is too old.","reason":"Expired","code":410}}',
      true,
    );
    expect(err.ok && err.event.type === 'ERROR' && isExpiredStatus(err.event.status)).toBe(true);
  });

  it('marks non-JSON as a framing problem, and bad objects as skippable with their resourceVersion', () => {
    const junk = decodeWatchLine('{"type":"ADDED","object":{', true);
    expect(junk.ok).toBe(false);
    if (!junk.ok) expect(junk.framing).toBe(true);
    const noName = decodeWatchLine('{"type":"MODIFIED","object":{"metadata":{"namespace":"a","resourceVersion":"12"}}}', true);
    expect(noName).toMatchObject({ ok: false, framing: false, resourceVersion: '12' });
    const unknownType = decodeWatchLine('{"type":"FROBNICATED","object":{}}', true);
    expect(unknownType).toMatchObject({ ok: false, framing: false });
    const noRvBookmark = decodeWatchLine('{"type":"BOOKMARK","object":{"metadata":{}}}', true);
    expect(noRvBookmark).toMatchObject({ ok: false, framing: false });
  });

  it('isExpiredStatus recognises code 410 and reason Expired/Gone only', () => {
    expect(isExpiredStatus({ code: 410, reason: undefined, message: undefined })).toBe(true);
    expect(isExpiredStatus({ code: undefined, reason: 'Gone', message: undefined })).toBe(true);
    expect(isExpiredStatus({ code: 500, reason: 'InternalError', message: undefined })).toBe(false);
  });
});

describe('LineSplitter', () => {
  it('joins lines across chunks and never splits a multi-byte character', () => {
    const text = '{"a":"é€𝄞"}\n{"b":1}\n\n{"c":2}';
    const bytes = Buffer.from(text, 'utf8');
    // Feed one byte at a time: every multi-byte character is cut at some point.
    const splitter = new LineSplitter();
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i++) lines.push(...splitter.push(bytes.subarray(i, i + 1)));
    const last = splitter.flush();
    if (last !== undefined) lines.push(last);
    expect(lines).toEqual(['{"a":"é€𝄞"}', '{"b":1}', '{"c":2}']);
  });

  it('refuses a line longer than its limit', () => {
    const splitter = new LineSplitter(16);
    expect(() => splitter.push(Buffer.alloc(32, 0x61))).toThrow(RangeError);
  });
});

describe('JitteredBackoff', () => {
  it('doubles from the initial delay up to the cap, with jitter on top, and resets after a long success', () => {
    const b = new JitteredBackoff({ initialMs: 100, maxMs: 1000, jitter: 0.5, resetAfterMs: 10_000, random: () => 1 });
    expect([b.nextDelayMs(), b.nextDelayMs(), b.nextDelayMs(), b.nextDelayMs(), b.nextDelayMs()]).toEqual([150, 300, 600, 1200, 1500]);
    b.succeeded(5_000);
    expect(b.nextDelayMs()).toBe(1500);
    b.succeeded(10_000);
    expect(b.nextDelayMs()).toBe(150);
    const noJitter = new JitteredBackoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    expect(noJitter.nextDelayMs()).toBe(100);
  });
  it('rejects nonsense settings', () => {
    expect(() => new JitteredBackoff({ initialMs: 0 })).toThrow(RangeError);
    expect(() => new JitteredBackoff({ initialMs: 10, maxMs: 5 })).toThrow(RangeError);
  });
});

describe('collectionPath', () => {
  it('builds core, group, namespaced and cluster-wide paths', () => {
    expect(collectionPath({ group: '', version: 'v1', plural: 'pods', namespaced: true })).toBe('/api/v1/pods');
    expect(collectionPath({ group: '', version: 'v1', plural: 'pods', namespaced: true, namespace: 'kube-system' })).toBe('/api/v1/namespaces/kube-system/pods');
    expect(collectionPath({ group: 'kubeovn.io', version: 'v1', plural: 'subnets', namespaced: false })).toBe('/apis/kubeovn.io/v1/subnets');
    expect(() => collectionPath({ group: 'kubeovn.io', version: 'v1', plural: 'subnets', namespaced: false, namespace: 'x' })).toThrow(/cluster-scoped/);
  });
});
