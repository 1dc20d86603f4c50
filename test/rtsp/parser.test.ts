import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_HEADER_BYTES, RtspParser, type RtspParseEvent } from '../../src/rtsp/index.ts';
import { crlf, parseChunks, plain, splits } from './helpers.ts';

// RFC 2326 §14.1 "Media on Demand (Unicast)", client→audio-server and audio-server→client, with
// the RFC's folded header lines (continuation lines start with spaces) kept as printed.
const C_TO_A = crlf(
  'SETUP rtsp://audio.example.com/twister/audio.en RTSP/1.0',
  'CSeq: 1',
  'Transport: RTP/AVP/UDP;unicast;client_port=3056-3057',
  '',
  'PLAY rtsp://audio.example.com/twister/audio.en RTSP/1.0',
  'CSeq: 2',
  'Session: 12345678',
  'Range: smpte=0:10:00-',
  '',
  'TEARDOWN rtsp://audio.example.com/twister/audio.en RTSP/1.0',
  'CSeq: 3',
  'Session: 12345678',
  '',
);
const A_TO_C = crlf(
  'RTSP/1.0 200 OK',
  'CSeq: 1',
  'Session: 12345678',
  'Transport: RTP/AVP/UDP;unicast;client_port=3056-3057;',
  '           server_port=5000-5001',
  '',
  'RTSP/1.0 200 OK',
  'CSeq: 2',
  'Session: 12345678',
  'Range: smpte=0:10:00-0:20:00',
  'RTP-Info: url=rtsp://audio.example.com/twister/audio.en;',
  '  seq=876655;rtptime=1032181',
  '',
  'RTSP/1.0 200 OK',
  'CSeq: 3',
  '',
);

const req = (method: string, uri: string, headers: [string, string][], body = '') => ({
  type: 'request',
  method,
  uri,
  version: 'RTSP/1.0',
  headers,
  body,
});
const res = (statusCode: number, reason: string, headers: [string, string][], body = '') => ({
  type: 'response',
  version: 'RTSP/1.0',
  statusCode,
  reason,
  headers,
  body,
});

const C_TO_A_EVENTS = [
  req('SETUP', 'rtsp://audio.example.com/twister/audio.en', [
    ['CSeq', '1'],
    ['Transport', 'RTP/AVP/UDP;unicast;client_port=3056-3057'],
  ]),
  req('PLAY', 'rtsp://audio.example.com/twister/audio.en', [
    ['CSeq', '2'],
    ['Session', '12345678'],
    ['Range', 'smpte=0:10:00-'],
  ]),
  req('TEARDOWN', 'rtsp://audio.example.com/twister/audio.en', [
    ['CSeq', '3'],
    ['Session', '12345678'],
  ]),
];
const A_TO_C_EVENTS = [
  res(200, 'OK', [
    ['CSeq', '1'],
    ['Session', '12345678'],
    // folded: continuation joined with one space
    ['Transport', 'RTP/AVP/UDP;unicast;client_port=3056-3057; server_port=5000-5001'],
  ]),
  res(200, 'OK', [
    ['CSeq', '2'],
    ['Session', '12345678'],
    ['Range', 'smpte=0:10:00-0:20:00'],
    ['RTP-Info', 'url=rtsp://audio.example.com/twister/audio.en; seq=876655;rtptime=1032181'],
  ]),
  res(200, 'OK', [['CSeq', '3']]),
];

// RFC 2326 §10.12: interleaved RTP/RTCP after the PLAY response. Payload bytes are ours.
const RTP0 = Buffer.from('80e00001000000640000abcd' + '0102', 'hex'); // v=2 m=1 pt=96 seq=1 ts=100 ssrc=0xabcd | 2 payload bytes
const RTCP1 = Buffer.from('81c90001' + '0000abcd', 'hex'); // v=2 rc=1 RR len=1 | ssrc=0xabcd
const INTERLEAVED_STREAM = Buffer.concat([
  Buffer.from(
    crlf(
      'RTSP/1.0 200 OK',
      'CSeq: 3',
      'Session: 12345678',
      'Date: 05 Jun 1997 18:59:15 GMT',
      'RTP-Info: url=rtsp://foo.com/bar.file;',
      '  seq=232433;rtptime=972948234',
      '',
    ),
  ),
  Buffer.from('2400000e', 'hex'), // '$' ch=0 len=14
  RTP0,
  Buffer.from('24010008', 'hex'), // '$' ch=1 len=8
  RTCP1,
  Buffer.from(crlf('RTSP/1.0 200 OK', 'CSeq: 4', '')),
  Buffer.from('24000000', 'hex'), // '$' ch=0 len=0
]);
const INTERLEAVED_EVENTS = [
  res(200, 'OK', [
    ['CSeq', '3'],
    ['Session', '12345678'],
    ['Date', '05 Jun 1997 18:59:15 GMT'],
    ['RTP-Info', 'url=rtsp://foo.com/bar.file; seq=232433;rtptime=972948234'],
  ]),
  { type: 'interleaved', channel: 0, data: RTP0.toString('hex') },
  { type: 'interleaved', channel: 1, data: RTCP1.toString('hex') },
  res(200, 'OK', [['CSeq', '4']]),
  { type: 'interleaved', channel: 0, data: '' },
];

