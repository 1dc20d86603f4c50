import { describe, expect, it } from 'vitest';
import {
  RtspHeaders,
  RtspParser,
  createRequest,
  createResponse,
  interleavedHeader,
  serializeRequest,
  serializeResponse,
  type RtspRequest,
  type RtspResponse,
} from '../../src/rtsp/index.ts';
import { plain } from './helpers.ts';
import { at } from '../../src/util/narrow.ts';

type Case = { name: string; wire: string; request: RtspRequest } | { name: string; wire: string; response: RtspResponse };

// One table drives both directions: parse(wire) == message and serialize(message) == wire.
const cases: Case[] = [
  {
    name: 'RFC 2326 §10.1 OPTIONS',
    wire: 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nRequire: implicit-play\r\nProxy-Require: gzipped-messages\r\n\r\n',
    request: createRequest('OPTIONS', '*', [
      ['CSeq', '1'],
      ['Require', 'implicit-play'],
      ['Proxy-Require', 'gzipped-messages'],
    ]),
  },
  {
    name: 'RFC 2326 §10.1 OPTIONS response',
    wire: 'RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE\r\n\r\n',
    response: createResponse(200, [
      ['CSeq', '1'],
      ['Public', 'DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE'],
    ]),
  },
  {
    name: 'RFC 2326 §10.4 SETUP',
    wire: 'SETUP rtsp://example.com/foo/bar/baz.rm RTSP/1.0\r\nCSeq: 302\r\nTransport: RTP/AVP;unicast;client_port=4588-4589\r\n\r\n',
    request: createRequest('SETUP', 'rtsp://example.com/foo/bar/baz.rm', [
      ['CSeq', '302'],
      ['Transport', 'RTP/AVP;unicast;client_port=4588-4589'],
    ]),
  },
  {
    name: 'RFC 2326 §10.4 SETUP response',
    wire:
      'RTSP/1.0 200 OK\r\nCSeq: 302\r\nDate: 23 Jan 1997 15:35:06 GMT\r\nSession: 47112344\r\n' +
      'Transport: RTP/AVP;unicast;client_port=4588-4589;server_port=6256-6257\r\n\r\n',
    response: createResponse(200, [
      ['CSeq', '302'],
      ['Date', '23 Jan 1997 15:35:06 GMT'],
      ['Session', '47112344'],
      ['Transport', 'RTP/AVP;unicast;client_port=4588-4589;server_port=6256-6257'],
    ]),
  },
  {
    name: 'request with body and Content-Length',
    wire: 'SET_PARAMETER rtsp://h/s RTSP/1.0\r\nCSeq: 7\r\nContent-Type: text/parameters\r\nContent-Length: 20\r\n\r\nbarparam: barstuff\r\n',
    request: createRequest(
      'SET_PARAMETER',
      'rtsp://h/s',
      [
        ['CSeq', '7'],
        ['Content-Type', 'text/parameters'],
        ['Content-Length', '20'],
      ],
      Buffer.from('barparam: barstuff\r\n'),
    ),
  },
  {
    name: 'error response, empty reason',
    wire: 'RTSP/1.0 459 \r\nCSeq: 8\r\n\r\n',
    response: createResponse(459, [['CSeq', '8']], undefined, ''),
  },
  {
    name: 'repeated header names keep their order',
    wire: 'RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nWWW-Authenticate: Digest realm="x", nonce="1"\r\nWWW-Authenticate: Basic realm="x"\r\n\r\n',
    response: createResponse(401, [
      ['CSeq', '2'],
      ['WWW-Authenticate', 'Digest realm="x", nonce="1"'],
      ['WWW-Authenticate', 'Basic realm="x"'],
    ]),
  },
];

describe('serialize/parse case table', () => {
  it.each(cases)('$name: parse', (c) => {
    const events = new RtspParser({ role: 'request' in c ? 'server' : 'client' }).push(Buffer.from(c.wire));
    expect(events).toHaveLength(1);
    if ('request' in c) expect(plain(at(events, 0))).toEqual(plain({ type: 'request', request: c.request }));
    else expect(plain(at(events, 0))).toEqual(plain({ type: 'response', response: c.response }));
  });

  it.each(cases)('$name: serialize', (c) => {
    const out = 'request' in c ? serializeRequest(c.request) : serializeResponse(c.response);
    expect(out.toString('latin1')).toBe(c.wire);
  });
});

describe('serialize', () => {
  it('adds Content-Length after the other headers when there is a body', () => {
    const r = createResponse(200, { CSeq: '3', 'Content-Type': 'application/sdp' }, Buffer.from('v=0\r\n'));
    expect(serializeResponse(r).toString()).toBe(
      'RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n',
    );
  });

  it('corrects a stale Content-Length in place and drops duplicates', () => {
    const h = new RtspHeaders([
      ['Content-Length', '99'],
      ['CSeq', '1'],
      ['content-length', '98'],
    ]);
    const r = createRequest('ANNOUNCE', 'rtsp://h/', h, Buffer.from('abc'));
    expect(serializeRequest(r).toString()).toBe('ANNOUNCE rtsp://h/ RTSP/1.0\r\nContent-Length: 3\r\nCSeq: 1\r\n\r\nabc');
  });

  it('writes UTF-8 header values byte-exactly', () => {
    const r = createResponse(200, { CSeq: '1', Server: 'caf\u00e9' });
    expect(serializeResponse(r).toString('hex')).toBe(
      Buffer.from('RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: caf', 'latin1').toString('hex') + 'c3a9' + '0d0a0d0a',
    );
  });

  it('throws on programmer errors', () => {
    expect(() => serializeRequest(createRequest('BAD METHOD', '*'))).toThrow(TypeError);
    expect(() => serializeRequest(createRequest('PLAY', 'rtsp://h/a b'))).toThrow(TypeError);
    expect(() => serializeResponse(createResponse(99))).toThrow(RangeError);
    expect(() => serializeResponse(createResponse(200, undefined, undefined, 'O\r\nK'))).toThrow(TypeError);
  });
});

describe('interleavedHeader', () => {
  it.each([
    [0, 0, '24000000'], // '$' ch=0 len=0
    [1, 1500, '240105dc'], // '$' ch=1 len=1500
    [255, 65535, '24ffffff'], // '$' ch=255 len=65535
  ])('channel %i length %i → %s', (ch, len, hex) => {
    expect(interleavedHeader(ch, len).toString('hex')).toBe(hex);
  });

  it.each([
    [256, 0],
    [-1, 0],
    [0, 65536],
    [0, 1.5],
  ])('rejects channel %d length %d', (ch, len) => {
    expect(() => interleavedHeader(ch, len)).toThrow(RangeError);
  });
});
