/**
 * What every SETUP and PLAY answer shares: the unicast choice with its destination check, the
 * interleaved channel pairs, and the RTP-Info / Session header text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createResponse, parseTransport } from '../../../src/rtsp/index.ts';
import { RtspError } from '../../../src/server/errors.ts';
import { chooseUnicast, formatRtpInfo, nextChannels, setSessionHeader } from '../../../src/server/session/transport-negotiation.ts';

const specs = (header: string) => {
  const r = parseTransport(header);
  if (!r.ok) throw new Error(r.code);
  return r.value;
};

function status(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof RtspError ? err.status : -1;
  }
}

describe('transport negotiation', () => {
  it.each([
    // header, client ip, chosen lower transport or refusal status
    ['RTP/AVP;unicast;client_port=5000-5001', '10.0.0.1', 'UDP'],
    ['RTP/AVP/TCP;unicast;interleaved=0-1', '10.0.0.1', 'TCP'],
    ['RTP/AVP;multicast,RTP/AVP/TCP;unicast', '10.0.0.1', 'TCP'],
    ['RTP/AVP;unicast', '10.0.0.1', 461], // UDP without client_port
    ['RTP/SAVP;unicast;client_port=5000-5001', '10.0.0.1', 461],
    ['RTP/AVP;unicast;client_port=5000-5001;destination=10.0.0.1', '10.0.0.1', 'UDP'],
    ['RTP/AVP;unicast;client_port=5000-5001;destination=10.9.9.9', '10.0.0.1', 403],
  ] as const)('%s from %s → %s', (header, ip, want) => {
    if (typeof want === 'number') expect(status(() => chooseUnicast(specs(header), ip))).toBe(want);
    else expect(chooseUnicast(specs(header), ip).lowerTransport).toBe(want);
  });

  it.each([
    [[], [0, 1]],
    [
      [0, 1],
      [2, 3],
    ],
    [
      [2, 3],
      [4, 5],
    ],
    [[1], [2, 3]],
    [
      [0, 1, 6, 7],
      [8, 9],
    ],
    [[4], [6, 7]],
  ] as const)('after channels %j the next pair is %j', (taken, next) => {
    expect(nextChannels(taken)).toEqual(next);
  });

  it('the next pair is always even/odd and above every taken channel', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 250 }), { maxLength: 10 }), (taken) => {
        const [a, b] = nextChannels(taken);
        expect(a % 2).toBe(0);
        expect(b).toBe(a + 1);
        for (const c of taken) expect(a).toBeGreaterThan(c);
      }),
    );
  });

  it('formats RTP-Info and Session exactly', () => {
    expect(
      formatRtpInfo('rtsp://h:1/a.mp4', [
        { control: 'trackID=1', seq: 17, rtptime: 4000000000 },
        { control: 'trackID=2', seq: 0, rtptime: 0 },
      ]),
    ).toBe('url=rtsp://h:1/a.mp4/trackID=1;seq=17;rtptime=4000000000,url=rtsp://h:1/a.mp4/trackID=2;seq=0;rtptime=0');
    expect(setSessionHeader(createResponse(200), 'abc123', 60).headers.get('Session')).toBe('abc123;timeout=60');
  });
});
