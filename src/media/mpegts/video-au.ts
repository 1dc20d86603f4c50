import { at } from '../../util/narrow.ts';
/**
 * Access units of H.264 and H.265 as Annex B byte streams for PES payloads (ISO/IEC 13818-1
 * §2.14 and §2.17: every AU starts with an access unit delimiter; parameter sets precede a random
 * access point). Returns the chunks to write (start codes and NAL views), never copying NAL units.
 *
 * H.264: AUD nal_unit_type 9, primary_pic_type 7 (any slice types): 09 F0. Parameter sets SPS 7
 * and PPS 8 go before an AU with an IDR slice (5) or flagged as a keyframe, unless it has them.
 * H.265: AUD type 35 (header 46 01), pic_type 2 (I, P, B): 50. VPS 32, SPS 33, PPS 34 go before
 * an IRAP picture (types 16..23) or a flagged keyframe, unless present.
 */

export type VideoCodec = 'h264' | 'h265';

const START_CODE = Buffer.from([0, 0, 0, 1]);
const H264_AUD = Buffer.from([0x09, 0xf0]);
const H265_AUD = Buffer.from([0x46, 0x01, 0x50]);

export function videoNalType(codec: VideoCodec, nal: Uint8Array): number {
  if (nal.length === 0) return -1;
  return codec === 'h264' ? at(nal, 0) & 0x1f : (at(nal, 0) >> 1) & 0x3f;
}

function isAud(codec: VideoCodec, t: number): boolean {
  return codec === 'h264' ? t === 9 : t === 35;
}

function isRandomAccess(codec: VideoCodec, t: number): boolean {
  return codec === 'h264' ? t === 5 : t >= 16 && t <= 23;
}

/** nal types of the parameter sets, in the order they are written. */
export function parameterSetTypes(codec: VideoCodec): readonly number[] {
  return codec === 'h264' ? [7, 8] : [32, 33, 34];
}

/**
 * Chunks of the Annex B AU: AUD, missing parameter sets (from `paramSets`, keyed by NAL type),
 * then the AU's NAL units except other AUDs and empty ones, each behind a 4-byte start code.
 * `randomAccess`: the AU is flagged a keyframe or holds an IDR/IRAP picture.
 */
export function annexBChunks(
  codec: VideoCodec,
  nalus: readonly Uint8Array[],
  keyframe: boolean,
  paramSets: ReadonlyMap<number, readonly Uint8Array[]>,
): { chunks: Uint8Array[]; randomAccess: boolean } {
  const present = new Set<number>();
  let randomAccess = keyframe;
  for (const n of nalus) {
    const t = videoNalType(codec, n);
    present.add(t);
    if (isRandomAccess(codec, t)) randomAccess = true;
  }
  const out: Uint8Array[] = [START_CODE, codec === 'h264' ? H264_AUD : H265_AUD];
  if (randomAccess) {
    for (const t of parameterSetTypes(codec)) {
      if (present.has(t)) continue;
      for (const ps of paramSets.get(t) ?? []) out.push(START_CODE, ps);
    }
  }
  for (const n of nalus) {
    if (n.length === 0 || isAud(codec, videoNalType(codec, n))) continue;
    out.push(START_CODE, n);
  }
  return { chunks: out, randomAccess };
}
