import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildSdp,
  getAttribute,
  getAttributes,
  getFmtp,
  getRtpmap,
  parseSdp,
  type MediaDescription,
  type SessionDescription,
} from '../../src/sdp/index.ts';

const lines = (...ls: string[]) => ls.map((l) => `${l}\r\n`).join('');

// What an RTSP server sends for an H.264 + AAC MP4 of 20 s.
// AAC config 1190: AAC-LC (2) | 48 kHz (index 3) | 2 channels | 000.
const MP4_SDP = lines(
  'v=0',
  'o=- 1700000000 1 IN IP4 127.0.0.1',
  's=bbb.mp4',
  'i=streamlab',
  't=0 0',
  'a=tool:streamlab',
  'a=type:broadcast',
  'a=control:*',
  'a=range:npt=0-20.000',
  'm=video 0 RTP/AVP 96',
  'c=IN IP4 0.0.0.0',
  'b=AS:500',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1;profile-level-id=42e01e;sprop-parameter-sets=Z0IAHpWoKA9puAgICBA=,aM4G4g==',
  'a=control:trackID=1',
  'm=audio 0 RTP/AVP 97',
  'c=IN IP4 0.0.0.0',
  'b=AS:128',
  'a=rtpmap:97 mpeg4-generic/48000/2',
  'a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190',
  'a=control:trackID=2',
);

const MP4_DESC: SessionDescription = {
  version: 0,
  origin: { username: '-', sessionId: '1700000000', sessionVersion: '1', netType: 'IN', addrType: 'IP4', address: '127.0.0.1' },
  sessionName: 'bbb.mp4',
  info: 'streamlab',
  timing: { start: 0, stop: 0 },
  attributes: [
    { name: 'tool', value: 'streamlab' },
    { name: 'type', value: 'broadcast' },
    { name: 'control', value: '*' },
    { name: 'range', value: 'npt=0-20.000' },
  ],
  media: [
    {
      type: 'video',
      port: 0,
      protocol: 'RTP/AVP',
      formats: ['96'],
      connection: { netType: 'IN', addrType: 'IP4', address: '0.0.0.0' },
      bandwidth: [{ type: 'AS', value: 500 }],
      attributes: [
        { name: 'rtpmap', value: '96 H264/90000' },
        { name: 'fmtp', value: '96 packetization-mode=1;profile-level-id=42e01e;sprop-parameter-sets=Z0IAHpWoKA9puAgICBA=,aM4G4g==' },
        { name: 'control', value: 'trackID=1' },
      ],
    },
    {
      type: 'audio',
      port: 0,
      protocol: 'RTP/AVP',
      formats: ['97'],
      connection: { netType: 'IN', addrType: 'IP4', address: '0.0.0.0' },
      bandwidth: [{ type: 'AS', value: 128 }],
      attributes: [
        { name: 'rtpmap', value: '97 mpeg4-generic/48000/2' },
        { name: 'fmtp', value: '97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190' },
        { name: 'control', value: 'trackID=2' },
      ],
    },
  ],
};

describe('SDP: H.264 + AAC description', () => {
  it('parses to the expected model', () => {
    expect(parseSdp(MP4_SDP)).toEqual({ ok: true, value: MP4_DESC });
  });

  it('builds byte-exactly from the model (CRLF)', () => {
    expect(buildSdp(MP4_DESC)).toBe(MP4_SDP);
  });

  it('accepts LF line endings and blank lines', () => {
    expect(parseSdp(MP4_SDP.replace(/\r\n/g, '\n') + '\n\n')).toEqual({ ok: true, value: MP4_DESC });
  });

  it('helpers find the per-track attributes', () => {
    const [video, audio] = MP4_DESC.media;
    expect(getAttribute(MP4_DESC, 'range')).toBe('npt=0-20.000');
    expect(getAttribute(MP4_DESC, 'CONTROL')).toBe('*');
    expect(getAttribute(video!, 'control')).toBe('trackID=1');
    expect(getAttribute(video!, 'nope')).toBeUndefined();
    expect(getRtpmap(video!)).toEqual({ payloadType: 96, encodingName: 'H264', clockRate: 90000 });
    expect(getRtpmap(audio!)).toEqual({ payloadType: 97, encodingName: 'mpeg4-generic', clockRate: 48000, channels: 2 });
    expect(getRtpmap(audio!, 96)).toBeUndefined();
    expect(getFmtp(video!)?.params.map((p) => p.key)).toEqual(['packetization-mode', 'profile-level-id', 'sprop-parameter-sets']);
    expect(getFmtp(audio!)?.params.at(-1)).toEqual({ key: 'config', value: '1190' });
  });
});

