/**
 * RFC 7798 packetizer for one access unit, without DONL (sprop-max-don-diff = 0, the default;
 * tx-mode SRST). Pure and stateless: the server calls it once per sample per file/track/MTU and
 * shares the payloads among sessions.
 *
 * - A NAL unit that fits goes as a single NAL unit packet (§4.4.1): the payload is the NAL itself
 *   (a view of the input, not a copy).
 * - Consecutive NAL units that fit together go as one Aggregation Packet (§4.4.2, Figure 7):
 *
 *     | PayloadHdr (Type=48) | NALU 1 Size (16) | NALU 1 | NALU 2 Size (16) | NALU 2 | ...
 *
 *   F is the OR of the units' F bits, LayerId and TID the lowest of the units' values.
 * - A NAL unit larger than the payload limit is fragmented into Fragmentation Units (§4.4.3):
 *
 *     | PayloadHdr (F, Type=49, LayerId, TID of the NAL) | FU header (S|E|FuType) | FU payload ...
 *
 *   The NAL's own 2-byte header is not sent; fragments are filled greedily.
 *
 * Access unit delimiters (type 35) are dropped, as for H.264: the timestamp and the marker bit
 * delimit access units over RTP. NAL units shorter than their 2-byte header are dropped too.
 */
import { packetizeNalUnits } from '../nal-packetizer.ts';
import type { RtpPayload } from '../types.ts';
import { H265NalType, h265NalType, isH265Keyframe } from './nal.ts';

export interface H265PacketizeOptions {
  /** Largest RTP payload in bytes (MTU minus IP, UDP and RTP headers); at least 4. */
  maxPayloadSize: number;
  /** VPS/SPS/PPS NAL units sent in front of an access unit that holds an IRAP picture, unless the
   * access unit carries a VPS, an SPS and a PPS already (in-band parameter sets). */
  parameterSets?: readonly Buffer[] | undefined;
}

const PAYLOAD_HDR = 2;
const AP_SIZE_FIELD = 2;
const FU_HEADERS = 3;
const MAX_AP_UNIT = 0xffff;

/** The NAL units to send for one access unit, in order: AUDs and units under 2 bytes removed, the
 * parameter sets put in front of an IRAP access unit that lacks them. */
export function h265NalusToSend(nalus: readonly Buffer[], parameterSets?: readonly Buffer[]): Buffer[] {
  let hasIrap = false;
  let hasVps = false;
  let hasSps = false;
  let hasPps = false;
  const kept: Buffer[] = [];
  for (const nal of nalus) {
    if (nal.length < 2) continue; // empty, or shorter than the NAL header: nothing a decoder can use
    const t = h265NalType(nal);
    if (t === H265NalType.AUD) continue;
    if (isH265Keyframe(nal)) hasIrap = true;
    else if (t === H265NalType.VPS) hasVps = true;
    else if (t === H265NalType.SPS) hasSps = true;
    else if (t === H265NalType.PPS) hasPps = true;
    kept.push(nal);
  }
  if (hasIrap && parameterSets && parameterSets.length > 0 && !(hasVps && hasSps && hasPps)) {
    return [...parameterSets.filter((p) => p.length >= 2), ...kept];
  }
  return kept;
}

function fragment(nal: Buffer, maxPayloadSize: number, out: RtpPayload[]): void {
  const hdr0 = ((nal[0] ?? 0) & 0x81) | (H265NalType.FU << 1);
  const hdr1 = nal[1] ?? 0;
  const fuType = h265NalType(nal);
  const chunk = maxPayloadSize - FU_HEADERS;
  for (let off = PAYLOAD_HDR; off < nal.length; off += chunk) {
    const end = Math.min(nal.length, off + chunk);
    const p = Buffer.allocUnsafe(FU_HEADERS + end - off);
    p[0] = hdr0;
    p[1] = hdr1;
    p[2] = (off === PAYLOAD_HDR ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | fuType;
    nal.copy(p, FU_HEADERS, off, end);
    out.push({ payload: p, marker: false });
  }
}

/** A unit shorter than its 2-byte header (never produced by the splitters) reads as zeros. */
function buildAp(units: readonly Buffer[], size: number): Buffer {
  const p = Buffer.allocUnsafe(size);
  let f = 0;
  let layerId = 63;
  let tid = 7;
  let off = PAYLOAD_HDR;
  for (const u of units) {
    f |= (u[0] ?? 0) & 0x80;
    layerId = Math.min(layerId, (((u[0] ?? 0) & 1) << 5) | ((u[1] ?? 0) >> 3));
    tid = Math.min(tid, (u[1] ?? 0) & 0x07);
    p.writeUInt16BE(u.length, off);
    u.copy(p, off + AP_SIZE_FIELD);
    off += AP_SIZE_FIELD + u.length;
  }
  p[0] = f | (H265NalType.AP << 1) | (layerId >> 5);
  p[1] = ((layerId & 0x1f) << 3) | tid;
  return p;
}

/**
 * Packetizes one access unit (NAL units without start codes or length prefixes). The marker bit is
 * set on the last payload only. Returns [] when nothing is left to send (e.g. an AUD alone).
 */
export function packetizeH265(nalus: readonly Buffer[], opts: H265PacketizeOptions): RtpPayload[] {
  const max = opts.maxPayloadSize;
  if (!Number.isInteger(max) || max < 4) throw new RangeError(`maxPayloadSize must be an integer >= 4, got ${max}`);
  const units = h265NalusToSend(nalus, opts.parameterSets);
  return packetizeNalUnits(units, max, {
    aggregateHeader: PAYLOAD_HDR,
    maxAggregatedUnit: MAX_AP_UNIT,
    buildAggregate: buildAp,
    fragment,
  });
}
