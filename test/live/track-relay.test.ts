/**
 * TrackRelay, the per-track relay a publisher and an edge's pull share: one source per track,
 * header rewrite continuing the channel track across runs (a reconnect is a new relay on the same
 * track), and the source's SR timing carried into the track's NTP↔RTP reference, also when the
 * SR comes before the first packet. Manual clock; the timeline is narrated in the tests.
 */
import { describe, expect, it } from 'vitest';
import { serializeRtpPacket } from '../../src/rtp/index.ts';
import { LiveTrack, TrackRelay } from '../../src/server/live/index.ts';
import type { AnnouncedTrack } from '../../src/server/live/live-sdp.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { ntpFromUnixMs } from '../../src/util/ntp.ts';
import { seededRandom } from '../../src/util/random.ts';

const audio: AnnouncedTrack = {
  control: 'trackID=2',
  encodingName: 'MPEG4-GENERIC',
  format: { media: 'audio', payloadType: 97, clockRate: 48000, rtpmap: 'MPEG4-GENERIC/48000/2', fmtp: '', attributes: [], bitrate: 0 },
};

const rtp = (seq: number, timestamp: number, ssrc = 0xabc, payloadType = 97) =>
  serializeRtpPacket({
    marker: true,
    payloadType,
    sequenceNumber: seq,
    timestamp,
    ssrc,
    csrcs: [],
    payload: Buffer.from([1, 2, 3, 4]),
    paddingSize: 0,
  });

function setup() {
  const clock = new ManualClock(0, 1_700_000_000_000);
  const track = new LiveTrack('trackID=2', audio.format, clock, seededRandom(7));
  const sent: Buffer[] = [];
  track.sinks.add({
    egress: { sendRtp: (h: Buffer) => sent.push(Buffer.from(h)) } as never,
    waitingForKeyframe: false,
    joinedAtMs: 0,
    packets: 0,
    bytes: 0,
  });
  const relay = () => new TrackRelay(audio, { ssrc: 1, cname: 'edge' });
  return { clock, track, sent, relay };
}

const seqOf = (h: Buffer) => h.readUInt16BE(2);
const tsOf = (h: Buffer) => h.readUInt32BE(4);
const ssrcOf = (h: Buffer) => h.readUInt32BE(8);