// RFC 2326 §10.2 DESCRIBE with an SDP body (lines re-ended in CRLF, so the length is ours).
const SDP_BODY = crlf(
  'v=0',
  'o=mhandley 2890844526 2890842807 IN IP4 126.16.64.4',
  's=SDP Seminar',
  'i=A Seminar on the session description protocol',
  'u=http://www.cs.ucl.ac.uk/staff/M.Handley/sdp.03.ps',
  'e=mjh@isi.edu (Mark Handley)',
  'c=IN IP4 224.2.17.12/127',
  't=2873397496 2873404696',
  'a=recvonly',
  'm=audio 3456 RTP/AVP 0',
  'm=video 2232 RTP/AVP 31',
  'm=whiteboard 32416 UDP WB',
  'a=orient:portrait',
);
const DESCRIBE_RESPONSE =
  crlf(
    'RTSP/1.0 200 OK',
    'CSeq: 312',
    'Date: 23 Jan 1997 15:35:06 GMT',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(SDP_BODY)}`,
    '',
  ) + SDP_BODY;

describe('RtspParser: RFC 2326 examples', () => {
  it('§14.1 client requests', () => {
    expect(parseChunks([Buffer.from(C_TO_A)])).toEqual(C_TO_A_EVENTS);
  });

  it('§14.1 server responses, with folded header lines', () => {
    expect(parseChunks([Buffer.from(A_TO_C)], { role: 'client' })).toEqual(A_TO_C_EVENTS);
  });

  it('§10.12 interleaved frames mixed with responses', () => {
    expect(parseChunks([INTERLEAVED_STREAM], { role: 'client' })).toEqual(INTERLEAVED_EVENTS);
  });

  it('§10.2 DESCRIBE response with Content-Length body', () => {
    const events = parseChunks([Buffer.from(DESCRIBE_RESPONSE)], { role: 'client' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'response', statusCode: 200, body: Buffer.from(SDP_BODY).toString('hex') });
  });

  it('§10.1 OPTIONS *', () => {
    const text = crlf('OPTIONS * RTSP/1.0', 'CSeq: 1', 'Require: implicit-play', 'Proxy-Require: gzipped-messages', '');
    expect(parseChunks([Buffer.from(text)])).toEqual([
      req('OPTIONS', '*', [
        ['CSeq', '1'],
        ['Require', 'implicit-play'],
        ['Proxy-Require', 'gzipped-messages'],
      ]),
    ]);
  });
});

describe('RtspParser: chunking', () => {
  const streams: [string, Buffer, unknown[]][] = [
    ['§14.1 requests', Buffer.from(C_TO_A), C_TO_A_EVENTS],
    ['§14.1 responses', Buffer.from(A_TO_C), A_TO_C_EVENTS],
    ['§10.12 interleaved', INTERLEAVED_STREAM, INTERLEAVED_EVENTS],
    ['§10.2 describe', Buffer.from(DESCRIBE_RESPONSE), parseChunks([Buffer.from(DESCRIBE_RESPONSE)])],
  ];
  it.each(streams)('%s: same events at every split offset and byte by byte', (_n, bytes, expected) => {
    expect(expected.length).toBeGreaterThan(0);
    for (const chunks of splits(bytes)) expect(parseChunks(chunks, { role: 'client' })).toEqual(expected);
  });

  it('many pipelined messages in one chunk, with blank lines between', () => {
    const one = (n: number) => `GET_PARAMETER rtsp://h/s RTSP/1.0\r\nCSeq: ${n}\r\nSession: 7\r\n\r\n`;
    const text = Array.from({ length: 50 }, (_, i) => (i % 3 === 0 ? '\r\n' : '') + one(i + 1)).join('');
    const events = parseChunks([Buffer.from(text)]);
    expect(events).toHaveLength(50);
    events.forEach((e, i) =>
      expect(e).toEqual(
        req('GET_PARAMETER', 'rtsp://h/s', [
          ['CSeq', String(i + 1)],
          ['Session', '7'],
        ]),
      ),
    );
  });

  it('accepts bare LF line endings and mixed endings', () => {
    const text = 'OPTIONS rtsp://h/ RTSP/1.0\nCSeq: 5\r\nUser-Agent: x\n\nOPTIONS rtsp://h/ RTSP/1.0\r\nCSeq: 6\n\r\n';
    expect(parseChunks([Buffer.from(text)])).toEqual([
      req('OPTIONS', 'rtsp://h/', [
        ['CSeq', '5'],
        ['User-Agent', 'x'],
      ]),
      req('OPTIONS', 'rtsp://h/', [['CSeq', '6']]),
    ]);
  });

  it('a body that arrives whole is a view of the chunk; a split one is copied once', () => {
    const text = 'SET_PARAMETER rtsp://h/ RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 4\r\n\r\nabcd';
    const msg = Buffer.alloc(text.length); // own ArrayBuffer (not the shared pool)
    msg.write(text);
    const p = new RtspParser({ role: 'server' });
    const [ev] = p.push(msg);
    if (ev!.type !== 'request') throw new Error('expected request');
    expect(ev!.request.body.buffer).toBe(msg.buffer);
    expect(ev!.request.body.byteOffset).toBe(msg.length - 4 + msg.byteOffset);

    const q = new RtspParser({ role: 'server' });
    expect(q.push(msg.subarray(0, msg.length - 2))).toEqual([]);
    expect(q.state).toBe('BODY');
    const [ev2] = q.push(msg.subarray(msg.length - 2));
    if (ev2!.type !== 'request') throw new Error('expected request');
    expect(ev2!.request.body.toString()).toBe('abcd');
    expect(ev2!.request.body.buffer).not.toBe(msg.buffer);
  });

  it('interleaved data that arrives whole is a view', () => {
    const frame = Buffer.alloc(7); // own ArrayBuffer (not the shared pool)
    Buffer.from('24020003' + '112233', 'hex').copy(frame); // '$' ch=2 len=3 | 11 22 33
    const [ev] = new RtspParser({ role: 'client' }).push(frame);
    if (ev!.type !== 'interleaved') throw new Error('expected interleaved');
    expect(ev!.channel).toBe(2);
    expect(ev!.data.toString('hex')).toBe('112233');
    expect(ev!.data.buffer).toBe(frame.buffer);
    expect(ev!.data.byteOffset).toBe(4);
  });
});

