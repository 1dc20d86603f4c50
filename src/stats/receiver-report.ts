/**
 * The receiver-only participant's side of RFC 3550 §6: the RR + SDES CNAME compound it sends
 * (§6.1: an RR first, even empty, then SDES with the CNAME; optional extra packets such as an
 * RFC 3611 XR; a BYE last when leaving) and its A.7 report timing (two members, one sender, us
 * not sending: with half the members sending there is no sender/receiver split, so the interval
 * is avg size · 2 / (5 % of the session bandwidth), at least 5 s, halved before the first report;
 * the average compound size is updated per report). Pure: no clock, randomness injected.
 *
 * @see RFC 3550 §6.1, §6.4.2, Appendix A.7
 */

import { makeSdesCname, serializeRtcpCompound } from '../rtcp/index.ts';
import type { ReportBlock, RtcpPacket } from '../rtcp/index.ts';
import { rtcpBandwidthFromSession, rtcpInterval, updateAvgRtcpSize } from './rtcp-interval.ts';

/** IPv4 + UDP header octets counted in the average RTCP size (§6.2). */
export const RTCP_IP_UDP_OVERHEAD = 28;

export interface ReceiverReportCompound {
  /** Our SSRC. */
  ssrc: number;
  cname: string;
  /** One block per source heard since the last report (none before the first packet). */
  reports: ReportBlock[];
  /** Packets after the SDES (e.g. an XR), before the BYE. */
  extra?: RtcpPacket[];
  /** When set, a BYE with this reason ends the compound. */
  bye?: string;
}

/** The RR [+ extra] + SDES CNAME [+ BYE] compound's packets, in RFC 3550 §6.1 order. */
export function receiverReportPackets(o: ReceiverReportCompound): RtcpPacket[] {
  const packets: RtcpPacket[] = [{ type: 'rr', ssrc: o.ssrc >>> 0, reports: o.reports }, makeSdesCname(o.ssrc >>> 0, o.cname)];
  if (o.extra) packets.push(...o.extra);
  if (o.bye !== undefined) packets.push({ type: 'bye', ssrcs: [o.ssrc >>> 0], reason: o.bye });
  return packets;
}

/** The serialized compound of receiverReportPackets. */
export function serializeReceiverReport(o: ReceiverReportCompound): Buffer {
  return serializeRtcpCompound(receiverReportPackets(o));
}

/**
 * A.7 timing of a receiver that hears one sender: call `sent` with each compound's size and
 * `nextIntervalMs` for the delay to the next report.
 */
export class ReceiverRtcpTiming {
  /** §6.3.2: initialized to the probable size of the first packet. */
  avgRtcpSize = 100;
  private initial = true;

  /** Records a compound sent (RTCP octets without IP/UDP headers). */
  sent(rtcpBytes: number): void {
    this.avgRtcpSize = updateAvgRtcpSize(this.avgRtcpSize, rtcpBytes + RTCP_IP_UDP_OVERHEAD);
  }

  /** Milliseconds to the next report for a session of `sessionBitsPerSecond`; `random` in [0, 1). */
  nextIntervalMs(sessionBitsPerSecond: number, random: () => number): number {
    const s = rtcpInterval(
      {
        members: 2,
        senders: 1,
        rtcpBandwidth: rtcpBandwidthFromSession(sessionBitsPerSecond),
        weSent: false,
        avgRtcpSize: this.avgRtcpSize,
        initial: this.initial,
      },
      random,
    );
    this.initial = false;
    return s * 1000;
  }
}
