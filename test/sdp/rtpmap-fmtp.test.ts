import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatFmtp, formatRtpmap, getFmtpParam, parseFmtp, parseRtpmap, type Fmtp, type Rtpmap } from '../../src/sdp/index.ts';

describe('rtpmap', () => {
  const cases: [string, Rtpmap][] = [
    ['96 H264/90000', { payloadType: 96, encodingName: 'H264', clockRate: 90000 }],
    ['97 mpeg4-generic/48000/2', { payloadType: 97, encodingName: 'mpeg4-generic', clockRate: 48000, channels: 2 }],
    ['0 PCMU/8000', { payloadType: 0, encodingName: 'PCMU', clockRate: 8000 }], // RFC 4566 §6 style
    ['99 h263-1998/90000', { payloadType: 99, encodingName: 'h263-1998', clockRate: 90000 }], // RFC 4566 §5 example
    ['98 H265/90000', { payloadType: 98, encodingName: 'H265', clockRate: 90000 }],
  ];
  it.each(cases)('%s', (text, r) => {
    expect(parseRtpmap(text)).toEqual({ ok: true, value: r });
    expect(formatRtpmap(r)).toBe(text);
  });
  it.each(['', '96', '96 H264', '96 H264/', 'x H264/90000', '128 H264/90000', '96 H264/90000/x'])('%j is rejected', (text) => {
    expect(parseRtpmap(text)).toMatchObject({ ok: false, code: 'SDP_ERR_BAD_RTPMAP' });
  });
});

describe('fmtp', () => {
  it('H.264 (RFC 6184) keeps order and base64 padding', () => {
    const text = '96 packetization-mode=1;profile-level-id=42e01e;sprop-parameter-sets=Z0IAHp,aM4G4g==';
    const expected: Fmtp = {
      payloadType: 96,
      params: [
        { key: 'packetization-mode', value: '1' },
        { key: 'profile-level-id', value: '42e01e' },
        { key: 'sprop-parameter-sets', value: 'Z0IAHp,aM4G4g==' },
      ],
    };
    const r = parseFmtp(text);
    expect(r).toEqual({ ok: true, value: expected });
    expect(formatFmtp(expected)).toBe(text);
    expect(getFmtpParam(expected, 'Profile-Level-ID')).toBe('42e01e');
    expect(getFmtpParam(expected, 'missing')).toBeUndefined();
  });

  it('tolerates spaces after ";" and a trailing ";", and valueless params', () => {
    expect(parseFmtp('97 streamtype=5; profile-level-id=15; mode=AAC-hbr; config=1190;')).toEqual({
      ok: true,
      value: {
        payloadType: 97,
        params: [
          { key: 'streamtype', value: '5' },
          { key: 'profile-level-id', value: '15' },
          { key: 'mode', value: 'AAC-hbr' },
          { key: 'config', value: '1190' },
        ],
      },
    });
    const te = parseFmtp('101 0-15');
    expect(te).toEqual({ ok: true, value: { payloadType: 101, params: [{ key: '0-15' }] } });
    if (te.ok) expect(getFmtpParam(te.value, '0-15')).toBe('');
    expect(parseFmtp('96')).toEqual({ ok: true, value: { payloadType: 96, params: [] } });
    expect(formatFmtp({ payloadType: 96, params: [] })).toBe('96');
  });

  it.each(['', 'abc x=1', '300 x=1'])('%j is rejected', (text) => {
    expect(parseFmtp(text)).toMatchObject({ ok: false, code: 'SDP_ERR_BAD_FMTP' });
  });

  it('never throws; valid params round-trip', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        parseFmtp(s);
        parseRtpmap(s);
      }),
      { numRuns: 1000 },
    );
    const param = fc.record({ key: fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), value: fc.stringMatching(/^[A-Za-z0-9+/=,.-]{1,20}$/) });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 127 }), fc.array(param, { maxLength: 5 }), (pt, params) => {
        const f: Fmtp = { payloadType: pt, params };
        expect(parseFmtp(formatFmtp(f))).toEqual({ ok: true, value: f });
      }),
      { numRuns: 500 },
    );
  });
});
