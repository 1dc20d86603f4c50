/**
 * RTCP of a sent stream on the manual clock (no sockets, no waiting): the SR + SDES before the
 * first RTP packet of a PLAY, the A.7 schedule (RFC 3550 §6.2, minimum 5 s, halved for the first,
 * randomised by [0.5, 1.5) / (e − 3/2)), SR contents from the sender's statistics, one BYE per
 * SSRC, receiver reports turned into records, and the DLRR answer to an RRTR (RFC 3611 §4.5).
 */
import { describe, expect, it } from 'vitest';
import { parseRtcpPackets, serializeRtcpCompound } from '../../src/rtcp/index.ts';
import type { RtcpPacket } from '../../src/rtcp/index.ts';
import { RtcpSession, RtpSender } from '../../src/sender/index.ts';
import type { ReceiverReportRecord } from '../../src/sender/index.ts';
import { Scheduler } from '../../src/transport/index.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { ntpFromUnixMs, ntpMiddle32, ntpToUnixMs } from '../../src/util/ntp.ts';
import { seededRandom } from '../../src/util/random.ts';
import { voipSample } from '../helpers/xr-fixtures.ts';

/** A clock that moves on by `stepMs` at every reading, as if the process were preempted between two. */
class SteppingClock extends ManualClock {
  constructor(private readonly stepMs: number) {
    super(0);
  }

  override now(): number {
    const t = super.now();
    this.advance(this.stepMs);
    return t;
  }
}

function setup(o: { bitrate?: number; noTiming?: boolean; clock?: ManualClock } = {}) {
  const clock = o.clock ?? new ManualClock(0);
  const scheduler = new Scheduler(clock);
  const random = seededRandom(11);
  const sender = new RtpSender({ payloadType: 96, clockRate: 90000, bitrate: o.bitrate ?? 64_000 }, { sendRtp: () => undefined }, random);
  const out: { at: number; packets: RtcpPacket[] }[] = [];
  const records: ReceiverReportRecord[] = [];
  const counters = { rtcpMalformed: 0, rtcpReceived: 0, natKeepAlives: 0 };
  let playing = true;
  let activity = 0;
  const rtcp = new RtcpSession(
    sender,
    {
      sendRtcp: (buf) => {
        const p = parseRtcpPackets(buf);
        if (!p.ok) throw new Error(p.code);
        out.push({ at: clock.now(), packets: p.value });
      },
    },
    {
      clock,
      random,
      scheduler,
      cname: 'test@host',
      isPlaying: () => playing,
      // RTP time runs with the clock from the base: 90 ticks per ms.
      rtpAt: (nowMs) => (o.noTiming ? undefined : (sender.timestampBase + nowMs * 90) >>> 0),
      counters,
      report: { sessionId: 's1', media: 'm.mp4', control: 'trackID=1', transport: 'udp' },
      onActivity: () => activity++,
      onReport: (r) => records.push(r),
    },
  );
  return {
    clock,
    sender,
    rtcp,
    out,
    records,
    counters,
    activity: () => activity,
    setPlaying: (p: boolean) => (playing = p),
  };
}

const types = (packets: RtcpPacket[]) => packets.map((p) => p.type);

