import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTransport, parseTransport, parseTransportSpec, type TransportSpec } from '../../src/rtsp/index.ts';

const base = { protocol: 'RTP', profile: 'AVP', unknownParams: [] } as const;

// [header value, parsed alternatives]: the first rows are RFC 2326's own examples.
const vectors: [string, string, TransportSpec[]][] = [
  [
    '§12.39 example (two alternatives, quoted mode)',
    'RTP/AVP;multicast;ttl=127;mode="PLAY", RTP/AVP;unicast;client_port=3456-3457;mode="PLAY"',
    [
      { ...base, unknownParams: [], lowerTransport: 'UDP', delivery: 'multicast', ttl: 127, mode: 'PLAY' },
      { ...base, unknownParams: [], lowerTransport: 'UDP', delivery: 'unicast', clientPort: [3456, 3457], mode: 'PLAY' },
    ],
  ],
  [
    '§10.4 SETUP response',
    'RTP/AVP;unicast;client_port=4588-4589;server_port=6256-6257',
    [{ ...base, unknownParams: [], lowerTransport: 'UDP', delivery: 'unicast', clientPort: [4588, 4589], serverPort: [6256, 6257] }],
  ],
  [
    '§14.1 folded response (space after ;)',
    'RTP/AVP/UDP;unicast;client_port=3056-3057; server_port=5000-5001',
    [{ ...base, unknownParams: [], lowerTransport: 'UDP', delivery: 'unicast', clientPort: [3056, 3057], serverPort: [5000, 5001] }],
  ],
  ['§10.12 interleaved', 'RTP/AVP/TCP;interleaved=0-1', [{ ...base, unknownParams: [], lowerTransport: 'TCP', interleaved: [0, 1] }]],
  [
    '§14.6 multicast record',
    'RTP/AVP;multicast;destination=224.0.1.11;port=21010-21011;mode=record;ttl=127',
    [
      {
        ...base,
        unknownParams: [],
        lowerTransport: 'UDP',
        delivery: 'multicast',
        destination: '224.0.1.11',
        port: [21010, 21011],
        mode: 'record',
        ttl: 127,
      },
    ],
  ],
  [
    'single port means a pair',
    'RTP/AVP;unicast;client_port=5000',
    [{ ...base, unknownParams: [], lowerTransport: 'UDP', delivery: 'unicast', clientPort: [5000, 5001] }],
  ],
  [
    'brief example list',
    'RTP/AVP;unicast;client_port=5000-5001, RTP/AVP/TCP;interleaved=0-1',
    [
      { ...base, unknownParams: [], lowerTransport: 'UDP', delivery: 'unicast', clientPort: [5000, 5001] },
      { ...base, unknownParams: [], lowerTransport: 'TCP', interleaved: [0, 1] },
    ],
  ],
  [
    'ssrc hex, source, append, layers, unknown',
    'rtp/avp/udp;UNICAST;source=10.0.0.1;ssrc=0000ABCD;append;layers=2;x-foo=bar;ssrc2',
    [
      {
        ...base,
        lowerTransport: 'UDP',
        delivery: 'unicast',
        source: '10.0.0.1',
        ssrc: 0xabcd,
        append: true,
        layers: 2,
        unknownParams: ['x-foo=bar', 'ssrc2'],
      },
    ],
  ],
  [
    'bad ssrc is kept verbatim',
    'RTP/AVP;unicast;ssrc=xyz;client_port=1-2',
    [{ ...base, lowerTransport: 'UDP', delivery: 'unicast', clientPort: [1, 2], unknownParams: ['ssrc=xyz'] }],
  ],
  [
    'non-RTP alternative skipped',
    'RAW/RAW/UDP;unicast;client_port=1000, RTP/SAVP;unicast;client_port=2000-2001',
    [{ ...base, profile: 'SAVP', unknownParams: [], lowerTransport: 'UDP', delivery: 'unicast', clientPort: [2000, 2001] }],
  ],
  [
    'quoted mode list with comma',
    'RTP/AVP;mode="PLAY,RECORD"',
    [{ ...base, unknownParams: [], lowerTransport: 'UDP', mode: 'PLAY,RECORD' }],
  ],
];

