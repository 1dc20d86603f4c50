/**
 * RFC 2250 §3.5 packetizer for MPEG audio (Layer I/II/III, MPEG-1/2/2.5):
 *
 *    0                   1                   2                   3
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |             MBZ               |          Frag_offset          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | MPEG audio frame data ...
 *
 * Consecutive whole frames share a payload while they fit (Frag_offset 0); a frame larger than one
 * payload is fragmented, each fragment carrying its byte offset in the frame. A payload never holds
 * a fragment together with another frame. Pure and stateless.
 *
 * Each payload carries `frameIndex`: the index of the frame it begins with (or is a fragment of),
 * so the caller stamps it with that frame's time on the 90 kHz clock (§3: the timestamp of the
 * first frame's presentation; all fragments of a frame share it). The marker bit is always 0.
 */
import type { RtpPayload } from '../types.ts';
import { mpaError, type MpaResult } from './errors.ts';
import { parseMpegAudioHeader } from './frame-header.ts';

export interface MpaPacketizeOptions {
  /** Largest RTP payload in bytes: at least 8 (the 4-byte payload header and, in a first
   * fragment, the whole 4-byte frame header, which the receiver reads to know the frame length). */
  maxPayloadSize: number;
}

export interface MpaPayload extends RtpPayload {
  /** Index in the input of the first (or only, fragmented) frame in this payload. */
  frameIndex: number;
}

const HEADER = 4;

function build(parts: readonly Buffer[], bytes: number, fragOffset: number): Buffer {
  const p = Buffer.allocUnsafe(HEADER + bytes);
  p.writeUInt32BE(fragOffset, 0); // MBZ = 0 | Frag_offset
  let off = HEADER;
  for (const b of parts) off += b.copy(p, off);
  return p;
}

/**
 * Packetizes whole MPEG audio frames (each with its 4-byte header). Every frame must parse and be
 * exactly as long as its header says (the receiver splits aggregated frames by their headers);
 * otherwise the result is an error with `offset` = the frame index. Free-format streams are not
 * supported (CODEC_ERR_MPA_FREE_FORMAT). Throws a RangeError on a bad maxPayloadSize.
 */
export function packetizeMpa(frames: readonly Buffer[], opts: MpaPacketizeOptions): MpaResult<MpaPayload[]> {
  const max = opts.maxPayloadSize;
  if (!Number.isInteger(max) || max < 2 * HEADER) throw new RangeError(`maxPayloadSize must be an integer >= 8, got ${max}`);
  const out: MpaPayload[] = [];
  let group: Buffer[] = [];
  let groupBytes = 0;
  let groupFirst = 0;
  const flush = (): void => {
    if (group.length > 0) out.push({ payload: build(group, groupBytes, 0), marker: false, frameIndex: groupFirst });
    group = [];
    groupBytes = 0;
  };
  for (const [i, frame] of frames.entries()) {
    const h = parseMpegAudioHeader(frame);
    if (!h.ok) return mpaError(h.code, `frame ${i}: ${h.message}`, i);
    if (h.value.frameLength !== frame.length) {
      return mpaError('CODEC_ERR_MPA_BAD_FRAME_LENGTH', `frame ${i} of ${frame.length} bytes, header says ${h.value.frameLength}`, i);
    }
    if (HEADER + frame.length > max) {
      flush();
      const chunk = max - HEADER;
      for (let off = 0; off < frame.length; off += chunk) {
        const part = frame.subarray(off, Math.min(frame.length, off + chunk));
        out.push({ payload: build([part], part.length, off), marker: false, frameIndex: i });
      }
      continue;
    }
    if (HEADER + groupBytes + frame.length > max) flush();
    if (group.length === 0) groupFirst = i;
    group.push(frame);
    groupBytes += frame.length;
  }
  flush();
  return { ok: true, value: out };
}
