/**
 * PES packet header (ISO/IEC 13818-1 §2.4.3.6, Table 2-21), the form every elementary stream
 * here uses:
 *
 *   packet_start_code_prefix 00 00 01 | stream_id (8) | PES_packet_length (16)
 *   | '10' | PES_scrambling_control '00' | PES_priority 0 | data_alignment_indicator 1
 *   | copyright 0 | original_or_copy 0
 *   | PTS_DTS_flags ('10' PTS, '11' PTS and DTS) | ESCR, ES_rate, DSM_trick_mode,
 *     additional_copy_info, PES_CRC, PES_extension flags all 0
 *   | PES_header_data_length (8) = 5 or 10 | PTS (5) | [DTS (5)]
 *
 * The DTS is written only when it differs from the PTS (absent means equal, §2.4.3.7).
 * PES_packet_length counts the bytes after it; 0 (unbounded) for video, as the standard allows
 * for video in transport streams and as ffmpeg writes, and for anything longer than 65535.
 */
import { writePesTimestamp, wrap33 } from './timestamps.ts';

export interface PesHeaderInput {
  streamId: number;
  pts90k: number;
  /** Omitted, or equal to the PTS modulo 2^33: no DTS field. */
  dts90k?: number;
  /** Bytes of elementary stream data that follow the header. */
  payloadLength: number;
  /** Write PES_packet_length 0 regardless of size (video). */
  unbounded: boolean;
}

export function pesHeaderByteLength(h: PesHeaderInput): number {
  return hasDts(h) ? 19 : 14;
}

function hasDts(h: PesHeaderInput): boolean {
  return h.dts90k !== undefined && wrap33(h.dts90k) !== wrap33(h.pts90k);
}

export function serializePesHeader(h: PesHeaderInput): Buffer {
  const withDts = hasDts(h);
  const dataLen = withDts ? 10 : 5;
  const out = Buffer.alloc(9 + dataLen);
  out[0] = 0;
  out[1] = 0;
  out[2] = 1;
  out[3] = h.streamId;
  const length = 3 + dataLen + h.payloadLength;
  out.writeUInt16BE(h.unbounded || length > 0xffff ? 0 : length, 4);
  out[6] = 0x84; // '10' | not scrambled | priority 0 | data_alignment_indicator 1 | 0 | 0
  out[7] = withDts ? 0xc0 : 0x80;
  out[8] = dataLen;
  writePesTimestamp(out, 9, withDts ? 0b0011 : 0b0010, h.pts90k);
  if (withDts) writePesTimestamp(out, 14, 0b0001, h.dts90k!);
  return out;
}
