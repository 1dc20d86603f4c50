import { serializeRtcpCompound } from './compound.ts';
import { makeSdesCname } from './sdes.ts';
import type { SenderInfo } from './sender-report.ts';

/** Where the sender info starts in an SR: after the 4-byte header and the sender's SSRC. */
const SENDER_INFO_OFFSET = 8;

/**
 * The compound a sending stream emits at every RTCP interval (RFC 3550 §6.1): an SR without
 * report blocks, then SDES with the CNAME. For one SSRC everything in it but the 20 bytes of
 * sender info is constant, so it is serialized once and each report copies it and writes those 20
 * bytes: the packet goes out every few seconds per stream, rarely enough that the generic
 * serializer runs unoptimized, and a server has thousands of streams.
 */
export class SenderReportTemplate {
  private readonly bytes: Buffer;

  constructor(
    readonly ssrc: number,
    cname: string,
  ) {
    const zero: SenderInfo = { ntpSeconds: 0, ntpFraction: 0, rtpTimestamp: 0, packetCount: 0, octetCount: 0 };
    this.bytes = serializeRtcpCompound([{ type: 'sr', ssrc, senderInfo: zero, reports: [] }, makeSdesCname(ssrc, cname)]);
  }

  /** A new Buffer holding the compound with `info` (the caller may hand it to a queue). */
  make(info: SenderInfo): Buffer {
    const out = Buffer.allocUnsafe(this.bytes.length);
    this.bytes.copy(out);
    out.writeUInt32BE(info.ntpSeconds >>> 0, SENDER_INFO_OFFSET);
    out.writeUInt32BE(info.ntpFraction >>> 0, SENDER_INFO_OFFSET + 4);
    out.writeUInt32BE(info.rtpTimestamp >>> 0, SENDER_INFO_OFFSET + 8);
    out.writeUInt32BE(info.packetCount >>> 0, SENDER_INFO_OFFSET + 12);
    out.writeUInt32BE(info.octetCount >>> 0, SENDER_INFO_OFFSET + 16);
    return out;
  }
}
