/**
 * The load parameters a redirecting front polls (GET_PARAMETER `sessions`, RFC 2326 §10.8
 * text/parameters): which requests they answer, the exact bytes, and the parser of the answers
 * (network input: never throws, reads back what was written).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRequest, serializeResponse } from '../../src/rtsp/index.ts';
import { EdgePool, loadParameterAnswer, parseEdgeList, parseParameters } from '../../src/server/redirect/index.ts';
import { ManualClock } from '../../src/util/clock.ts';

const load = { sessions: 12, maxSessions: 1000 };
const get = (body: string, headers: Record<string, string> = {}) =>
  createRequest('GET_PARAMETER', 'rtsp://127.0.0.1:8554/', { CSeq: '3', ...headers }, Buffer.from(body));

describe('loadParameterAnswer', () => {
  it('answers sessions and max-sessions, byte for byte', () => {
    const res = loadParameterAnswer(get('sessions\r\nmax-sessions\r\n'), load)!;
    res.headers.set('CSeq', '3');
    expect(serializeResponse(res).toString('utf8')).toBe(
      'RTSP/1.0 200 OK\r\nContent-Type: text/parameters\r\nCSeq: 3\r\nContent-Length: 34\r\n\r\nsessions: 12\r\nmax-sessions: 1000\r\n',
    );
  });

  it.each([
    ['a keep-alive (no body)', get('')],
    ['a session keep-alive', get('sessions\r\n', { Session: 'abc' })],
    ['an unknown parameter', get('sessions\r\nposition\r\n')],
    ['too many names', get('sessions\n'.repeat(9))],
    ['another method', createRequest('SET_PARAMETER', 'rtsp://127.0.0.1/', { CSeq: '1' }, Buffer.from('sessions\r\n'))],
  ])('leaves %s to the ordinary path', (_, req) => {
    expect(loadParameterAnswer(req, load)).toBeUndefined();
  });
});

describe('parseParameters', () => {
  it('reads name: value lines, skipping the rest', () => {
    expect([...parseParameters('sessions: 3\r\nmax-sessions:10\r\ngarbage\r\nx: -1\r\n')]).toEqual([
      ['sessions', 3],
      ['max-sessions', 10],
    ]);
  });

  it('never throws on any input and reads back what was written', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        parseParameters(s);
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), fc.nat({ max: 1e9 }), { maxKeys: 20 }), (d) => {
        const text = Object.entries(d)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('');
        expect(Object.fromEntries(parseParameters(text))).toEqual(d);
      }),
    );
  });
});

describe('parseEdgeList', () => {
  it('keeps scheme, credentials (as written), host and port of each edge', () => {
    expect(parseEdgeList('rtsp://127.0.0.1:8601, rtsp://edge2/,rtsps://[::1]:322,rtsp://fr%40nt:p%3Aw@edge3:8554')).toEqual([
      'rtsp://127.0.0.1:8601',
      'rtsp://edge2:554',
      'rtsps://[::1]:322',
      'rtsp://fr%40nt:p%3Aw@edge3:8554',
    ]);
  });

  it.each(['', 'http://x', 'rtsp://edge2/a/path', 'rtsp://edge:1/?q=1'])('refuses %j', (v) => {
    expect(() => parseEdgeList(v)).toThrow();
  });

  it("the pool's edges carry no credentials: Locations and snapshots are made of them", () => {
    const pool = new EdgePool(parseEdgeList('rtsp://front:secret@127.0.0.1:8601,rtsp://127.0.0.1:8602'), new ManualClock());
    expect(pool.edges.map((e) => e.base)).toEqual(['rtsp://127.0.0.1:8601', 'rtsp://127.0.0.1:8602']);
    expect(JSON.stringify(pool.edges)).not.toContain('secret');
  });
});
