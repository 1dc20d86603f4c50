/**
 * The 24-byte reception report block carried by SR and RR packets.
 *
 * ```
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |                 SSRC_n (SSRC of source n)                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | fraction lost |       cumulative number of packets lost       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           extended highest sequence number received           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      interarrival jitter                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         last SR (LSR)                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                   delay since last SR (DLSR)                  |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * ```
 * The cumulative number lost is a SIGNED 24-bit integer (duplicates can make it negative).
 *
 * @see RFC 3550 §6.4.1
 */

export const REPORT_BLOCK_BYTES = 24;
export const CUMULATIVE_LOST_MAX = 0x7fffff;
export const CUMULATIVE_LOST_MIN = -0x800000;

export interface ReportBlock {
  /** SSRC of the source this block reports on. */
  ssrc: number;
  /** Fraction lost since the previous report, fixed point /256 (0..255). */
  fractionLost: number;
  /** Signed 24-bit cumulative number of packets lost (-8388608..8388607). */
  cumulativeLost: number;
  /** Cycles << 16 | highest sequence number, 32 bits. */
  extendedHighestSeq: number;
  /** Interarrival jitter in RTP timestamp units (32-bit unsigned). */
  jitter: number;
  /** Middle 32 bits of the last SR's NTP timestamp, 0 if none. */
  lsr: number;
  /** Delay since that SR in 1/65536 s, 0 if none. */
  dlsr: number;
}

/** Reads a block at `offset`; the caller checked that 24 bytes are there. */
export function readReportBlock(buf: Buffer, offset: number): ReportBlock {
  const raw = buf.readUIntBE(offset + 5, 3);
  return {
    ssrc: buf.readUInt32BE(offset),
    fractionLost: buf.readUInt8(offset + 4),
    cumulativeLost: raw & 0x800000 ? raw - 0x1000000 : raw,
    extendedHighestSeq: buf.readUInt32BE(offset + 8),
    jitter: buf.readUInt32BE(offset + 12),
    lsr: buf.readUInt32BE(offset + 16),
    dlsr: buf.readUInt32BE(offset + 20),
  };
}

/** Writes a block at `offset` (24 bytes). Throws RangeError on out-of-range fields. */
export function writeReportBlock(b: ReportBlock, buf: Buffer, offset: number): void {
  if (!Number.isInteger(b.fractionLost) || b.fractionLost < 0 || b.fractionLost > 255) {
    throw new RangeError(`fractionLost out of range: ${b.fractionLost}`);
  }
  if (!Number.isInteger(b.cumulativeLost) || b.cumulativeLost < CUMULATIVE_LOST_MIN || b.cumulativeLost > CUMULATIVE_LOST_MAX) {
    throw new RangeError(`cumulativeLost out of signed 24-bit range: ${b.cumulativeLost}`);
  }
  buf.writeUInt32BE(b.ssrc >>> 0, offset);
  buf[offset + 4] = b.fractionLost;
  buf.writeUIntBE(b.cumulativeLost & 0xffffff, offset + 5, 3);
  buf.writeUInt32BE(b.extendedHighestSeq >>> 0, offset + 8);
  buf.writeUInt32BE(b.jitter >>> 0, offset + 12);
  buf.writeUInt32BE(b.lsr >>> 0, offset + 16);
  buf.writeUInt32BE(b.dlsr >>> 0, offset + 20);
}

/** Clamps a lost count to the signed 24-bit field (RFC 3550 A.3). */
export function clampCumulativeLost(lost: number): number {
  return lost > CUMULATIVE_LOST_MAX ? CUMULATIVE_LOST_MAX : lost < CUMULATIVE_LOST_MIN ? CUMULATIVE_LOST_MIN : lost;
}
