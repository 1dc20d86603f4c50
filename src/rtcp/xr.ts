/**
 * RTCP Extended Reports (XR, PT=207), RFC 3611: the packet and its report blocks. Interpreted
 * blocks: the two that let a receive-only endpoint measure round-trip time (§4.4, §4.5), the
 * Receiver Reference Time Report (RRTR, BT=4) a receiver sends with its NTP time and the DLRR
 * (BT=5) the sender answers with (RTT = A − LRR − DLRR, in compact NTP, as RFC 3550 §6.4.1); and
 * the VoIP Metrics block (BT=7, §4.7) in which a receiver reports its loss and discard rates,
 * burst/gap figures, delays, jitter buffer and quality estimates. Any other block type is kept
 * opaque (type, type-specific byte, body).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |V=2|P|reserved |   PT=XR=207   |             length            |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                              SSRC                             |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  :                         report blocks                         :
 *  block: |     BT      | type-specific |  block length (words − 1) |
 *  RRTR:  BT=4, 0, length=2 | NTP timestamp, most significant word | least significant word
 *  DLRR:  BT=5, 0, length=3n | n × (SSRC_i | last RR (LRR) | delay since last RR (DLRR))
 *  VoIP metrics: BT=7, 0, length=8 | SSRC of source | loss rate, discard rate, burst density,
 *         gap density (8 bits each) | burst duration, gap duration (ms) | round trip delay, end
 *         system delay (ms) | signal level, noise level, RERL, Gmin | R factor, ext. R factor,
 *         MOS-LQ, MOS-CQ | RX config, reserved, JB nominal (ms) | JB maximum, JB abs max (ms)
 *
 * @see RFC 3611 §2, §3, §4.4, §4.5, §4.7
 */
import { rtcpError, type RtcpParseResult } from './errors.ts';
import { RTCP_HEADER_BYTES, writeRtcpHeader } from './header.ts';

export const RTCP_PT_XR = 207;
/**
 * RFC 3611 §4.7.2's recommended Gmin: a lost packet with at least Gmin received packets on each
 * side is a gap loss; closer losses chain into a burst.
 */
export const RFC3611_GMIN = 16;
export const XR_BT_RRTR = 4;
export const XR_BT_DLRR = 5;
export const XR_BT_VOIP_METRICS = 7;
/** RFC 3611 §4.7: the value of a VoIP metric that is not available (levels, R factors, MOS). */
export const XR_UNAVAILABLE = 127;
const VOIP_METRICS_BODY = 32;
const BLOCK_HEADER = 4;
const DLRR_SUB_BLOCK = 12;

/** RRTR (BT=4): the receiver's NTP timestamp when it sent the report. */
export interface XrRrtr {
  type: 'rrtr';
  ntpSeconds: number;
  ntpFraction: number;
}

/** One DLRR sub-block: the middle 32 bits of the last RRTR from `ssrc` and the delay since (1/65536 s). */
export interface DlrrItem {
  ssrc: number;
  lastRr: number;
  delaySinceLastRr: number;
}

export interface XrDlrr {
  type: 'dlrr';
  items: DlrrItem[];
}

/** A block type not interpreted here: its BT, type-specific byte and body (a view, whole words). */
export interface XrOpaqueBlock {
  type: 'opaque';
  blockType: number;
  typeSpecific: number;
  body: Buffer;
}

/**
 * VoIP Metrics (BT=7, RFC 3611 §4.7) about the source `ssrc`, the fields as on the wire: rates
 * and densities are fractions × 256 (0..255), durations and delays in ms (0..65535); signal and
 * noise level are signed dBm; R factors 0..100 and MOS × 10 (10..50), XR_UNAVAILABLE (127) when
 * not known. RX config: PLC (bits 7-6: 3 standard, 2 enhanced, 1 disabled, 0 unspecified), JBA
 * (bits 5-4: 3 adaptive, 2 non-adaptive, 0 unknown), JB rate (bits 3-0).
 */
export interface XrVoipMetrics {
  type: 'voip-metrics';
  ssrc: number;
  lossRate: number;
  discardRate: number;
  burstDensity: number;
  gapDensity: number;
  burstDurationMs: number;
  gapDurationMs: number;
  roundTripDelayMs: number;
  endSystemDelayMs: number;
  signalLevel: number;
  noiseLevel: number;
  rerl: number;
  gmin: number;
  rFactor: number;
  extRFactor: number;
  mosLq: number;
  mosCq: number;
  rxConfig: number;
  jbNominalMs: number;
  jbMaximumMs: number;
  jbAbsMaxMs: number;
}

export type XrBlock = XrRrtr | XrDlrr | XrVoipMetrics | XrOpaqueBlock;

export interface RtcpXr {
  type: 'xr';
  ssrc: number;
  blocks: XrBlock[];
}