describe('TrackRelay', () => {
  it('takes one source, drops what is not the announced RTP', () => {
    const { clock, track, relay } = setup();
    const r = relay();
    expect(r.rtp(rtp(10, 1000), track, clock.now(), clock.wallNow())).toBe('relayed');
    expect(r.rtp(rtp(11, 2024, 0xdef), track, clock.now(), clock.wallNow())).toBe('wrong-ssrc');
    expect(r.rtp(rtp(12, 3048, 0xabc, 96), track, clock.now(), clock.wallNow())).toBe('malformed');
    expect(r.rtp(Buffer.from([0x80, 97]), track, clock.now(), clock.wallNow())).toBe('malformed');
  });

  it('a new run (reconnect) continues SSRC, seq and timestamps by the time away', () => {
    const { clock, track, sent, relay } = setup();
    const first = relay();
    // Run 1: the origin's seq 500.., ts 90000 + 1024 k.
    for (let k = 0; k < 3; k++) first.rtp(rtp(500 + k, 90000 + 1024 * k), track, clock.now(), clock.wallNow());
    // The origin is away 2 s; run 2 starts anywhere in its own number spaces.
    clock.advance(2000);
    const second = relay();
    second.rtp(rtp(7, 123_456, 0x777), track, clock.now(), clock.wallNow());
    second.rtp(rtp(8, 123_456 + 1024, 0x777), track, clock.now(), clock.wallNow());
    expect(new Set(sent.map(ssrcOf))).toEqual(new Set([track.sender.ssrc]));
    for (let i = 1; i < sent.length; i++) expect(seqOf(sent[i]!)).toBe((seqOf(sent[i - 1]!) + 1) & 0xffff);
    // Across the outage the timestamp steps by 2 s of 48 kHz (the last packet's time was its arrival).
    expect((tsOf(sent[3]!) - tsOf(sent[2]!)) >>> 0).toBe(96000);
    expect((tsOf(sent[4]!) - tsOf(sent[3]!)) >>> 0).toBe(1024);
  });

  it("an SR before the first packet sets the track's timing once a packet maps it; other sources' SRs do not", () => {
    const { clock, track, relay } = setup();
    const r = relay();
    // The origin's SR: its RTP time 50_000 was at wall 1_699_999_998_700 (1.3 s before our now).
    const srWall = 1_699_999_998_700;
    const ntp = ntpFromUnixMs(srWall);
    expect(r.senderReport(0xabc, { ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp: 50_000 }, track, clock.now())).toBe(
      true,
    );
    // Its first packet: RTP time 98_000 (1 s of 48 kHz later), arriving 300 ms after that time
    // (the way through the origin and the network), mapped onto our timestamps.
    r.rtp(rtp(1, 98_000), track, clock.now(), clock.wallNow());
    const ours = track.last!.timestamp;
    // Our SRs now say: our timestamp of that packet is at the origin's wall time of it (within rounding of the NTP fraction).
    expect((track.rtpTimeAtWall(srWall + 1000) - ours) | 0).toBeLessThanOrEqual(1);
    expect((track.rtpTimeAtWall(srWall + 1000) - ours) | 0).toBeGreaterThanOrEqual(-1);
    // An SR of another SSRC (after the lock) changes nothing.
    const other = ntpFromUnixMs(srWall + 5000);
    expect(r.senderReport(0xdef, { ntpSeconds: other.seconds, ntpFraction: other.fraction, rtpTimestamp: 0 }, track, clock.now())).toBe(
      false,
    );
    expect(Math.abs((track.rtpTimeAtWall(srWall + 1000) - ours) | 0)).toBeLessThanOrEqual(1);
  });

  it('an SR of the declared source before the first packet gives the track its timing at once', () => {
    const { clock, track, sent, relay } = setup();
    const r = relay();
    r.ssrc = 0xabc; // declared in SETUP (Transport ssrc=)
    track.timingFromSource = true;
    // Before any SR: no timing to give (no SR to the viewers), though RTP-Info still has a time.
    expect(track.srRtpTimeAtWall(clock.wallNow())).toBeUndefined();
    // The origin's SR: RTP time 50_000 is its wall 1_699_999_999_900 (100 ms before our now).
    const srWall = 1_699_999_999_900;
    const ntp = ntpFromUnixMs(srWall);
    expect(
      r.senderReport(
        0xabc,
        { ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp: 50_000 },
        track,
        clock.now(),
        clock.wallNow(),
      ),
    ).toBe(true);
    const atSr = track.srRtpTimeAtWall(srWall);
    expect(atSr).toBeDefined();
    // The first packet, 40 ms later, carries a timestamp 240 ms before the SR's (a keyframe sent
    // late, or ahead in decoding order): it lands where the SR's mapping puts it, not at "now".
    clock.advance(40);
    r.rtp(rtp(1, 50_000 - 11_520), track, clock.now(), clock.wallNow());
    expect(sent).toHaveLength(1);
    expect((tsOf(sent[0]!) - atSr!) | 0).toBe(-11_520);
    // And our SRs keep the origin's mapping.
    expect(track.srRtpTimeAtWall(srWall)).toBe(atSr);
  });

  it('an SR of an undeclared source before the first packet waits for the packet (it may be another SSRC)', () => {
    const { clock, track, relay } = setup();
    const r = relay();
    track.timingFromSource = true;
    const ntp = ntpFromUnixMs(clock.wallNow());
    r.senderReport(0xdef, { ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp: 7 }, track, clock.now(), clock.wallNow());
    expect(track.srRtpTimeAtWall(clock.wallNow())).toBeUndefined();
    r.rtp(rtp(1, 1000), track, clock.now(), clock.wallNow());
    // The packet's source is 0xabc: the 0xdef SR set nothing.
    expect(track.srRtpTimeAtWall(clock.wallNow())).toBeUndefined();
  });
});