describe('SDP: RFC 4566 §5 example', () => {
  const text = lines(
    'v=0',
    'o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5',
    's=SDP Seminar',
    'i=A Seminar on the session description protocol',
    'u=http://www.example.com/seminars/sdp.pdf',
    'e=j.doe@example.com (Jane Doe)',
    'c=IN IP4 224.2.17.12/127',
    't=2873397496 2873404696',
    'a=recvonly',
    'm=audio 49170 RTP/AVP 0',
    'm=video 51372 RTP/AVP 99',
    'a=rtpmap:99 h263-1998/90000',
  );

  it('parses and rebuilds', () => {
    const r = parseSdp(text);
    if (!r.ok) throw new Error(r.message);
    const d = r.value;
    expect(d.origin).toEqual({
      username: 'jdoe',
      sessionId: '2890844526',
      sessionVersion: '2890842807',
      netType: 'IN',
      addrType: 'IP4',
      address: '10.47.16.5',
    });
    expect(d.uri).toBe('http://www.example.com/seminars/sdp.pdf');
    expect(d.emails).toEqual(['j.doe@example.com (Jane Doe)']);
    expect(d.connection).toEqual({ netType: 'IN', addrType: 'IP4', address: '224.2.17.12/127' });
    expect(d.timing).toEqual({ start: 2873397496, stop: 2873404696 });
    expect(d.attributes).toEqual([{ name: 'recvonly' }]);
    expect(getAttribute(d, 'recvonly')).toBe('');
    expect(d.media.map((m) => [m.type, m.port, m.formats])).toEqual([
      ['audio', 49170, ['0']],
      ['video', 51372, ['99']],
    ]);
    expect(buildSdp(d)).toBe(text);
  });
});

describe('SDP: unknown and repeated lines are kept', () => {
  it('r= z= k= extra t= x= and media k= survive a round trip', () => {
    const text = lines(
      'v=0',
      'o=- 1 1 IN IP6 ::1',
      's= ',
      'p=+1 617 555-6011',
      't=3034423619 3042462419',
      'r=7d 1h 0 25h',
      'z=2882844526 -1h 2898848070 0',
      't=0 0',
      'x=unknown',
      'a=foo',
      'a=foo:1',
      'a=foo:2',
      'm=application 9/2 TCP/RTSP *',
      'i=media info',
      'k=prompt',
      'a=setup:active',
    );
    const r = parseSdp(text);
    if (!r.ok) throw new Error(r.message);
    expect(r.value.otherLines).toEqual([
      { type: 'r', value: '7d 1h 0 25h' },
      { type: 'z', value: '2882844526 -1h 2898848070 0' },
      { type: 't', value: '0 0' },
      { type: 'x', value: 'unknown' },
    ]);
    expect(r.value.media[0]).toMatchObject({
      port: 9,
      numPorts: 2,
      protocol: 'TCP/RTSP',
      formats: ['*'],
      info: 'media info',
      otherLines: [{ type: 'k', value: 'prompt' }],
    });
    expect(getAttributes(r.value, 'foo')).toEqual(['', '1', '2']);
    expect(buildSdp(r.value)).toBe(text);
  });
});

