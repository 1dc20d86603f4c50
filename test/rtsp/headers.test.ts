import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatNptRange,
  formatRtpInfo,
  formatScale,
  formatSession,
  parseRange,
  parseRtpInfo,
  parseScale,
  parseSession,
  type NptRange,
} from '../../src/rtsp/index.ts';

describe('Range (npt)', () => {
  it.each([
    // RFC 2326 §3.6 / §12.29 examples
    ['npt=123.45-125', { start: 123.45, end: 125 }],
    ['npt=12:05:35.3-', { start: 12 * 3600 + 5 * 60 + 35.3 }],
    ['npt=now-', { start: 'now' }],
    ['npt=10-15', { start: 10, end: 15 }],
    // RFC 7826 §4.4.2: reversed for playing backwards
    ['npt=10-0', { start: 10, end: 0 }],
    // others
    ['npt=10-', { start: 10 }],
    ['npt=0.000-20.5', { start: 0, end: 20.5 }],
    ['npt=1:02:03.5-', { start: 3723.5 }],
    ['npt=-20', { end: 20 }],
    ['npt=10.-', { start: 10 }],
    ['NPT = 5 - 6', { start: 5, end: 6 }],
    ['npt=0-;time=19970123T143720Z', { start: 0 }],
  ] as [string, NptRange][])('%s', (text, range) => {
    expect(parseRange(text)).toEqual({ ok: true, value: range });
  });

  it.each([
    ['smpte=0:10:00-', 'RTSP_ERR_UNSUPPORTED_RANGE_UNIT'],
    ['smpte-30-drop=0:10:00-', 'RTSP_ERR_UNSUPPORTED_RANGE_UNIT'],
    ['clock=19961108T142300Z-19961108T143520Z', 'RTSP_ERR_UNSUPPORTED_RANGE_UNIT'],
    ['npt=', 'RTSP_ERR_BAD_RANGE'],
    ['npt=-', 'RTSP_ERR_BAD_RANGE'],
    ['npt=1:60:00-', 'RTSP_ERR_BAD_RANGE'],
    ['npt=abc-', 'RTSP_ERR_BAD_RANGE'],
    ['npt=-1-', 'RTSP_ERR_BAD_RANGE'],
    ['bytes=0-10', 'RTSP_ERR_BAD_RANGE'],
  ])('%s → %s', (text, code) => {
    expect(parseRange(text)).toMatchObject({ ok: false, code });
  });

  it('formats with 3 decimals', () => {
    expect(formatNptRange({ start: 0, end: 20 })).toBe('npt=0.000-20.000');
    expect(formatNptRange({ start: 'now' })).toBe('npt=now-');
    expect(formatNptRange({ start: 12.3456 }, 1)).toBe('npt=12.3-');
    expect(formatNptRange({ end: 5 })).toBe('npt=-5.000');
    expect(() => formatNptRange({})).toThrow(RangeError);
  });

  it('round-trips millisecond times and never throws', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.option(fc.integer({ min: 0, max: 1e6 })), (a, d) => {
        const range: NptRange = d === null ? { start: a / 1000 } : { start: a / 1000, end: (a + d) / 1000 };
        expect(parseRange(formatNptRange(range))).toEqual({ ok: true, value: range });
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        parseRange(s);
        parseRange(`npt=${s}`);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('Session', () => {
  it.each([
    ['47112344', { id: '47112344' }], // RFC 2326 §10.4
    ['12345678;timeout=60', { id: '12345678', timeout: 60 }],
    ['AbC-9_$.+; timeout = 30 ;foo=bar', { id: 'AbC-9_$.+', timeout: 30 }],
  ])('%s', (text, s) => {
    expect(parseSession(text)).toEqual({ ok: true, value: s });
  });

  it.each(['', ';timeout=5', 'abc;timeout=x', 'a b'])('%j is rejected', (text) => {
    expect(parseSession(text)).toMatchObject({ ok: false, code: 'RTSP_ERR_BAD_SESSION' });
  });

  it('formats', () => {
    expect(formatSession({ id: 'ab12', timeout: 55 })).toBe('ab12;timeout=55');
    expect(formatSession({ id: 'ab12' })).toBe('ab12');
    expect(() => formatSession({ id: 'a;b' })).toThrow(TypeError);
  });
});

describe('RTP-Info', () => {
  it('RFC 2326 §12.33 example', () => {
    expect(parseRtpInfo('url=rtsp://foo.com/bar.avi/streamid=0;seq=45102, url=rtsp://foo.com/bar.avi/streamid=1;seq=30211')).toEqual({
      ok: true,
      value: [
        { url: 'rtsp://foo.com/bar.avi/streamid=0', seq: 45102 },
        { url: 'rtsp://foo.com/bar.avi/streamid=1', seq: 30211 },
      ],
    });
  });

  it('RFC 2326 §14.1 folded example (seq beyond 16 bits is returned as sent)', () => {
    expect(parseRtpInfo('url=rtsp://video.example.com/twister/video; seq=12312232;rtptime=78712811')).toEqual({
      ok: true,
      value: [{ url: 'rtsp://video.example.com/twister/video', seq: 12312232, rtptime: 78712811 }],
    });
  });

  it('URLs with commas, unknown params ignored', () => {
    expect(parseRtpInfo('url=rtsp://h/a,b/trackID=1;seq=1;rtptime=2;ssrc=5,URL=rtsp://h/a,b/trackID=2;rtptime=4294967295')).toEqual({
      ok: true,
      value: [
        { url: 'rtsp://h/a,b/trackID=1', seq: 1, rtptime: 2 },
        { url: 'rtsp://h/a,b/trackID=2', rtptime: 4294967295 },
      ],
    });
  });

  it.each(['', 'seq=1;rtptime=2', 'url=rtsp://h/;seq=x', 'url=rtsp://h/;rtptime=4294967296'])('%j is rejected', (text) => {
    expect(parseRtpInfo(text)).toMatchObject({ ok: false, code: 'RTSP_ERR_BAD_RTP_INFO' });
  });

  it('formats and round-trips', () => {
    const entries = [
      { url: 'rtsp://h/movie/trackID=0', seq: 100, rtptime: 9000 },
      { url: 'rtsp://h/movie/trackID=1', seq: 65535, rtptime: 0 },
    ];
    const text = formatRtpInfo(entries);
    expect(text).toBe('url=rtsp://h/movie/trackID=0;seq=100;rtptime=9000,url=rtsp://h/movie/trackID=1;seq=65535;rtptime=0');
    expect(parseRtpInfo(text)).toEqual({ ok: true, value: entries });
    expect(() => formatRtpInfo([{ url: 'rtsp://h/a;b' }])).toThrow(TypeError);
  });

  it('never throws on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        parseRtpInfo(s);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('Scale', () => {
  it.each([
    ['1', 1],
    ['-3.5', -3.5],
    [' 0.5 ', 0.5],
    ['2.', 2],
    ['.25', 0.25],
    ['+4', 4],
  ])('%j → %d', (text, n) => {
    expect(parseScale(text)).toEqual({ ok: true, value: n });
  });
  it.each(['', 'fast', '1e3', 'NaN', '1.2.3'])('%j is rejected', (text) => {
    expect(parseScale(text)).toMatchObject({ ok: false, code: 'RTSP_ERR_BAD_SCALE' });
  });
  it('formats without exponents', () => {
    expect(formatScale(1)).toBe('1');
    expect(formatScale(-0.5)).toBe('-0.5');
    expect(formatScale(1e-7)).toBe('0');
    expect(() => formatScale(Infinity)).toThrow(RangeError);
  });
});
