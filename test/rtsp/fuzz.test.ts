import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  RtspParser,
  createRequest,
  createResponse,
  interleavedHeader,
  serializeRequest,
  serializeResponse,
  type RtspParseEvent,
} from '../../src/rtsp/index.ts';
import { plain } from './helpers.ts';

const KNOWN = new Set(['request', 'response', 'interleaved', 'error']);

function check(events: RtspParseEvent[]): void {
  for (const e of events) {
    expect(KNOWN.has(e.type)).toBe(true);
    if (e.type === 'error') {
      expect(e.code).toMatch(/^RTSP_ERR_/);
      expect(e.status).toBeGreaterThanOrEqual(400);
    }
  }
}

const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,11}$/);
const headerValue = fc.stringMatching(/^[!-~]([ -~]{0,30}[!-~])?$/);
const headers = fc
  .array(fc.tuple(token, headerValue), { maxLength: 6 })
  .map((hs) => hs.filter(([n]) => n.toLowerCase() !== 'content-length' && n.toLowerCase() !== 'cseq'));
const body = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
const cseq = fc.integer({ min: 0, max: 0xffffffff });
const uri = fc.oneof(fc.constant('*'), fc.stringMatching(/^rtsp:\/\/[a-z0-9.]{1,12}(:\d{1,5})?(\/[!-~]{0,20})?$/));

const requestArb = fc
  .record({ method: token, uri, cseq, headers, body })
  .map((r) => createRequest(r.method, r.uri, [['CSeq', String(r.cseq)], ...r.headers], r.body));
const responseArb = fc
  .record({ status: fc.integer({ min: 100, max: 999 }), reason: fc.stringMatching(/^[ -~]{0,20}$/), cseq, headers, body })
  .map((r) => createResponse(r.status, [['CSeq', String(r.cseq)], ...r.headers], r.body, r.reason));
const frameArb = fc.record({ channel: fc.integer({ min: 0, max: 255 }), data: fc.uint8Array({ maxLength: 100 }) });

type Item =
  | { kind: 'req'; m: ReturnType<typeof createRequest> }
  | { kind: 'res'; m: ReturnType<typeof createResponse> }
  | { kind: 'frame'; channel: number; data: Uint8Array };
const itemArb: fc.Arbitrary<Item> = fc.oneof(
  requestArb.map((m) => ({ kind: 'req' as const, m })),
  responseArb.map((m) => ({ kind: 'res' as const, m })),
  frameArb.map((f) => ({ kind: 'frame' as const, ...f })),
);

function wire(item: Item): Buffer {
  if (item.kind === 'req') return serializeRequest(item.m);
  if (item.kind === 'res') return serializeResponse(item.m);
  return Buffer.concat([interleavedHeader(item.channel, item.data.length), item.data]);
}

function expected(item: Item): unknown {
  if (item.kind === 'frame') return { type: 'interleaved', channel: item.channel, data: Buffer.from(item.data).toString('hex') };
  // Serialization adds Content-Length for non-empty bodies.
  const m = item.m;
  const h = m.headers.clone();
  if (m.body.length > 0) h.append('Content-Length', String(m.body.length));
  return item.kind === 'req'
    ? plain({ type: 'request', request: { ...item.m, headers: h } })
    : plain({ type: 'response', response: { ...item.m, headers: h } });
}

/** Cut `bytes` at the given sorted offsets. */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

describe('RtspParser properties', () => {
  it('random bytes never throw and produce only known events', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 8 }), fc.constantFrom('server', 'client'), (chunks, role) => {
        const p = new RtspParser({ role: role, maxHeaderBytes: 512, maxBodyBytes: 512 });
        for (const c of chunks) check(p.push(Buffer.from(c)));
      }),
      { numRuns: 1000 },
    );
  });

  it('random RTSP-looking text never throws', () => {
    const piece = fc.constantFrom(
      'RTSP/1.0',
      ' ',
      '\r\n',
      '\n',
      ':',
      'CSeq',
      'Content-Length: ',
      '5',
      '-1',
      '$',
      '\x00',
      'OPTIONS',
      '*',
      ' \t',
      'a',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 5 }), (pieces, offsets) => {
        const bytes = Buffer.from(pieces.join(''), 'latin1');
        const p = new RtspParser({ role: 'server' });
        for (const c of cut(bytes, offsets)) check(p.push(c));
      }),
      { numRuns: 1000 },
    );
  });

  it('valid messages and frames round-trip, however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(itemArb, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 6 }), (items, offsets) => {
        const bytes = Buffer.concat(items.map(wire));
        const p = new RtspParser({ role: 'client' });
        const events = cut(bytes, offsets).flatMap((c) => p.push(c));
        expect(events.map(plain)).toEqual(items.map(expected));
      }),
      { numRuns: 500 },
    );
  });
});