function errorsOf(events: RtspParseEvent[]) {
  return events.filter((e) => e.type === 'error');
}

describe('RtspParser: errors', () => {
  it('missing CSeq is reported with the parsed request (non-fatal)', () => {
    const p = new RtspParser({ role: 'server' });
    const events = p.push(Buffer.from('OPTIONS * RTSP/1.0\r\nUser-Agent: x\r\n\r\nOPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n'));
    expect(events.map(plain)).toEqual([
      {
        type: 'error',
        code: 'RTSP_ERR_MISSING_CSEQ',
        status: 400,
        fatal: false,
        cseq: undefined,
        request: req('OPTIONS', '*', [['User-Agent', 'x']]),
        response: undefined,
      },
      req('OPTIONS', '*', [['CSeq', '2']]),
    ]);
  });

  it.each([
    ['RTSP/2.0 version', 'OPTIONS * RTSP/2.0', 'RTSP_ERR_BAD_VERSION', 505],
    ['HTTP/1.1 version', 'GET / HTTP/1.1', 'RTSP_ERR_BAD_VERSION', 505],
    ['lower-case version', 'OPTIONS * rtsp/1.0', 'RTSP_ERR_BAD_VERSION', 505],
    ['garbage version', 'OPTIONS * RTSP', 'RTSP_ERR_BAD_START_LINE', 400],
    ['two fields', 'OPTIONS RTSP/1.0', 'RTSP_ERR_BAD_START_LINE', 400],
    ['method not a token', 'OPT(IONS * RTSP/1.0', 'RTSP_ERR_BAD_METHOD', 400],
  ])('%s → %s', (_n, line, code, status) => {
    const events = new RtspParser({ role: 'server' }).push(Buffer.from(`${line}\r\nCSeq: 9\r\n\r\n`));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'error', code, status, fatal: false, cseq: 9 });
  });

  it('bad header line is reported; the message is still framed', () => {
    const p = new RtspParser({ role: 'server' });
    const events = p.push(Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 4\r\nno colon here\r\n\r\nOPTIONS * RTSP/1.0\r\nCSeq: 5\r\n\r\n'));
    expect(events.map((e) => e.type)).toEqual(['error', 'request']);
    expect(events[0]).toMatchObject({ code: 'RTSP_ERR_BAD_HEADER', cseq: 4, fatal: false });
  });

  it('status line errors on the client side', () => {
    const events = new RtspParser({ role: 'client' }).push(Buffer.from('RTSP/1.0 2000 OK\r\nCSeq: 1\r\n\r\n'));
    expect(events[0]).toMatchObject({ type: 'error', code: 'RTSP_ERR_BAD_STATUS_LINE', fatal: false, cseq: 1 });
  });

  it('header section over the cap is fatal and the parser refuses more input', () => {
    const p = new RtspParser({ role: 'server', maxHeaderBytes: 64 });
    const events = p.push(Buffer.from(`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Pad: ${'a'.repeat(60)}\r\n\r\n`));
    expect(errorsOf(events)).toEqual([expect.objectContaining({ code: 'RTSP_ERR_HEADER_TOO_LARGE', status: 400, fatal: true })]);
    expect(p.failed).toBe(true);
    expect(p.push(Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n'))).toEqual([]);
  });

  it('header cap is checked before the terminator arrives (byte by byte)', () => {
    const p = new RtspParser({ role: 'server' });
    const bytes = Buffer.from(`OPTIONS * RTSP/1.0\r\nX: ${'a'.repeat(DEFAULT_MAX_HEADER_BYTES)}`);
    let events: RtspParseEvent[] = [];
    let fedAt = -1;
    for (let i = 0; i < bytes.length && events.length === 0; i++) {
      events = p.push(bytes.subarray(i, i + 1));
      fedAt = i;
    }
    expect(events[0]).toMatchObject({ code: 'RTSP_ERR_HEADER_TOO_LARGE', fatal: true });
    expect(fedAt + 1).toBe(DEFAULT_MAX_HEADER_BYTES + 1); // fails on the first byte over the cap
  });

  it('exactly maxHeaderBytes is accepted', () => {
    const text = 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n';
    const p = new RtspParser({ role: 'server', maxHeaderBytes: text.length });
    expect(p.push(Buffer.from(text)).map((e) => e.type)).toEqual(['request']);
  });

  it('body over the cap is fatal with 413', () => {
    const p = new RtspParser({ role: 'server', maxBodyBytes: 10 });
    const events = p.push(Buffer.from('ANNOUNCE rtsp://h/ RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 11\r\n\r\n'));
    expect(events).toEqual([expect.objectContaining({ code: 'RTSP_ERR_BODY_TOO_LARGE', status: 413, fatal: true })]);
    expect(p.state).toBe('FAILED');
  });

  it.each(['abc', '-1', '1, 2', '12345678901234567890'])('Content-Length %j is fatal', (cl) => {
    const p = new RtspParser({ role: 'server' });
    const events = p.push(Buffer.from(`ANNOUNCE rtsp://h/ RTSP/1.0\r\nCSeq: 1\r\nContent-Length: ${cl}\r\n\r\n`));
    expect(events[0]).toMatchObject({ code: 'RTSP_ERR_BAD_CONTENT_LENGTH', fatal: true });
  });

  it('repeated equal Content-Length is fine', () => {
    const events = parseChunks([Buffer.from('ANNOUNCE rtsp://h/ RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok')]);
    expect(events[0]).toMatchObject({ type: 'request', body: Buffer.from('ok').toString('hex') });
  });

  it('interleaved frame over the cap is fatal', () => {
    const p = new RtspParser({ role: 'client', maxInterleavedBytes: 1500 });
    const events = p.push(Buffer.from('240005dd', 'hex')); // '$' ch=0 len=1501
    expect(events).toEqual([expect.objectContaining({ code: 'RTSP_ERR_INTERLEAVED_TOO_LARGE', fatal: true })]);
  });
});