describe('RtcpSession on the manual clock', () => {
  it('without an NTP↔RTP mapping (rtpAt undefined) an empty RR + SDES goes in place of every SR', () => {
    const t = setup({ noTiming: true });
    t.rtcp.start();
    for (let i = 0; i < 10; i++) t.sender.send(false, 0, Buffer.alloc(100));
    t.clock.advance(20_000);
    t.rtcp.sendBye('done');
    expect(t.out.length).toBeGreaterThanOrEqual(3);
    for (const o of t.out) {
      expect(o.packets[0]).toEqual({ type: 'rr', ssrc: t.sender.ssrc, reports: [] });
      expect(o.packets.some((p) => p.type === 'sr')).toBe(false);
    }
    expect(types(t.out.at(-1)!.packets)).toEqual(['rr', 'sdes', 'bye']);
  });

  it('sends SR + SDES at once when playing starts, before any RTP packet, then at the A.7 interval', () => {
    const t = setup();
    t.rtcp.start();
    expect(t.out).toHaveLength(1);
    expect(t.out[0]!.at).toBe(0);
    expect(types(t.out[0]!.packets)).toEqual(['sr', 'sdes']);
    // Packets sent now, so later SRs go out (an SR is only sent once something was sent).
    for (let i = 0; i < 10; i++) t.sender.send(false, 0, Buffer.alloc(100));
    t.clock.advance(60_000);
    const gaps = t.out.slice(1).map((x, i) => x.at - t.out[i]!.at);
    // 64 kbit/s: 5 % = 400 B/s of RTCP, far above what one SR needs, so the 5 s minimum rules
    // (not halved: the first SR already went out at start), randomised in [0.5, 1.5) / 1.21828.
    expect(gaps.length).toBeGreaterThanOrEqual(9);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual((0.5 * 5000) / 1.21828 - 5);
      expect(g).toBeLessThan((1.5 * 5000) / 1.21828 + 5);
    }
    // Randomised, not a fixed period.
    expect(new Set(gaps.map((g) => Math.round(g / 10))).size).toBeGreaterThan(3);
  });

  it("an SR's NTP and RTP timestamps name the same instant; its counts are the sender's", () => {
    const t = setup();
    t.clock.advance(1234);
    for (let i = 0; i < 3; i++) t.sender.send(false, 0, Buffer.alloc(200));
    t.rtcp.start();
    const sr = t.out[0]!.packets[0]!;
    if (sr.type !== 'sr') throw new Error(sr.type);
    const ntp = ntpFromUnixMs(t.clock.wallNow());
    expect(sr.ssrc).toBe(t.sender.ssrc);
    expect(sr.senderInfo).toEqual({
      ntpSeconds: ntp.seconds,
      ntpFraction: ntp.fraction,
      rtpTimestamp: (t.sender.timestampBase + 1234 * 90) >>> 0,
      packetCount: 3,
      octetCount: 600,
    });
    const sdes = t.out[0]!.packets[1]!;
    if (sdes.type !== 'sdes') throw new Error(sdes.type);
    expect(sdes.chunks.map((c) => ({ ssrc: c.ssrc, items: c.items.map((i) => [i.type, i.value.toString()]) }))).toEqual([
      { ssrc: t.sender.ssrc, items: [[1, 'test@host']] },
    ]);
  });

  it('an SR takes its NTP and RTP timestamps from one reading of the clock', () => {
    const t = setup({ clock: new SteppingClock(7) });
    t.sender.send(false, 0, Buffer.alloc(200));
    t.rtcp.start();
    const sr = t.out[0]!.packets[0]!;
    if (sr.type !== 'sr') throw new Error(sr.type);
    // Two readings would be 7 ms (630 ticks) apart; one reading names one instant, to the tick.
    const ntpMs = ntpToUnixMs({ seconds: sr.senderInfo.ntpSeconds, fraction: sr.senderInfo.ntpFraction }) - t.clock.wallAt(0);
    const rtpMs = ((sr.senderInfo.rtpTimestamp - t.sender.timestampBase) >>> 0) / 90;
    expect(Math.abs(ntpMs - rtpMs)).toBeLessThan(1 / 90);
  });

  it('sends nothing while paused, and no SR before any packet went out', () => {
    const t = setup();
    t.setPlaying(false);
    t.rtcp.start();
    t.clock.advance(30_000);
    expect(t.out).toHaveLength(0);
    t.setPlaying(true);
    t.rtcp.start();
    expect(t.out).toHaveLength(1); // the SR first, even before the first RTP packet
    t.clock.advance(30_000);
    expect(t.out).toHaveLength(1); // no packets sent: nothing to report at the interval
  });

  it('one BYE per SSRC (with a final SR), nothing after it until rejoin', () => {
    const t = setup();
    t.rtcp.start();
    t.sender.send(false, 0, Buffer.alloc(10));
    t.rtcp.sendBye('teardown');
    t.rtcp.sendBye('teardown');
    expect(t.out).toHaveLength(2);
    expect(types(t.out[1]!.packets)).toEqual(['sr', 'sdes', 'bye']);
    const bye = t.out[1]!.packets[2]!;
    expect(bye.type === 'bye' && bye).toMatchObject({ ssrcs: [t.sender.ssrc], reason: 'teardown' });
    t.clock.advance(30_000);
    expect(t.out).toHaveLength(2);
    expect(t.rtcp.hasSentBye).toBe(true);
    // A PLAY after the end: new SSRC, RTCP as for a new member.
    t.sender.renewSsrc();
    t.rtcp.rejoin();
    t.rtcp.start();
    expect(t.out).toHaveLength(3);
    expect(t.out[2]!.packets[0]!.type).toBe('sr');
    expect(t.out[2]!.packets[0]!.type === 'sr' && t.out[2]!.packets[0]!.ssrc).toBe(t.sender.ssrc);
  });

  it('turns report blocks about our SSRC into records; others ignored; malformed and NAT keep-alives counted apart', () => {
    const t = setup();
    const block = (ssrc: number, lost: number) => ({
      ssrc,
      fractionLost: 64,
      cumulativeLost: lost,
      extendedHighestSeq: 1000,
      jitter: 900,
      lsr: 0,
      dlsr: 0,
    });
    const rr = serializeRtcpCompound([{ type: 'rr', ssrc: 0xabc, reports: [block(t.sender.ssrc, 7), block(t.sender.ssrc ^ 1, 99)] }]);
    t.rtcp.receive(rr, '127.0.0.1:5001');
    expect(t.records).toHaveLength(1);
    expect(t.records[0]).toMatchObject({
      sessionId: 's1',
      control: 'trackID=1',
      from: '127.0.0.1:5001',
      reporterSsrc: 0xabc,
      cumulativeLost: 7,
      fractionLost: 0.25,
      jitterMs: 10,
    });
    expect(t.rtcp.lastReport).toBe(t.records[0]);
    t.rtcp.receive(Buffer.from([1, 2, 3, 4, 5]), 'x');
    t.rtcp.receive(Buffer.from('feedface', 'hex'), 'x');
    expect(t.counters).toEqual({ rtcpReceived: 2, rtcpMalformed: 1, natKeepAlives: 1 });
    expect(t.activity()).toBe(2); // the RR and the keep-alive keep the session alive; garbage does not
  });

  it("a receiver's XR VoIP metrics about our stream join its report's record, in people's units (RFC 3611 §4.7)", () => {
    const t = setup();
    const voip = voipSample(t.sender.ssrc);
    const report = { ssrc: t.sender.ssrc, fractionLost: 0, cumulativeLost: 3, extendedHighestSeq: 100, jitter: 0, lsr: 0, dlsr: 0 };
    t.rtcp.receive(
      serializeRtcpCompound([
        { type: 'rr', ssrc: 0x55, reports: [report] },
        // Another stream's block is not ours.
        { type: 'xr', ssrc: 0x55, blocks: [{ ...voip, ssrc: t.sender.ssrc ^ 1, lossRate: 200 }, voip] },
      ]),
      'x',
    );
    expect(t.records[0]!.voip).toEqual({
      lossRate: 13 / 256,
      discardRate: 2 / 256,
      burstDensity: 0.25,
      gapDensity: 5 / 256,
      burstDurationMs: 120,
      gapDurationMs: 1500,
      roundTripDelayMs: 42,
      endSystemDelayMs: 200,
      gmin: 16,
      rFactor: 76,
      mosLq: 3.8,
      mosCq: undefined,
      jitterBuffer: { adaptive: true, nominalMs: 150, maximumMs: 300, absMaxMs: 1000 },
    });
    // Without XR, no voip figures.
    t.rtcp.receive(serializeRtcpCompound([{ type: 'rr', ssrc: 0x55, reports: [report] }]), 'x');
    expect(t.records[1]!.voip).toBeUndefined();
  });

  it("answers a receiver's RRTR with a DLRR block in the next SR compound (RFC 3611 §4.5)", () => {
    const t = setup();
    t.rtcp.start();
    t.sender.send(false, 0, Buffer.alloc(10));
    const rrtr = { ntpSeconds: 0x01020304, ntpFraction: 0x05060708 };
    t.rtcp.receive(
      serializeRtcpCompound([
        { type: 'rr', ssrc: 0x55, reports: [] },
        { type: 'xr', ssrc: 0x55, blocks: [{ type: 'rrtr', ...rrtr }] },
      ]),
      'x',
    );
    const arrived = t.clock.now();
    t.clock.advance(8000);
    const next = t.out[1]!;
    const xr = next.packets.find((p) => p.type === 'xr');
    if (xr?.type !== 'xr') throw new Error('no XR');
    const dlrr = xr.blocks[0]!;
    if (dlrr.type !== 'dlrr') throw new Error(dlrr.type);
    expect(dlrr.items).toEqual([
      {
        ssrc: 0x55,
        lastRr: ntpMiddle32({ seconds: rrtr.ntpSeconds, fraction: rrtr.ntpFraction }),
        delaySinceLastRr: Math.round(((next.at - arrived) / 1000) * 65536),
      },
    ]);
    // Answered once.
    t.clock.advance(20_000);
    expect(t.out.slice(2).some((x) => x.packets.some((p) => p.type === 'xr'))).toBe(false);
  });
});
