/**
 * The end of a `--duration` run (play-session.ts teardown): the jitter buffer is released for the
 * last receiver report, then TEARDOWN is sent, and packets that come meanwhile still count; only
 * then is the depacketizer flushed. A unit whose FU-A fragments straddle the report stays one
 * complete unit (RFC 6184 §5.8). Flushing at the report too made it two incomplete units; with VLC
 * as the server (bursty sends) that pushed the interop test past its bound.
 */
import { describe, expect, it } from 'vitest';
import { TrackReceiver, tracksFromSdp } from '../../src/receiver/index.ts';
import type { ReceivedUnit } from '../../src/receiver/index.ts';
import { serializeRtpPacket } from '../../src/rtp/index.ts';
import { parseSdp } from '../../src/sdp/index.ts';
import { seededRandom } from '../../src/util/random.ts';

const SDP = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=t',
  't=0 0',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1',
  'a=control:trackID=0',
  '',
].join('\r\n');

function receiver(units: ReceivedUnit[]): TrackReceiver {
  const parsed = parseSdp(SDP);
  if (!parsed.ok) throw new Error(parsed.code);
  const track = tracksFromSdp(parsed.value, 'rtsp://127.0.0.1/x/')[0]!;
  return new TrackReceiver(track, {
    jitter: { mode: 'fixed', delayMs: 50 },
    cname: 'test',
    ssrc: 1,
    random: seededRandom(1),
    waitKeyframe: false,
    startAtKeyframe: false,
    sendRtcp: () => {},
    onUnit: (u) => units.push(u),
  });
}

const rtp = (seq: number, ts: number, marker: boolean, payload: number[]) =>
  serializeRtpPacket({
    marker,
    payloadType: 96,
    sequenceNumber: seq,
    timestamp: ts,
    ssrc: 0x1234,
    csrcs: [],
    payload: Buffer.from(payload),
    paddingSize: 0,
  });

/** An IDR slice (type 5) of one unit as FU-A (type 28): start, middle, end (marker). */
const fu = (seq: number, ts: number, part: 'start' | 'middle' | 'end') => {
  const header = (part === 'start' ? 0x80 : 0) | (part === 'end' ? 0x40 : 0) | 5;
  return rtp(seq, ts, part === 'end', [0x60 | 28, header, 0xaa, 0xbb]);
};

describe('the end of a run', () => {
  it('a unit whose fragments straddle the last report is one complete unit', () => {
    const units: ReceivedUnit[] = [];
    const rx = receiver(units);
    rx.onRtp(rtp(1, 0, true, [0x65, 0x01]), 0);
    rx.onRtp(fu(2, 3000, 'start'), 40);
    rx.release(45); // the last report; TEARDOWN goes out
    rx.onRtp(fu(3, 3000, 'middle'), 46);
    rx.onRtp(fu(4, 3000, 'end'), 47);
    rx.drain(60); // TEARDOWN answered
    expect(units.map((u) => u.complete)).toEqual([true, true]);
    expect((rx.depacketizerStats() as { incompleteUnits: number }).incompleteUnits).toBe(0);
    expect(Buffer.concat(units[1]!.data)).toEqual(Buffer.from([0x65, 0xaa, 0xbb, 0xaa, 0xbb, 0xaa, 0xbb]));
  });

  it('a unit still cut at the end counts once', () => {
    const units: ReceivedUnit[] = [];
    const rx = receiver(units);
    rx.onRtp(rtp(1, 0, true, [0x65, 0x01]), 0);
    rx.onRtp(fu(2, 3000, 'start'), 40);
    rx.release(45);
    rx.drain(60);
    expect((rx.depacketizerStats() as { incompleteUnits: number }).incompleteUnits).toBe(1);
  });
});