/** Decodes the body of an XR packet (after the common header, padding removed). */
export function decodeXr(body: Buffer, offset: number): RtcpParseResult<RtcpXr> {
  if (body.length < 4) return rtcpError('RTCP_ERR_SHORT_BODY', `XR of ${body.length} bytes has no SSRC`, offset, RTCP_PT_XR);
  const ssrc = body.readUInt32BE(0);
  const blocks: XrBlock[] = [];
  let o = 4;
  while (o < body.length) {
    const at = offset + RTCP_HEADER_BYTES + o;
    if (body.length - o < BLOCK_HEADER)
      return rtcpError('RTCP_ERR_XR_BLOCK_OVERFLOW', `${body.length - o} bytes left for an XR block header`, at, RTCP_PT_XR);
    const bt = body.readUInt8(o);
    const typeSpecific = body.readUInt8(o + 1);
    const size = (body.readUInt16BE(o + 2) + 1) * 4;
    if (o + size > body.length)
      return rtcpError('RTCP_ERR_XR_BLOCK_OVERFLOW', `XR block of ${size} bytes exceeds the packet`, at, RTCP_PT_XR);
    const content = body.subarray(o + BLOCK_HEADER, o + size);
    if (bt === XR_BT_RRTR) {
      if (content.length !== 8) return rtcpError('RTCP_ERR_XR_BAD_BLOCK', `RRTR block of ${size} bytes (must be 12)`, at, RTCP_PT_XR);
      blocks.push({ type: 'rrtr', ntpSeconds: content.readUInt32BE(0), ntpFraction: content.readUInt32BE(4) });
    } else if (bt === XR_BT_DLRR) {
      if (content.length % DLRR_SUB_BLOCK !== 0)
        return rtcpError('RTCP_ERR_XR_BAD_BLOCK', `DLRR block of ${size} bytes (4 + 12n)`, at, RTCP_PT_XR);
      const items: DlrrItem[] = [];
      for (let i = 0; i < content.length; i += DLRR_SUB_BLOCK) {
        items.push({ ssrc: content.readUInt32BE(i), lastRr: content.readUInt32BE(i + 4), delaySinceLastRr: content.readUInt32BE(i + 8) });
      }
      blocks.push({ type: 'dlrr', items });
    } else if (bt === XR_BT_VOIP_METRICS) {
      if (content.length !== VOIP_METRICS_BODY)
        return rtcpError('RTCP_ERR_XR_BAD_BLOCK', `VoIP metrics block of ${size} bytes (must be 36)`, at, RTCP_PT_XR);
      blocks.push(decodeVoipMetrics(content));
    } else {
      blocks.push({ type: 'opaque', blockType: bt, typeSpecific, body: content });
    }
    o += size;
  }
  return { ok: true, value: { type: 'xr', ssrc, blocks } };
}

function decodeVoipMetrics(c: Buffer): XrVoipMetrics {
  return {
    type: 'voip-metrics',
    ssrc: c.readUInt32BE(0),
    lossRate: c.readUInt8(4),
    discardRate: c.readUInt8(5),
    burstDensity: c.readUInt8(6),
    gapDensity: c.readUInt8(7),
    burstDurationMs: c.readUInt16BE(8),
    gapDurationMs: c.readUInt16BE(10),
    roundTripDelayMs: c.readUInt16BE(12),
    endSystemDelayMs: c.readUInt16BE(14),
    signalLevel: c.readInt8(16),
    noiseLevel: c.readInt8(17),
    rerl: c.readUInt8(18),
    gmin: c.readUInt8(19),
    rFactor: c.readUInt8(20),
    extRFactor: c.readUInt8(21),
    mosLq: c.readUInt8(22),
    mosCq: c.readUInt8(23),
    rxConfig: c.readUInt8(24),
    jbNominalMs: c.readUInt16BE(26),
    jbMaximumMs: c.readUInt16BE(28),
    jbAbsMaxMs: c.readUInt16BE(30),
  };
}

function checkedInt(v: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`VoIP metrics ${what} is not in ${min}..${max}: ${v}`);
  return v;
}

