/**
 * Issue 11, the shared port pair's demux table (src/transport/udp-demux.ts): under random churn of
 * claims, releases and lookups it agrees with a plain model (which track owns which source on
 * which socket), refuses a source already claimed and claims past its bound, releases only what
 * the releasing track owns, and never keeps an entry once every track is gone.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UdpDemux, plainIp } from '../../src/transport/udp-demux.ts';

type Op =
  | { op: 'claim'; track: number; ip: number; rtp: number; rtcp: number }
  | { op: 'release'; track: number; ip: number; rtp: number; rtcp: number }
  | { op: 'lookup'; socket: 'rtp' | 'rtcp'; ip: number; port: number };

// Few addresses and ports, so that collisions (two tracks naming the same source) are frequent.
const IPS = ['127.0.0.1', '10.0.0.2', '::ffff:10.0.0.2', '::1'];
const port = fc.integer({ min: 5000, max: 5007 });
const ip = fc.integer({ min: 0, max: IPS.length - 1 });
const track = fc.integer({ min: 0, max: 5 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('claim' as const), track, ip, rtp: port, rtcp: port }),
  fc.record({ op: fc.constant('release' as const), track, ip, rtp: port, rtcp: port }),
  fc.record({ op: fc.constant('lookup' as const), socket: fc.constantFrom('rtp' as const, 'rtcp' as const), ip, port }),
);

describe('UdpDemux', () => {
  it('agrees with a model under random churn and never leaks an entry', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(opArb, { maxLength: 200 }), (max, ops) => {
        const demux = new UdpDemux<number>(max);
        // The model: each track's claims, as [ip, rtp, rtcp] with the ip written plainly.
        const claims = new Map<number, [string, number, number][]>();
        const all = () => [...claims.entries()].flatMap(([t, cs]) => cs.map((c) => ({ t, c })));
        for (const o of ops) {
          if (o.op === 'claim') {
            const addr = plainIp(IPS[o.ip]!);
            const taken = all().some(({ c }) => c[0] === addr && (c[1] === o.rtp || c[2] === o.rtcp));
            const full = all().length >= max;
            const got = demux.claim(IPS[o.ip]!, o.rtp, o.rtcp, o.track);
            expect(got).toBe(taken ? 'taken' : full ? 'full' : undefined);
            if (got === undefined) claims.set(o.track, [...(claims.get(o.track) ?? []), [addr, o.rtp, o.rtcp]]);
          } else if (o.op === 'release') {
            const addr = plainIp(IPS[o.ip]!);
            demux.release(IPS[o.ip]!, o.rtp, o.rtcp, o.track);
            const mine = claims.get(o.track) ?? [];
            const i = mine.findIndex((c) => c[0] === addr && c[1] === o.rtp && c[2] === o.rtcp);
            if (i >= 0) mine.splice(i, 1);
          } else {
            const addr = plainIp(IPS[o.ip]!);
            const owner = all().find(({ c }) => c[0] === addr && (o.socket === 'rtp' ? c[1] : c[2]) === o.port)?.t;
            const got = o.socket === 'rtp' ? demux.rtpRoute(IPS[o.ip]!, o.port) : demux.rtcpRoute(IPS[o.ip]!, o.port);
            expect(got).toBe(owner);
          }
          expect(demux.size).toBe(all().length);
          expect(demux.size).toBeLessThanOrEqual(max);
        }
        // Every track leaves: nothing stays in either table.
        for (const { t, c } of all()) demux.release(c[0], c[1], c[2], t);
        expect(demux.size).toBe(0);
        for (const a of IPS)
          for (let p = 5000; p <= 5007; p++) {
            expect(demux.rtpRoute(a, p)).toBeUndefined();
            expect(demux.rtcpRoute(a, p)).toBeUndefined();
          }
      }),
      { numRuns: 300 },
    );
  });

  it('routes the two sockets apart: one client RTP port may be another client RTCP port', () => {
    const demux = new UdpDemux<string>(10);
    expect(demux.claim('127.0.0.1', 5000, 5001, 'a')).toBeUndefined();
    expect(demux.claim('127.0.0.1', 5001, 5002, 'b')).toBeUndefined();
    expect(demux.rtcpRoute('127.0.0.1', 5001)).toBe('a');
    expect(demux.rtpRoute('127.0.0.1', 5001)).toBe('b');
    // An RTCP datagram from the RTP port (a client that sends RTCP from another port) is not routed.
    expect(demux.rtcpRoute('127.0.0.1', 5000)).toBeUndefined();
    // The same ports from another address are another client's.
    expect(demux.claim('127.0.0.2', 5000, 5001, 'c')).toBeUndefined();
    expect(demux.claim('::ffff:127.0.0.2', 5000, 5003, 'd')).toBe('taken');
    // A release by a track that does not own the entry changes nothing.
    demux.release('127.0.0.1', 5000, 5001, 'b');
    expect(demux.rtpRoute('127.0.0.1', 5000)).toBe('a');
  });
});
