/**
 * What `streamlab push` puts on the wire, caught on our own UDP sockets at the destination ports:
 * `--loop --start 18 --duration 4` over the sample (20.011 s long) plays 18 s → end → 0 s → 2 s as
 * ONE RTP source per track: one SSRC, sequence numbers +1 throughout, timestamps increasing by
 * exactly the frame duration except at the loop, where the step is the frame plus the gap to the
 * loop period; sender reports whose NTP/RTP pairs agree across the loop; SDES CNAME in every
 * compound; BYE at the end with the final SR (counts equal to what arrived); and a receiver report
 * sent back to the source of the SRs is counted by the pusher.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseRtcpPackets, findSdesCname, serializeRtcpCompound } from '../../src/rtcp/index.ts';
import type { RtcpPacket } from '../../src/rtcp/index.ts';
import { parseRtpPacket } from '../../src/rtp/index.ts';
import { Pusher } from '../../src/server/push/index.ts';
import { ntpToUnixMs } from '../../src/util/ntp.ts';
import { SAMPLE } from '../helpers/server.ts';
import { capture, freeEvenPorts } from './helpers.ts';
import type { Datagram } from './helpers.ts';

/** The sample's AAC ends at 938 × 1024 samples (939 packets, the first one priming cut by the edit list). */
const PERIOD_SEC = (938 * 1024) / 48000;

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

function rtpOf(got: Datagram[]) {
  return got.map((d) => {
    const p = parseRtpPacket(d.msg);
    if (!p.ok) throw new Error(`not RTP: ${p.code}`);
    return p.value;
  });
}

function rtcpOf(got: Datagram[]): { packets: RtcpPacket[]; from: Datagram['from'] }[] {
  return got.map((d) => {
    const p = parseRtcpPackets(d.msg);
    if (!p.ok) throw new Error(`not RTCP: ${p.code}`);
    return { packets: p.value, from: d.from };
  });
}

