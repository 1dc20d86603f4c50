import type { DepacketizedUnit } from './types.ts';

/**
 * What the audio depacketizers that reassemble fragmented frames (AAC RFC 3640, MPA RFC 2250)
 * share: the pieces of a frame in progress, handing a unit on (a broken one as an incomplete unit
 * without data, never as corrupt bytes), and the RTP timestamp of the n-th frame of a packet.
 */

/** A frame being reassembled from fragments. */
export interface FrameFragments {
  timestamp: number;
  parts: Buffer[];
  bytes: number;
  /** A piece went missing or did not fit: the frame is reported, not handed on. */
  broken: boolean;
}

/** Hands on one unit and counts it (an incomplete one separately). */
export function emitAudioUnit(
  out: DepacketizedUnit[],
  stats: { units: number; incompleteUnits: number },
  timestamp: number,
  data: Buffer[],
  complete: boolean,
): void {
  stats.units++;
  if (!complete) stats.incompleteUnits++;
  out.push({ timestamp, data, keyframe: complete, complete });
}

/** The unit for a finished frame: its bytes joined, or an incomplete unit when `broken`. */
export function emitFragments(
  out: DepacketizedUnit[],
  stats: { units: number; incompleteUnits: number },
  frag: FrameFragments,
  broken: boolean,
): void {
  if (broken) emitAudioUnit(out, stats, frag.timestamp, [], false);
  else emitAudioUnit(out, stats, frag.timestamp, [Buffer.concat(frag.parts, frag.bytes)], true);
}

/**
 * `ts + delta` for a later frame of the same packet: wrapped to 32 bits for a plain RTP timestamp,
 * left as it is for an extended (unwrapped) one.
 */
export function frameTimestamp(ts: number, delta: number): number {
  const t = ts + delta;
  return ts <= 0xffffffff ? t % 0x100000000 : t;
}
