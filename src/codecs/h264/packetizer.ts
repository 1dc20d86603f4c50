/**
 * RFC 6184 packetization-mode 1 (non-interleaved) for one access unit. Pure and stateless: the
 * server calls it once per sample per file/track/MTU and shares the payloads among sessions.
 *
 * - A NAL unit that fits goes as a single NAL unit packet (§5.6): the payload is the NAL itself
 *   (a view of the input, not a copy).
 * - Consecutive NAL units that fit together go as one STAP-A (§5.7.1):
 *
 *     | STAP-A NAL HDR (F|NRI|24) | NALU 1 size (16) | NALU 1 | NALU 2 size (16) | NALU 2 | ...
 *
 *   F is the OR of the units' F bits and NRI the maximum of their NRI values.
 * - A NAL unit larger than the payload limit is fragmented as FU-A (§5.8):
 *
 *     | FU indicator (F|NRI|28) | FU header (S|E|R|type) | fragment of the NAL body ...
 *
 *   The NAL header byte itself is not sent; fragments are filled greedily.
 *
 * Access unit delimiters (type 9) are dropped: over RTP the timestamp and the marker bit delimit
 * access units, an AUD would cost a packet or a STAP-A slot per frame and tells the receiver
 * nothing, and RFC 6184 lets a sender leave it out. Empty NAL units are dropped too.
 */
import { packetizeNalUnits } from '../nal-packetizer.ts';
import type { RtpPayload } from '../types.ts';
import { NalType, nalType } from './nal.ts';

export interface H264PacketizeOptions {
  /** Largest RTP payload in bytes (MTU minus IP, UDP and RTP headers); at least 3. */
  maxPayloadSize: number;
  /** SPS/PPS NAL units sent in front of an access unit that holds an IDR slice, unless the access
   * unit carries both an SPS and a PPS already (in-band parameter sets, RFC 6184 §8.4). */
  parameterSets?: readonly Buffer[] | undefined;
}

const STAP_A_HEADER = 1;
const STAP_A_SIZE_FIELD = 2;
const FU_A_HEADER = 2;
const MAX_STAP_A_UNIT = 0xffff;

/** The NAL units to send for one access unit, in order: AUDs and empty units removed, the
 * parameter sets put in front of an IDR access unit that lacks them. */
export function h264NalusToSend(nalus: readonly Buffer[], parameterSets?: readonly Buffer[]): Buffer[] {
  let hasIdr = false;
  let hasSps = false;
  let hasPps = false;
  const kept: Buffer[] = [];
  for (const nal of nalus) {
    if (nal.length === 0) continue;
    const t = nalType(nal);
    if (t === NalType.AUD) continue;
    if (t === NalType.IDR_SLICE) hasIdr = true;
    else if (t === NalType.SPS) hasSps = true;
    else if (t === NalType.PPS) hasPps = true;
    kept.push(nal);
  }
  if (hasIdr && parameterSets && parameterSets.length > 0 && !(hasSps && hasPps)) {
    return [...parameterSets.filter((p) => p.length > 0), ...kept];
  }
  return kept;
}

function fragmentFuA(nal: Buffer, maxPayloadSize: number, out: RtpPayload[]): void {
  const indicator = ((nal[0] ?? 0) & 0xe0) | NalType.FU_A;
  const type = (nal[0] ?? 0) & 0x1f;
  const chunk = maxPayloadSize - FU_A_HEADER;
  for (let off = 1; off < nal.length; off += chunk) {
    const end = Math.min(nal.length, off + chunk);
    const p = Buffer.allocUnsafe(FU_A_HEADER + end - off);
    p[0] = indicator;
    p[1] = (off === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
    nal.copy(p, FU_A_HEADER, off, end);
    out.push({ payload: p, marker: false });
  }
}

/** An empty unit (never produced by the splitters) adds no F/NRI bits: `?? 0` keeps that explicit. */
function buildStapA(units: readonly Buffer[], size: number): Buffer {
  const p = Buffer.allocUnsafe(size);
  let f = 0;
  let nri = 0;
  let off = STAP_A_HEADER;
  for (const u of units) {
    f |= (u[0] ?? 0) & 0x80;
    nri = Math.max(nri, (u[0] ?? 0) & 0x60);
    p.writeUInt16BE(u.length, off);
    u.copy(p, off + STAP_A_SIZE_FIELD);
    off += STAP_A_SIZE_FIELD + u.length;
  }
  p[0] = f | nri | NalType.STAP_A;
  return p;
}

/**
 * Packetizes one access unit (NAL units without start codes or length prefixes). The marker bit is
 * set on the last payload only. Returns [] when nothing is left to send (e.g. an AUD alone).
 */
export function packetizeH264(nalus: readonly Buffer[], opts: H264PacketizeOptions): RtpPayload[] {
  const max = opts.maxPayloadSize;
  if (!Number.isInteger(max) || max < 3) throw new RangeError(`maxPayloadSize must be an integer >= 3, got ${max}`);
  const units = h264NalusToSend(nalus, opts.parameterSets);
  return packetizeNalUnits(units, max, {
    aggregateHeader: STAP_A_HEADER,
    maxAggregatedUnit: MAX_STAP_A_UNIT,
    buildAggregate: buildStapA,
    fragment: fragmentFuA,
  });
}