describe('SDP errors', () => {
  it.each([
    ['', 'SDP_ERR_BAD_VERSION'],
    ['o=- 1 1 IN IP4 h\r\n', 'SDP_ERR_BAD_VERSION'],
    ['v=x\r\n', 'SDP_ERR_BAD_VERSION'],
    ['v=0\r\ns=x\r\n', 'SDP_ERR_BAD_ORIGIN'],
    ['v=0\r\no=- 1 IN IP4 h\r\n', 'SDP_ERR_BAD_ORIGIN'],
    ['v=0\r\no=- 1 1 IN IP4 h\r\nnot a line\r\n', 'SDP_ERR_BAD_LINE'],
    ['v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4\r\n', 'SDP_ERR_BAD_CONNECTION'],
    ['v=0\r\no=- 1 1 IN IP4 h\r\nb=AS\r\n', 'SDP_ERR_BAD_BANDWIDTH'],
    ['v=0\r\no=- 1 1 IN IP4 h\r\nt=0\r\n', 'SDP_ERR_BAD_TIMING'],
    ['v=0\r\no=- 1 1 IN IP4 h\r\nm=video x RTP/AVP 96\r\n', 'SDP_ERR_BAD_MEDIA'],
    ['v=0\r\no=- 1 1 IN IP4 h\r\nm=video 70000 RTP/AVP 96\r\n', 'SDP_ERR_BAD_MEDIA'],
    ['v=0\r\no=- 1 1 IN IP4 h\r\nm=video 0\r\n', 'SDP_ERR_BAD_MEDIA'],
    ['v=0\n' + 'a=x\n'.repeat(5000), 'SDP_ERR_TOO_LARGE'],
  ])('%j → %s', (text, code) => {
    expect(parseSdp(text)).toMatchObject({ ok: false, code });
  });

  it('reports the line number', () => {
    expect(parseSdp('v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nm=video\r\n')).toMatchObject({ ok: false, line: 4 });
  });

  it('is lenient about missing s= and t=', () => {
    const r = parseSdp('v=0\no=- 1 1 IN IP4 h\nm=audio 0 RTP/AVP 0\n');
    expect(r).toMatchObject({ ok: true, value: { sessionName: '', timing: { start: 0, stop: 0 } } });
  });
});

describe('SDP properties', () => {
  it('random text never throws', () => {
    const piece = fc.constantFrom(
      'v=0',
      'o=- 1 1 IN IP4 h',
      'm=video 0 RTP/AVP 96',
      'a=x:y',
      'c=IN',
      'b=AS:1',
      't=0 0',
      '\r\n',
      '\n',
      '=',
      ' ',
      'z',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), fc.string({ maxLength: 30 }), (ps, s) => {
        parseSdp(ps.join(''));
        parseSdp(s);
        parseSdp(`v=0\n${s}`);
      }),
      { numRuns: 1000 },
    );
  });

  it('random descriptions round-trip through build and parse', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9._-]{1,10}$/);
    const text = fc.stringMatching(/^[!-~]([ -~]{0,20}[!-~])?$/);
    const attr = fc.record({ name: word, value: fc.option(text, { nil: undefined }) }, { requiredKeys: ['name'] });
    const conn = fc.record({ netType: fc.constant('IN'), addrType: fc.constantFrom('IP4', 'IP6'), address: word });
    const bw = fc.array(fc.record({ type: fc.constantFrom('AS', 'CT', 'TIAS'), value: fc.nat() }), { minLength: 1, maxLength: 2 });
    const media: fc.Arbitrary<MediaDescription> = fc.record(
      {
        type: fc.constantFrom('video', 'audio', 'application'),
        port: fc.integer({ min: 0, max: 65535 }),
        numPorts: fc.integer({ min: 1, max: 9 }),
        protocol: fc.constantFrom('RTP/AVP', 'RTP/SAVPF'),
        formats: fc.array(fc.integer({ min: 0, max: 127 }).map(String), { minLength: 1, maxLength: 3 }),
        info: text,
        connection: conn,
        bandwidth: bw,
        attributes: fc.array(attr, { maxLength: 4 }),
      },
      { requiredKeys: ['type', 'port', 'protocol', 'formats', 'attributes'] },
    );
    const desc: fc.Arbitrary<SessionDescription> = fc.record(
      {
        version: fc.constant(0),
        origin: fc.record({
          username: word,
          sessionId: fc.nat().map(String),
          sessionVersion: fc.nat().map(String),
          netType: fc.constant('IN'),
          addrType: fc.constant('IP4'),
          address: word,
        }),
        sessionName: text,
        info: text,
        uri: text,
        connection: conn,
        bandwidth: bw,
        timing: fc.record({ start: fc.nat(), stop: fc.nat() }),
        attributes: fc.array(attr, { maxLength: 4 }),
        media: fc.array(media, { maxLength: 3 }),
      },
      { requiredKeys: ['version', 'origin', 'sessionName', 'timing', 'attributes', 'media'] },
    );
    fc.assert(
      fc.property(desc, (d) => {
        expect(parseSdp(buildSdp(d))).toEqual({ ok: true, value: d });
      }),
      { numRuns: 500 },
    );
  });
});