describe('push on the wire (own capture)', () => {
  it('--loop: one continuous source per track, SRs consistent across the loop, BYE at the end, RR counted', async () => {
    const port = await freeEvenPorts(4);
    const sockets = await Promise.all([0, 1, 2, 3].map((i) => capture(port + i)));
    closers.push(...sockets.map((s) => s.close));
    const [vRtp, vRtcp, aRtp, aRtcp] = sockets as [(typeof sockets)[0], (typeof sockets)[0], (typeof sockets)[0], (typeof sockets)[0]];
    const pusher = await Pusher.open({ file: SAMPLE, to: `rtp://127.0.0.1:${port}`, loop: true, startNpt: 18, durationSec: 4 });
    // Answer the first SR on the video RTCP port with a receiver report, as a player would.
    let rrSent = false;
    vRtcp.socket.on('message', (msg, rinfo) => {
      const p = parseRtcpPackets(msg);
      if (rrSent || !p.ok) return;
      const sr = p.value.find((x) => x.type === 'sr');
      if (!sr) return;
      rrSent = true;
      const rr = serializeRtcpCompound([
        {
          type: 'rr',
          ssrc: 0x1234abcd,
          reports: [{ ssrc: sr.ssrc, fractionLost: 64, cumulativeLost: 3, extendedHighestSeq: 100, jitter: 90, lsr: 0, dlsr: 0 }],
        },
      ]);
      vRtcp.socket.send(rr, rinfo.port, rinfo.address);
    });
    await pusher.start();
    const summary = await pusher.done;
    expect(summary.reason).toBe('end of stream');

    for (const [rtpSock, rtcpSock, rate, frameTicks] of [
      [vRtp, vRtcp, 90000, 3600],
      [aRtp, aRtcp, 48000, 1024],
    ] as const) {
      const rtp = rtpOf(rtpSock.got);
      expect(rtp.length).toBeGreaterThan(50);
      const ssrc = rtp[0]!.ssrc;
      expect(new Set(rtp.map((p) => p.ssrc))).toEqual(new Set([ssrc]));
      // Sequence numbers: +1 (mod 2^16) from the first packet to the last, loop included.
      for (let i = 1; i < rtp.length; i++) expect(rtp[i]!.sequenceNumber).toBe((rtp[i - 1]!.sequenceNumber + 1) & 0xffff);
      // Timestamps relative to the first, unwrapped; one per frame, in presentation order.
      const t0 = rtp[0]!.timestamp;
      const rel = [...new Set(rtp.map((p) => (p.timestamp - t0) >>> 0))].sort((a, b) => a - b);
      const steps = rel.slice(1).map((t, i) => t - rel[i]!);
      const odd = steps.filter((s) => s !== frameTicks);
      if (rate === 90000) {
        // Video ends at 20.000 s, the loop period is 20.011 s: one step of a frame + 0.011 s.
        expect(odd).toEqual([3600 + Math.round((PERIOD_SEC - 20) * 90000)]);
        // 18.00-19.96 s then 0.00-1.96 s (the duration ends at npt 22 = 1.989 s of the second pass).
        expect(rel).toHaveLength(100);
      } else {
        expect(odd).toEqual([]);
      }
      // RTCP: SR + SDES in every compound, the last one also BYE.
      const rtcp = rtcpOf(rtcpSock.got);
      expect(rtcp.length).toBeGreaterThanOrEqual(2);
      for (const c of rtcp) {
        expect(c.packets[0]!.type).toBe('sr');
        const sdes = c.packets.find((p) => p.type === 'sdes');
        expect(sdes && sdes.type === 'sdes' ? findSdesCname(sdes, ssrc) : undefined).toMatch(/^streamlab-push-[0-9a-f]{8}@/);
      }
      const last = rtcp.at(-1)!.packets;
      expect(last.at(-1)).toEqual({ type: 'bye', ssrcs: [ssrc], reason: 'end of stream' });
      const finalSr = last[0]!;
      if (finalSr.type !== 'sr') throw new Error('no SR');
      expect(finalSr.ssrc).toBe(ssrc);
      expect(finalSr.senderInfo.packetCount).toBe(rtp.length);
      expect(finalSr.senderInfo.octetCount).toBe(rtp.reduce((n, p) => n + p.payload.length, 0));
      // The first SR (before the loop: it comes within 3.1 s of the start, RFC 3550 A.7 initial
      // interval) and the final one (after it) map NTP to RTP time at the same rate: the loop did
      // not move the timeline.
      const firstSr = rtcp[0]!.packets[0]!;
      if (firstSr.type !== 'sr') throw new Error('no SR');
      const wallMs = (sr: typeof finalSr) => ntpToUnixMs({ seconds: sr.senderInfo.ntpSeconds, fraction: sr.senderInfo.ntpFraction });
      const rtpMs = (((finalSr.senderInfo.rtpTimestamp - firstSr.senderInfo.rtpTimestamp) >>> 0) / rate) * 1000;
      expect(Math.abs(rtpMs - (wallMs(finalSr) - wallMs(firstSr)))).toBeLessThan(25);
      expect(wallMs(finalSr) - wallMs(firstSr)).toBeGreaterThan(500);
    }
    // The receiver report went back to the SRs' source and was taken as a report on the video SSRC.
    expect(rrSent).toBe(true);
    const v = summary.tracks[0]!;
    expect(v.reportsReceived).toBe(1);
    expect(v.lastReport?.fractionLost).toBe(0.25);
    expect(v.lastReport?.cumulativeLost).toBe(3);
    expect(summary.tracks[1]!.reportsReceived).toBe(0);
  }, 30_000);

  it('stop() ends a push at once with BYE on every track', async () => {
    const port = await freeEvenPorts(4);
    const sockets = await Promise.all([0, 1, 2, 3].map((i) => capture(port + i)));
    closers.push(...sockets.map((s) => s.close));
    const pusher = await Pusher.open({ file: SAMPLE, to: `rtp://127.0.0.1:${port}`, loop: true });
    await pusher.start();
    await new Promise((r) => setTimeout(r, 300));
    const summary = await pusher.stop('interrupted');
    await new Promise((r) => setTimeout(r, 100));
    expect(summary.reason).toBe('interrupted');
    for (const [rtpSock, rtcpSock] of [
      [sockets[0]!, sockets[1]!],
      [sockets[2]!, sockets[3]!],
    ]) {
      const rtp = rtpOf(rtpSock!.got);
      expect(rtp.length).toBeGreaterThan(0);
      const last = rtcpOf(rtcpSock!.got).at(-1)!.packets;
      expect(last.at(-1)).toEqual({ type: 'bye', ssrcs: [rtp[0]!.ssrc], reason: 'interrupted' });
    }
  }, 30_000);
});
