/**
 * RFC 3640 mode AAC-hbr (sizelength=13, indexlength=3, indexdeltalength=3) packetizer. Pure and
 * stateless: the payloads are made once and shared by all sessions.
 *
 *   | AU-headers-length (16, in bits) | AU-header 1 (16) | ... | AU-header n (16) | AU 1 | ... | AU n |
 *   AU-header = AU-size (13) | AU-Index (3, first) or AU-Index-delta (3, others) = 0
 *
 * Consecutive AUs share a packet while they fit (§3.2.2); its RTP timestamp is the first AU's. An AU
 * larger than one packet is fragmented (§3.2.3): every fragment carries one AU-header with the size
 * of the WHOLE AU, and the marker bit is 0 on all fragments but the last. The marker bit is 1 on
 * every packet that ends an AU.
 */
import type { RtpPayload } from '../types.ts';

export interface AacPacketizeOptions {
  /** Largest RTP payload in bytes; at least 5 (4 bytes of headers and one data byte). */
  maxPayloadSize: number;
}

/** AU-size is 13 bits in AAC-hbr. */
export const AAC_HBR_MAX_AU_SIZE = 0x1fff;
/** AU-headers-length is a 16-bit count of bits: at most 4095 16-bit AU-headers. */
const MAX_AUS_PER_PACKET = 4095;
const HEADERS_LENGTH_FIELD = 2;
const AU_HEADER = 2;

function buildPacket(aus: readonly Buffer[], dataBytes: number, auSize?: number): Buffer {
  const headers = aus.length * AU_HEADER;
  const p = Buffer.allocUnsafe(HEADERS_LENGTH_FIELD + headers + dataBytes);
  p.writeUInt16BE(aus.length * 16, 0);
  let off = HEADERS_LENGTH_FIELD;
  for (const au of aus) {
    p.writeUInt16BE((auSize ?? au.length) << 3, off); // AU-Index / AU-Index-delta = 0
    off += AU_HEADER;
  }
  for (const au of aus) {
    au.copy(p, off);
    off += au.length;
  }
  return p;
}

/**
 * Packetizes consecutive AUs (raw AAC frames without ADTS headers). The caller passes the frames it
 * wants grouped; the server normally passes one. Throws on an AU over 8191 bytes (not expressible
 * in AAC-hbr) or an empty AU.
 */
export function packetizeAac(aus: readonly Buffer[], opts: AacPacketizeOptions): RtpPayload[] {
  const max = opts.maxPayloadSize;
  if (!Number.isInteger(max) || max < 5) throw new RangeError(`maxPayloadSize must be an integer >= 5, got ${max}`);
  const out: RtpPayload[] = [];
  let group: Buffer[] = [];
  let groupData = 0;
  const flush = (): void => {
    if (group.length === 0) return;
    out.push({ payload: buildPacket(group, groupData), marker: true });
    group = [];
    groupData = 0;
  };
  for (const au of aus) {
    if (au.length === 0 || au.length > AAC_HBR_MAX_AU_SIZE) {
      throw new RangeError(`AAC AU of ${au.length} bytes: AAC-hbr carries 1..${AAC_HBR_MAX_AU_SIZE}`);
    }
    if (HEADERS_LENGTH_FIELD + AU_HEADER + au.length > max) {
      flush();
      const chunk = max - HEADERS_LENGTH_FIELD - AU_HEADER;
      for (let off = 0; off < au.length; off += chunk) {
        const end = Math.min(au.length, off + chunk);
        out.push({ payload: buildPacket([au.subarray(off, end)], end - off, au.length), marker: end === au.length });
      }
      continue;
    }
    const size = HEADERS_LENGTH_FIELD + (group.length + 1) * AU_HEADER + groupData + au.length;
    if (size > max || group.length === MAX_AUS_PER_PACKET) flush();
    group.push(au);
    groupData += au.length;
  }
  flush();
  return out;
}
