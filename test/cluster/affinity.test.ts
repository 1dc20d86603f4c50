/**
 * Which worker serves a connection (src/cluster/affinity.ts), and how the session budget is split.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SPILL_RATIO, SPILL_SLACK, hashKey, ownerOf, pickWorker, routeKeyOf } from '../../src/cluster/affinity.ts';
import { sessionIdPrefix, sessionShare } from '../../src/cluster/protocol.ts';

const noRules = () => false;

describe('routeKeyOf', () => {
  it.each([
    ['rtsp://127.0.0.1:8554/sample.mp4', { kind: 'file', key: 'sample.mp4' }],
    ['rtsp://127.0.0.1:8554/sample.mp4/', { kind: 'file', key: 'sample.mp4' }],
    ['rtsp://127.0.0.1:8554/sample.mp4/trackID=1', { kind: 'file', key: 'sample.mp4' }],
    ['rtsp://h/dir/a%20b.mp4?netem=loss%201%25', { kind: 'file', key: 'dir/a b.mp4' }],
    ['/sample.mp4', { kind: 'file', key: 'sample.mp4' }],
    ['rtsp://h/live/cam', { kind: 'live', key: 'live/cam' }],
    ['rtsp://h/live/cam/trackID=0', { kind: 'live', key: 'live/cam' }],
    ['rtsp://h/live/cam/', { kind: 'live', key: 'live/cam' }],
    ['rtsp://h/live/cam?netem=delay%2040ms', { kind: 'live', key: 'live/cam' }],
    ['*', { kind: 'any' }],
    ['rtsp://h:8554', { kind: 'any' }],
    ['rtsp://h:8554/', { kind: 'any' }],
    ['rtsp://h/%E0%A4%A', { kind: 'any' }],
    ['garbage', { kind: 'any' }],
  ])('%s', (uri, want) => {
    expect(routeKeyOf(uri, noRules)).toEqual(want);
  });

  it('a path a config rule makes live is a live key, its whole decoded path', () => {
    const rules = (p: string) => p.startsWith('cams/');
    expect(routeKeyOf('rtsp://h/cams/one', rules)).toEqual({ kind: 'live', key: 'cams/one' });
    expect(routeKeyOf('rtsp://h/cams/one/trackID=2', rules)).toEqual({ kind: 'live', key: 'cams/one' });
    expect(routeKeyOf('rtsp://h/cam%73/one', rules)).toEqual({ kind: 'live', key: 'cams/one' });
  });

  it('never throws on any URI', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (uri) => void routeKeyOf(uri, noRules)));
  });
});

describe('hashKey', () => {
  it('is FNV-1a 32 over UTF-8 (published vectors)', () => {
    expect(hashKey('')).toBe(0x811c9dc5);
    expect(hashKey('a')).toBe(0xe40c292c);
    expect(hashKey('foobar')).toBe(0xbf9cf968);
  });
});

describe('pickWorker', () => {
  const live = (key: string) => ({ kind: 'live', key }) as const;
  const file = (key: string) => ({ kind: 'file', key }) as const;
  /** A key owned by worker `w` of `n`. */
  const keyOwnedBy = (w: number, n: number, prefix: string): string => {
    for (let i = 0; ; i++) if (ownerOf(`${prefix}${i}`, n) === w) return `${prefix}${i}`;
  };

  it('a live channel always goes to its owner, however loaded', () => {
    const k = keyOwnedBy(1, 2, 'live/c');
    expect(pickWorker(live(k), [0, 500])).toBe(1);
  });

  it('a live channel whose owner is down goes to the next worker up', () => {
    const k = keyOwnedBy(1, 3, 'live/c');
    expect(pickWorker(live(k), [7, undefined, 9])).toBe(2);
  });

  it('a file goes to its owner until the owner holds more than SPILL_RATIO × the least + SPILL_SLACK', () => {
    const k = keyOwnedBy(0, 2, 'f');
    const least = 20;
    const limit = SPILL_RATIO * least + SPILL_SLACK; // 29
    expect(pickWorker(file(k), [limit, least])).toBe(0);
    expect(pickWorker(file(k), [limit + 1, least])).toBe(1);
    expect(pickWorker(file(k), [0, 0])).toBe(0);
    expect(pickWorker(file(k), [undefined, 3])).toBe(1);
  });

  it('anything without a path goes to the least loaded; nothing when every worker is down', () => {
    expect(pickWorker({ kind: 'any' }, [4, 2, 3])).toBe(1);
    expect(pickWorker({ kind: 'any' }, [undefined, undefined])).toBeUndefined();
    expect(pickWorker(file('x'), [undefined])).toBeUndefined();
  });

  it('many clients of one file spread so that no worker holds more than SPILL_RATIO × the other + SPILL_SLACK + 1', () => {
    const loads = [0, 0];
    for (let i = 0; i < 400; i++) {
      const w = pickWorker(file('sample.mp4'), loads)!;
      loads[w]!++;
    }
    const [a, b] = [Math.max(...loads), Math.min(...loads)];
    expect(a + b).toBe(400);
    expect(a).toBeLessThanOrEqual(SPILL_RATIO * b + SPILL_SLACK + 1);
  });
});

describe('the session budget and ids', () => {
  it('sessionShare splits maxSessions exactly, the remainder to the first workers', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 64 }), (max, n) => {
        const shares = Array.from({ length: n }, (_, i) => sessionShare(max, n, i));
        expect(shares.reduce((a, b) => a + b, 0)).toBe(max);
        expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('session id prefixes differ per worker and have one width', () => {
    const p = Array.from({ length: 256 }, (_, i) => sessionIdPrefix(i));
    expect(new Set(p).size).toBe(256);
    expect(p.every((x) => /^[0-9a-f]{2}$/.test(x))).toBe(true);
  });
});
