/**
 * Sender-side counters and the SR sender-info block (RFC 3550 §6.4.1): packets and payload octets
 * sent (reported modulo 2^32), and the NTP/RTP timestamp pair for "now" that receivers use for
 * lip sync and RTT. The caller supplies wall-clock time and the RTP timestamp matching it.
 *
 * @see RFC 3550 §6.4.1
 */

import type { SenderInfo } from '../rtcp/index.ts';
import { ntpFromUnixMs } from '../util/ntp.ts';
import { tsAdd } from '../util/seq.ts';

export class SenderStats {
  /** RTP packets sent (unbounded; reported mod 2^32). */
  packets = 0;
  /** Payload octets sent, headers and padding excluded (unbounded; reported mod 2^32). */
  octets = 0;

  onPacketSent(payloadBytes: number): void {
    this.packets++;
    this.octets += payloadBytes;
  }

  /** RFC 3550 §6.4.1: counters reset when the SSRC changes. */
  reset(): void {
    this.packets = 0;
    this.octets = 0;
  }

  /** Sender info for an SR at wall-clock `wallNowMs` whose RTP time is `rtpTimestampNow`. */
  senderInfo(wallNowMs: number, rtpTimestampNow: number): SenderInfo {
    return makeSenderInfo(wallNowMs, rtpTimestampNow, this.packets, this.octets);
  }
}

/**
 * The SR sender-info block: NTP time of `wallNowMs` (Unix ms), the RTP timestamp of that same
 * instant, and the packet/octet counters taken modulo 2^32.
 */
export function makeSenderInfo(wallNowMs: number, rtpTimestampNow: number, packetCount: number, octetCount: number): SenderInfo {
  const ntp = ntpFromUnixMs(wallNowMs);
  return {
    ntpSeconds: ntp.seconds,
    ntpFraction: ntp.fraction,
    rtpTimestamp: rtpTimestampNow >>> 0,
    packetCount: packetCount % 0x1_0000_0000,
    octetCount: octetCount % 0x1_0000_0000,
  };
}

/**
 * RTP timestamp at `nowMs` for a stream whose timestamp was `rtpAtRef` at `refMs` (same clock),
 * advancing at `clockRate` Hz: rtpAtRef + round((nowMs - refMs) · clockRate / 1000), mod 2^32.
 */
export function rtpTimestampAt(rtpAtRef: number, refMs: number, nowMs: number, clockRate: number): number {
  return tsAdd(rtpAtRef, Math.round(((nowMs - refMs) * clockRate) / 1000));
}