describe('Transport', () => {
  it.each(vectors)('%s', (_n, value, specs) => {
    expect(parseTransport(value)).toEqual({ ok: true, value: specs });
  });

  it.each([
    ['RAW/RAW/UDP;unicast', 'RTSP_ERR_UNSUPPORTED_TRANSPORT'],
    ['RTP/AVP/SCTP', 'RTSP_ERR_UNSUPPORTED_TRANSPORT'],
    ['RTP', 'RTSP_ERR_BAD_TRANSPORT'],
    ['', 'RTSP_ERR_BAD_TRANSPORT'],
    ['RTP/AVP;client_port=70000-70001', 'RTSP_ERR_BAD_TRANSPORT'],
    ['RTP/AVP;client_port=65535', 'RTSP_ERR_BAD_TRANSPORT'],
    ['RTP/AVP/TCP;interleaved=256-257', 'RTSP_ERR_BAD_TRANSPORT'],
    ['RTP/AVP;client_port=a-b', 'RTSP_ERR_BAD_TRANSPORT'],
    ['RTP/AVP;client_port', 'RTSP_ERR_BAD_TRANSPORT'],
  ])('%j → %s', (value, code) => {
    expect(parseTransport(value)).toMatchObject({ ok: false, code });
  });

  it.each([
    [
      {
        ...base,
        unknownParams: [],
        lowerTransport: 'UDP',
        delivery: 'unicast',
        clientPort: [5000, 5001],
        serverPort: [6000, 6001],
        ssrc: 0x1234abcd,
      },
      'RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;ssrc=1234ABCD',
    ],
    [
      { ...base, unknownParams: [], lowerTransport: 'TCP', delivery: 'unicast', interleaved: [2, 3], ssrc: 1 },
      'RTP/AVP/TCP;unicast;interleaved=2-3;ssrc=00000001',
    ],
    [
      {
        ...base,
        unknownParams: ['x=1'],
        lowerTransport: 'UDP',
        delivery: 'multicast',
        destination: '224.2.0.1',
        port: [3456, 3457],
        ttl: 16,
        mode: 'PLAY,RECORD',
      },
      'RTP/AVP;multicast;destination=224.2.0.1;ttl=16;port=3456-3457;mode="PLAY,RECORD";x=1',
    ],
  ] as [TransportSpec, string][])('format %#', (spec, text) => {
    expect(formatTransport(spec)).toBe(text);
    expect(parseTransportSpec(text)).toEqual({ ok: true, value: spec });
  });

  it('formats a list of alternatives', () => {
    const r = parseTransport('RTP/AVP;unicast;client_port=5000-5001, RTP/AVP/TCP;interleaved=0-1');
    if (!r.ok) throw new Error(r.message);
    expect(formatTransport(r.value)).toBe('RTP/AVP;unicast;client_port=5000-5001,RTP/AVP/TCP;interleaved=0-1');
  });

  it('never throws on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        parseTransport(s);
      }),
      { numRuns: 1000 },
    );
  });

  it('valid specs round-trip', () => {
    const pair = (max: number) => fc.integer({ min: 0, max: max - 1 }).map((a) => [a, a + 1] as [number, number]);
    const spec = fc.record(
      {
        protocol: fc.constant('RTP' as const),
        profile: fc.constantFrom('AVP', 'SAVP', 'AVPF'),
        lowerTransport: fc.constantFrom('UDP' as const, 'TCP' as const),
        delivery: fc.constantFrom('unicast' as const, 'multicast' as const),
        destination: fc.ipV4(),
        clientPort: pair(65535),
        serverPort: pair(65535),
        interleaved: pair(255),
        ttl: fc.integer({ min: 0, max: 255 }),
        ssrc: fc.integer({ min: 0, max: 0xffffffff }),
        mode: fc.constantFrom('PLAY', 'RECORD', 'play'),
        unknownParams: fc.array(fc.stringMatching(/^x-[a-z]{1,5}=[a-z0-9]{1,5}$/), { maxLength: 2 }),
      },
      { requiredKeys: ['protocol', 'profile', 'lowerTransport', 'unknownParams'] },
    );
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 3 }), (specs) => {
        expect(parseTransport(formatTransport(specs))).toEqual({ ok: true, value: specs });
      }),
      { numRuns: 500 },
    );
  });
});
