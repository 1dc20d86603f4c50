/**
 * RTCP transmission interval (RFC 3550 §6.2, §6.3.1, Appendix A.7): the deterministic interval
 * from members, senders, RTCP bandwidth and average RTCP packet size, with the 5 s minimum
 * (halved before the first report), randomized over [0.5, 1.5] and divided by e - 3/2 to
 * compensate for timer reconsideration. Randomness is injected.
 *
 * @see RFC 3550 Appendix A.7
 */

/** Minimum interval between RTCP reports, seconds. */
export const RTCP_MIN_TIME_S = 5;
/** Share of the RTCP bandwidth for senders when they are at most 25 % of the members. */
export const RTCP_SENDER_BW_FRACTION = 0.25;
export const RTCP_RCVR_BW_FRACTION = 1 - RTCP_SENDER_BW_FRACTION;
/** e - 3/2 with e truncated as in the RFC's code (2.71828 - 1.5). */
export const RTCP_COMPENSATION = 2.71828 - 1.5;
/** RTCP bandwidth as a share of the session bandwidth (§6.2). */
export const RTCP_BANDWIDTH_FRACTION = 0.05;

export interface RtcpIntervalParams {
  /** Current estimate of session members, including ourselves (>= 1). */
  members: number;
  /** Members that sent RTP since the last report, including ourselves if we did. */
  senders: number;
  /** Target RTCP bandwidth in octets per second (see rtcpBandwidthFromSession). */
  rtcpBandwidth: number;
  /** Whether we sent data since the second-to-last report. */
  weSent: boolean;
  /** Average compound RTCP size in octets, including UDP and IP headers (see updateAvgRtcpSize). */
  avgRtcpSize: number;
  /** True before our first RTCP report (halves the minimum). */
  initial: boolean;
}

/** The interval before randomization, seconds: max(min time, avg size · n / bandwidth). */
export function rtcpDeterministicInterval(p: RtcpIntervalParams): number {
  const minTime = p.initial ? RTCP_MIN_TIME_S / 2 : RTCP_MIN_TIME_S;
  let bw = p.rtcpBandwidth;
  let n = p.members;
  if (p.senders <= p.members * RTCP_SENDER_BW_FRACTION) {
    if (p.weSent) {
      bw *= RTCP_SENDER_BW_FRACTION;
      n = p.senders;
    } else {
      bw *= RTCP_RCVR_BW_FRACTION;
      n -= p.senders;
    }
  }
  const t = bw > 0 ? (p.avgRtcpSize * n) / bw : Infinity;
  return t < minTime ? minTime : t;
}

/**
 * A.7 rtcp_interval(): seconds until the next report. `random` returns a uniform number in
 * [0, 1) (e.g. a seeded Prng's next). Result in [0.5, 1.5) · deterministic / 1.21828.
 */
export function rtcpInterval(p: RtcpIntervalParams, random: () => number): number {
  const t = rtcpDeterministicInterval(p);
  return (t * (random() + 0.5)) / RTCP_COMPENSATION;
}

/** RTCP bandwidth in octets per second: 5 % of a session bandwidth given in bits per second. */
export function rtcpBandwidthFromSession(sessionBitsPerSecond: number): number {
  return (sessionBitsPerSecond / 8) * RTCP_BANDWIDTH_FRACTION;
}

/** §6.3.3 running average of compound RTCP packet size: avg = size/16 + 15/16 · avg. */
export function updateAvgRtcpSize(avg: number, packetSize: number): number {
  return packetSize / 16 + (15 / 16) * avg;
}