function writeVoipMetrics(b: XrVoipMetrics, buf: Buffer, at: number): void {
  const u8 = (v: number, what: string) => checkedInt(v, 0, 255, what);
  const u16 = (v: number, what: string) => checkedInt(v, 0, 0xffff, what);
  buf.writeUInt32BE(u32(b.ssrc, 'VoIP metrics SSRC'), at);
  buf.writeUInt8(u8(b.lossRate, 'loss rate'), at + 4);
  buf.writeUInt8(u8(b.discardRate, 'discard rate'), at + 5);
  buf.writeUInt8(u8(b.burstDensity, 'burst density'), at + 6);
  buf.writeUInt8(u8(b.gapDensity, 'gap density'), at + 7);
  buf.writeUInt16BE(u16(b.burstDurationMs, 'burst duration'), at + 8);
  buf.writeUInt16BE(u16(b.gapDurationMs, 'gap duration'), at + 10);
  buf.writeUInt16BE(u16(b.roundTripDelayMs, 'round trip delay'), at + 12);
  buf.writeUInt16BE(u16(b.endSystemDelayMs, 'end system delay'), at + 14);
  buf.writeInt8(checkedInt(b.signalLevel, -128, 127, 'signal level'), at + 16);
  buf.writeInt8(checkedInt(b.noiseLevel, -128, 127, 'noise level'), at + 17);
  buf.writeUInt8(u8(b.rerl, 'RERL'), at + 18);
  buf.writeUInt8(u8(b.gmin, 'Gmin'), at + 19);
  buf.writeUInt8(u8(b.rFactor, 'R factor'), at + 20);
  buf.writeUInt8(u8(b.extRFactor, 'ext. R factor'), at + 21);
  buf.writeUInt8(u8(b.mosLq, 'MOS-LQ'), at + 22);
  buf.writeUInt8(u8(b.mosCq, 'MOS-CQ'), at + 23);
  buf.writeUInt8(u8(b.rxConfig, 'RX config'), at + 24);
  buf.writeUInt8(0, at + 25);
  buf.writeUInt16BE(u16(b.jbNominalMs, 'JB nominal'), at + 26);
  buf.writeUInt16BE(u16(b.jbMaximumMs, 'JB maximum'), at + 28);
  buf.writeUInt16BE(u16(b.jbAbsMaxMs, 'JB abs max'), at + 30);
}

function blockByteLength(b: XrBlock): number {
  switch (b.type) {
    case 'rrtr':
      return BLOCK_HEADER + 8;
    case 'voip-metrics':
      return BLOCK_HEADER + VOIP_METRICS_BODY;
    case 'dlrr':
      return BLOCK_HEADER + DLRR_SUB_BLOCK * b.items.length;
    case 'opaque':
      return BLOCK_HEADER + b.body.length;
  }
}

/** Size in bytes of the packet. Must match serializeXrInto. */
export function xrByteLength(p: RtcpXr): number {
  return RTCP_HEADER_BYTES + 4 + p.blocks.reduce((n, b) => n + blockByteLength(b), 0);
}

const u32 = (v: number, what: string) => {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new RangeError(`${what} is not a 32-bit unsigned integer: ${v}`);
  return v;
};

/** Writes the packet at `offset`; returns bytes written. Throws RangeError on bad fields. */
export function serializeXrInto(p: RtcpXr, buf: Buffer, offset: number): number {
  const size = xrByteLength(p);
  writeRtcpHeader(buf, offset, 0, RTCP_PT_XR, size);
  buf.writeUInt32BE(u32(p.ssrc, 'XR SSRC'), offset + 4);
  let o = offset + 8;
  for (const b of p.blocks) {
    const n = blockByteLength(b);
    if (
      b.type === 'opaque' &&
      (b.body.length % 4 !== 0 || b.blockType < 0 || b.blockType > 255 || b.typeSpecific < 0 || b.typeSpecific > 255)
    ) {
      throw new RangeError('opaque XR block: body must be whole words, BT and type-specific one byte each');
    }
    buf[o] = b.type === 'rrtr' ? XR_BT_RRTR : b.type === 'dlrr' ? XR_BT_DLRR : b.type === 'voip-metrics' ? XR_BT_VOIP_METRICS : b.blockType;
    buf[o + 1] = b.type === 'opaque' ? b.typeSpecific : 0;
    buf.writeUInt16BE(n / 4 - 1, o + 2);
    if (b.type === 'rrtr') {
      buf.writeUInt32BE(u32(b.ntpSeconds, 'RRTR NTP seconds'), o + 4);
      buf.writeUInt32BE(u32(b.ntpFraction, 'RRTR NTP fraction'), o + 8);
    } else if (b.type === 'voip-metrics') {
      writeVoipMetrics(b, buf, o + 4);
    } else if (b.type === 'dlrr') {
      b.items.forEach((it, i) => {
        const at = o + 4 + i * DLRR_SUB_BLOCK;
        buf.writeUInt32BE(u32(it.ssrc, 'DLRR SSRC'), at);
        buf.writeUInt32BE(u32(it.lastRr, 'DLRR LRR'), at + 4);
        buf.writeUInt32BE(u32(it.delaySinceLastRr, 'DLRR delay'), at + 8);
      });
    } else {
      b.body.copy(buf, o + 4);
    }
    o += n;
  }
  return size;
}

/**
 * Round-trip time in ms from a DLRR sub-block and the arrival time A of the packet that carried
 * it, all compact NTP (RFC 3611 §4.5): A − LRR − DLRR modulo 2^32. Undefined when LRR is 0 (no
 * RRTR received yet) or the result is negative (clock trouble).
 */
export function rttFromDlrr(item: DlrrItem, arrivalCompactNtp: number): number | undefined {
  if (item.lastRr === 0) return undefined;
  const rtt = (arrivalCompactNtp - item.lastRr - item.delaySinceLastRr) | 0;
  if (rtt < 0) return undefined;
  return ((rtt >>> 0) * 1000) / 65536;
}
