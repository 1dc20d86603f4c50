import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ensureTrailingSlash,
  parseRtspUrl,
  removeDotSegments,
  resolveControlUrl,
  resolveUrl,
  stripTrailingSlash,
} from '../../src/rtsp/index.ts';

describe('parseRtspUrl', () => {
  it.each([
    [
      'rtsp://media.example.com:554/twister/audiotrack',
      { scheme: 'rtsp', host: 'media.example.com', port: 554, path: '/twister/audiotrack', rawPath: '/twister/audiotrack' },
    ],
    [
      'rtsp://example.com/foo/bar/baz.rm',
      { scheme: 'rtsp', host: 'example.com', port: 554, path: '/foo/bar/baz.rm', rawPath: '/foo/bar/baz.rm' },
    ],
    ['rtsp://127.0.0.1:8554', { scheme: 'rtsp', host: '127.0.0.1', port: 8554, path: '/', rawPath: '/' }],
    ['RTSPS://h', { scheme: 'rtsps', host: 'h', port: 322, path: '/', rawPath: '/' }],
    [
      'rtsp://[::1]:8554/live/cam%201?token=a%20b',
      { scheme: 'rtsp', host: '::1', port: 8554, path: '/live/cam 1', rawPath: '/live/cam%201', query: 'token=a%20b' },
    ],
    [
      'rtsp://admin:p%40ss@192.168.1.10/Streaming/Channels/101',
      {
        scheme: 'rtsp',
        username: 'admin',
        password: 'p@ss',
        host: '192.168.1.10',
        port: 554,
        path: '/Streaming/Channels/101',
        rawPath: '/Streaming/Channels/101',
      },
    ],
    ['rtsp://user@h:/x/', { scheme: 'rtsp', username: 'user', host: 'h', port: 554, path: '/x/', rawPath: '/x/' }],
    ['rtsp://h/a?', { scheme: 'rtsp', host: 'h', port: 554, path: '/a', rawPath: '/a', query: '' }],
  ])('%s', (url, expected) => {
    expect(parseRtspUrl(url)).toEqual({ ok: true, value: expected });
  });

  it.each(['http://h/', 'rtsp:/h', 'rtsp://', 'rtsp://h:65536/', 'rtsp://h:123456/', 'rtsp://h/%zz', 'rtsp://[zz]/', 'rtsp://a@b@c/'])(
    '%s → RTSP_ERR_BAD_URL',
    (url) => {
      expect(parseRtspUrl(url)).toMatchObject({ ok: false, code: 'RTSP_ERR_BAD_URL' });
    },
  );

  it('never throws on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        parseRtspUrl(s);
        parseRtspUrl(`rtsp://${s}`);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('resolveUrl: RFC 3986 §5.4 examples (base http://a/b/c/d;p?q)', () => {
  const BASE = 'http://a/b/c/d;p?q';
  it.each([
    // §5.4.1 normal examples
    ['g:h', 'g:h'],
    ['g', 'http://a/b/c/g'],
    ['./g', 'http://a/b/c/g'],
    ['g/', 'http://a/b/c/g/'],
    ['/g', 'http://a/g'],
    ['//g', 'http://g'],
    ['?y', 'http://a/b/c/d;p?y'],
    ['g?y', 'http://a/b/c/g?y'],
    ['#s', 'http://a/b/c/d;p?q#s'],
    ['g#s', 'http://a/b/c/g#s'],
    ['g?y#s', 'http://a/b/c/g?y#s'],
    [';x', 'http://a/b/c/;x'],
    ['g;x', 'http://a/b/c/g;x'],
    ['g;x?y#s', 'http://a/b/c/g;x?y#s'],
    ['', 'http://a/b/c/d;p?q'],
    ['.', 'http://a/b/c/'],
    ['./', 'http://a/b/c/'],
    ['..', 'http://a/b/'],
    ['../', 'http://a/b/'],
    ['../g', 'http://a/b/g'],
    ['../..', 'http://a/'],
    ['../../', 'http://a/'],
    ['../../g', 'http://a/g'],
    // §5.4.2 abnormal examples
    ['../../../g', 'http://a/g'],
    ['../../../../g', 'http://a/g'],
    ['/./g', 'http://a/g'],
    ['/../g', 'http://a/g'],
    ['g.', 'http://a/b/c/g.'],
    ['.g', 'http://a/b/c/.g'],
    ['g..', 'http://a/b/c/g..'],
    ['..g', 'http://a/b/c/..g'],
    ['./../g', 'http://a/b/g'],
    ['./g/.', 'http://a/b/c/g/'],
    ['g/./h', 'http://a/b/c/g/h'],
    ['g/../h', 'http://a/b/c/h'],
    ['g;x=1/./y', 'http://a/b/c/g;x=1/y'],
    ['g;x=1/../y', 'http://a/b/c/y'],
    ['g?y/./x', 'http://a/b/c/g?y/./x'],
    ['g?y/../x', 'http://a/b/c/g?y/../x'],
    ['g#s/./x', 'http://a/b/c/g#s/./x'],
    ['g#s/../x', 'http://a/b/c/g#s/../x'],
  ])('%j → %s', (ref, out) => {
    expect(resolveUrl(BASE, ref)).toBe(out);
  });

  it('remove_dot_segments §5.2.4 walk-through', () => {
    expect(removeDotSegments('/a/b/c/./../../g')).toBe('/a/g');
    expect(removeDotSegments('mid/content=5/../6')).toBe('mid/6');
  });
});

describe('resolveControlUrl (RFC 2326 C.1.1)', () => {
  it.each([
    ['rtsp://h/movie.mp4/', '*', 'rtsp://h/movie.mp4/'],
    ['rtsp://h/movie.mp4/', undefined, 'rtsp://h/movie.mp4/'],
    ['rtsp://h/movie.mp4/', 'trackID=1', 'rtsp://h/movie.mp4/trackID=1'],
    ['rtsp://h/movie.mp4', 'trackID=1', 'rtsp://h/trackID=1'], // no trailing slash: RFC 3986 replaces the last segment
    ['rtsp://h:8554/live/', 'rtsp://other/live/track2', 'rtsp://other/live/track2'],
    ['rtsp://[::1]:8554/a/b/', '../c', 'rtsp://[::1]:8554/a/c'],
    ['rtsp://h/a/', '/abs/track', 'rtsp://h/abs/track'],
    ['rtsp://h/cam?x=1', 'track1', 'rtsp://h/track1'],
  ])('%s + %j → %s', (base, control, out) => {
    expect(resolveControlUrl(base, control)).toBe(out);
  });
});

describe('trailing slash helpers', () => {
  it.each([
    ['rtsp://h/live/', 'rtsp://h/live'],
    ['rtsp://h/live', 'rtsp://h/live'],
    ['rtsp://h/', 'rtsp://h/'],
    ['/live/', '/live'],
    ['/', '/'],
  ])('strip %s → %s', (a, b) => expect(stripTrailingSlash(a)).toBe(b));
  it('ensure', () => {
    expect(ensureTrailingSlash('rtsp://h/live')).toBe('rtsp://h/live/');
    expect(ensureTrailingSlash('rtsp://h/live/')).toBe('rtsp://h/live/');
  });
});
