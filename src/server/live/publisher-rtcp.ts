/**
 * A publisher track's RTCP as an RTP receiver (RFC 3550 §6, §6.4.2): a ReceiverSource per
 * publisher SSRC fed by every valid RTP packet (server clock arrival times, the announced clock
 * rate), the LSR/DLSR of that SSRC's last SR, and the RR + SDES CNAME compound (BYE when the
 * session ends) at the A.7 interval of a receiver-only participant. No sockets or timers here:
 * the publisher session sends the bytes and schedules `report`.
 *
 * A new publisher SSRC (a restarted encoder) replaces the source: the reports then describe the
 * source that is sending now.
 */

import { ReceiverRtcpTiming, ReceiverSource, serializeReceiverReport } from '../../stats/index.ts';

/** Session bandwidth when the announced SDP has no b=AS, bits per second (as the receiver's). */
export function defaultSessionBps(media: string): number {
  return media === 'video' ? 1_000_000 : 128_000;
}

export interface PublisherRtcpOptions {
  /** Our SSRC in this track's RTP session. */
  ssrc: number;
  cname: string;
  clockRate: number;
  /** Session bandwidth (b=AS of the announced track), bits per second. */
  sessionBps: number;
}

export class PublisherTrackRtcp {
  private source: ReceiverSource | undefined;
  private readonly timing = new ReceiverRtcpTiming();
  reportsSent = 0;

  constructor(readonly o: PublisherRtcpOptions) {}

  /** The publisher source being reported on (undefined before its first packet). */
  get current(): ReceiverSource | undefined {
    return this.source;
  }

  /** A valid RTP packet of the publisher arrived at `arrivalMs` (server clock). */
  onRtp(ssrc: number, seq: number, timestamp: number, arrivalMs: number, payloadBytes: number): void {
    if (!this.source || this.source.ssrc !== ssrc >>> 0) this.source = new ReceiverSource(ssrc, { clockRate: this.o.clockRate });
    this.source.onRtp(seq, timestamp, arrivalMs, payloadBytes);
  }

  /** An SR of `ssrc` (its NTP timestamp's middle 32 bits) arrived at `arrivalMs`. */
  onSenderReport(ssrc: number, ntpMiddle32: number, arrivalMs: number): void {
    if (this.source && this.source.ssrc === ssrc >>> 0) this.source.onSenderReport(ntpMiddle32, arrivalMs);
  }

  /** The compound to send at `nowMs` (starts a new loss interval); with a BYE when `bye` is set. */
  report(nowMs: number, bye?: string): Buffer {
    const reports = this.source ? [this.source.makeReportBlock(nowMs)] : [];
    const buf = serializeReceiverReport({ ssrc: this.o.ssrc, cname: this.o.cname, reports, ...(bye !== undefined ? { bye } : {}) });
    this.timing.sent(buf.length);
    this.reportsSent++;
    return buf;
  }

  /** Milliseconds to the next report (A.7); `random` in [0, 1). */
  nextIntervalMs(random: () => number): number {
    return this.timing.nextIntervalMs(this.o.sessionBps, random);
  }
}
