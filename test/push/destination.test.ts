/**
 * What `streamlab push --to/--ports/--ttl/--interface` accepts, and the stable error code for what
 * it refuses. Arbitrary text never throws.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIpv4Multicast, parseIpv4, parsePushUrl, resolveDestination, trackPorts } from '../../src/server/push/index.ts';

describe('parsePushUrl', () => {
  it.each([
    ['rtp://127.0.0.1:5004', { address: '127.0.0.1', port: 5004, multicast: false }],
    ['rtp://127.0.0.1:5004/', { address: '127.0.0.1', port: 5004, multicast: false }],
    ['RTP://10.1.2.3:1024', { address: '10.1.2.3', port: 1024, multicast: false }],
    ['rtp://239.255.1.2:65534', { address: '239.255.1.2', port: 65534, multicast: true }],
    ['rtp://224.0.0.251:5004', { address: '224.0.0.251', port: 5004, multicast: true }],
    ['rtp://223.255.255.255:5004', { address: '223.255.255.255', port: 5004, multicast: false }],
    ['rtp://240.0.0.1:5004', { address: '240.0.0.1', port: 5004, multicast: false }],
  ])('accepts %s', (url, want) => {
    expect(parsePushUrl(url)).toEqual({ ok: true, value: want });
  });

  it.each([
    ['udp://127.0.0.1:5004', 'PUSH_ERR_URL'],
    ['127.0.0.1:5004', 'PUSH_ERR_URL'],
    ['rtp://127.0.0.1', 'PUSH_ERR_URL'],
    ['rtp://127.0.0.1:', 'PUSH_ERR_URL'],
    ['rtp://127.0.0.1:5004/path', 'PUSH_ERR_URL'],
    ['rtp://127.0.0.1:5004?ttl=2', 'PUSH_ERR_URL'],
    ['rtp://user@127.0.0.1:5004', 'PUSH_ERR_URL'],
    ['rtp://localhost:5004', 'PUSH_ERR_NOT_IPV4'],
    ['rtp://[::1]:5004', 'PUSH_ERR_NOT_IPV4'],
    ['rtp://::1:5004', 'PUSH_ERR_NOT_IPV4'],
    ['rtp://256.1.1.1:5004', 'PUSH_ERR_NOT_IPV4'],
    ['rtp://1.2.3:5004', 'PUSH_ERR_NOT_IPV4'],
    ['rtp://010.1.1.1:5004', 'PUSH_ERR_NOT_IPV4'],
    ['rtp://0.0.0.0:5004', 'PUSH_ERR_NOT_IPV4'],
    ['rtp://255.255.255.255:5004', 'PUSH_ERR_NOT_IPV4'],
    ['rtp://127.0.0.1:5005', 'PUSH_ERR_PORT'],
    ['rtp://127.0.0.1:1022', 'PUSH_ERR_PORT'],
    ['rtp://127.0.0.1:65536', 'PUSH_ERR_PORT'],
    ['rtp://127.0.0.1:0', 'PUSH_ERR_PORT'],
    ['rtp://127.0.0.1:50x4', 'PUSH_ERR_PORT'],
  ])('refuses %s with %s', (url, code) => {
    const r = parsePushUrl(url);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(code);
      expect(r.message.length).toBeGreaterThan(10);
    }
  });

  it('never throws, and every dotted quad with an even port in range round-trips', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 64 }), (s) => {
        const r = parsePushUrl(s);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 1, max: 254 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })),
        fc.integer({ min: 512, max: 32767 }),
        (o, half) => {
          const address = o.join('.');
          const r = parsePushUrl(`rtp://${address}:${half * 2}`);
          expect(r).toEqual({ ok: true, value: { address, port: half * 2, multicast: o[0] >= 224 && o[0] <= 239 } });
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('IPv4 helpers', () => {
  it('parses dotted quads only and knows 224.0.0.0/4', () => {
    expect(parseIpv4('192.168.0.1')).toEqual([192, 168, 0, 1]);
    expect(parseIpv4('192.168.0')).toBeUndefined();
    expect(parseIpv4('192.168.0.01')).toBeUndefined();
    expect(parseIpv4(' 1.2.3.4')).toBeUndefined();
    expect(isIpv4Multicast([223, 255, 255, 255])).toBe(false);
    expect(isIpv4Multicast([224, 0, 0, 0])).toBe(true);
    expect(isIpv4Multicast([239, 255, 255, 255])).toBe(true);
    expect(isIpv4Multicast([240, 0, 0, 0])).toBe(false);
  });
});

describe('trackPorts', () => {
  it('gives PORT + 2i to track i, RTCP on the next port', () => {
    expect(trackPorts(5004, 3)).toEqual({
      ok: true,
      value: [
        { rtp: 5004, rtcp: 5005 },
        { rtp: 5006, rtcp: 5007 },
        { rtp: 5008, rtcp: 5009 },
      ],
    });
  });

  it('runs to 65535 and no further', () => {
    expect(trackPorts(65532, 2).ok).toBe(true);
    const r = trackPorts(65534, 2);
    expect(r.ok ? 'ok' : r.code).toBe('PUSH_ERR_PORT');
  });

  it('takes explicit RTP[:RTCP] per track', () => {
    expect(trackPorts(5004, 2, '6000, 7000:7100')).toEqual({
      ok: true,
      value: [
        { rtp: 6000, rtcp: 6001 },
        { rtp: 7000, rtcp: 7100 },
      ],
    });
  });

  it.each([
    ['6000', 'one entry for two tracks'],
    ['6000,6000', 'a port twice'],
    ['6000,6001', 'an odd RTP port'],
    ['6000,7000:80', 'an RTCP port out of range'],
    ['6000,abc', 'not a number'],
    ['6000,6002,6004', 'three entries for two tracks'],
  ])('refuses --ports %s (%s)', (ports) => {
    const r = trackPorts(5004, 2, ports);
    expect(r.ok ? 'ok' : r.code).toBe('PUSH_ERR_PORT');
  });
});

describe('resolveDestination', () => {
  it('defaults TTL 1 and lets the OS choose the interface', () => {
    const r = resolveDestination({ url: 'rtp://239.1.2.3:5004', trackCount: 2 });
    expect(r).toEqual({
      ok: true,
      value: {
        address: '239.1.2.3',
        multicast: true,
        ttl: 1,
        interfaceAddress: undefined,
        ports: [
          { rtp: 5004, rtcp: 5005 },
          { rtp: 5006, rtcp: 5007 },
        ],
      },
    });
  });

  it('checks TTL and interface', () => {
    const a = resolveDestination({ url: 'rtp://239.1.2.3:5004', trackCount: 1, ttl: 256 });
    expect(a.ok ? 'ok' : a.code).toBe('PUSH_ERR_TTL');
    const b = resolveDestination({ url: 'rtp://239.1.2.3:5004', trackCount: 1, interfaceAddress: 'lo' });
    expect(b.ok ? 'ok' : b.code).toBe('PUSH_ERR_INTERFACE');
    const c = resolveDestination({ url: 'rtp://239.1.2.3:5004', trackCount: 1, ttl: 16, interfaceAddress: '127.0.0.1' });
    expect(c.ok && c.value.ttl === 16 && c.value.interfaceAddress === '127.0.0.1').toBe(true);
  });
});
