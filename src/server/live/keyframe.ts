/**
 * Does an RTP payload start an access unit a decoder can begin with? Used to start a new video
 * viewer of a published channel at a keyframe. Pure; looks at the first bytes only.
 */

/** H.264 (RFC 6184): an IDR slice or SPS, alone, first in a STAP-A, or at the start of an FU-A. */
export function h264StartsKeyframe(p: Uint8Array): boolean {
  if (p.length < 1) return false;
  const type = p[0]! & 0x1f;
  const isKey = (t: number) => t === 5 || t === 7;
  if (type === 24) return p.length > 3 && isKey(p[3]! & 0x1f); // STAP-A: [hdr][size16][nal...]
  if (type === 28) return p.length > 1 && (p[1]! & 0x80) !== 0 && isKey(p[1]! & 0x1f); // FU-A start
  return isKey(type);
}

/** H.265 (RFC 7798): an IRAP picture (types 16-21) or VPS/SPS, alone, first in an AP, or an FU start. */
export function h265StartsKeyframe(p: Uint8Array): boolean {
  if (p.length < 2) return false;
  const type = (p[0]! >> 1) & 0x3f;
  const isKey = (t: number) => (t >= 16 && t <= 21) || t === 32 || t === 33;
  if (type === 48) return p.length > 4 && isKey((p[4]! >> 1) & 0x3f); // AP: [hdr2][size16][nal...]
  if (type === 49) return p.length > 2 && (p[2]! & 0x80) !== 0 && isKey(p[2]! & 0x3f); // FU start
  return isKey(type);
}

/** The detector for an rtpmap encoding name; undefined when we cannot tell (viewers then join at once). */
export function keyframeDetectorFor(encodingName: string): ((payload: Uint8Array) => boolean) | undefined {
  const e = encodingName.toUpperCase();
  if (e === 'H264') return h264StartsKeyframe;
  if (e === 'H265') return h265StartsKeyframe;
  return undefined;
}
