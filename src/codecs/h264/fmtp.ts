/**
 * SDP for H.264 (RFC 6184 §8.1, §8.2.1): rtpmap `H264/90000` and the fmtp parameters
 * `packetization-mode`, `profile-level-id` (profile_idc, constraint flags and level_idc: SPS bytes
 * 1..3 in hex) and `sprop-parameter-sets` (base64 SPS and PPS NAL units, comma separated).
 */
import { codecError, type ParseResult } from '../errors.ts';
import { parseFmtpParameters, type FmtpInput } from '../fmtp-params.ts';
import { NalType } from './nal.ts';

export const H264_ENCODING_NAME = 'H264';
export const H264_CLOCK_RATE = 90000;
/** The rtpmap value: `H264/90000`. */
export const H264_RTPMAP = `${H264_ENCODING_NAME}/${H264_CLOCK_RATE}`;

export interface H264FmtpInput {
  /** SPS NAL unit(s); profile-level-id comes from the first one's bytes 1..3. */
  sps: Buffer | readonly Buffer[];
  pps: Buffer | readonly Buffer[];
}

function list(b: Buffer | readonly Buffer[]): readonly Buffer[] {
  return Buffer.isBuffer(b) ? [b] : b;
}

/** `packetization-mode=1;profile-level-id=<hex>;sprop-parameter-sets=<SPS>,<PPS>`. */
export function h264Fmtp(input: H264FmtpInput): string {
  const sps = list(input.sps);
  const pps = list(input.pps);
  const first = sps[0];
  if (!first || first.length < 4) throw new RangeError('h264Fmtp needs an SPS of at least 4 bytes');
  const profileLevelId = first.subarray(1, 4).toString('hex');
  const sets = [...sps, ...pps].map((b) => b.toString('base64')).join(',');
  return `packetization-mode=1;profile-level-id=${profileLevelId};sprop-parameter-sets=${sets}`;
}

export interface H264FmtpParams {
  /** 0 when absent (RFC 6184 §8.1). This depacketizer handles 0 and 1. */
  packetizationMode: number;
  /** Undefined when absent or not 6 hex digits (it is informative; the SPS is authoritative). */
  profileLevelId?: { profileIdc: number; profileIop: number; levelIdc: number };
  sps: Buffer[];
  pps: Buffer[];
  /** Parameter sets of other NAL types found in sprop-parameter-sets (e.g. SPS extension). */
  otherSets: Buffer[];
  /** Every parameter, names lower-cased. */
  params: Map<string, string>;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses the parameter part of `a=fmtp:<pt> ...` (or a name → value map) for H.264. */
export function parseH264Fmtp(input: FmtpInput): ParseResult<H264FmtpParams> {
  const params = parseFmtpParameters(input);
  const value: H264FmtpParams = { packetizationMode: 0, sps: [], pps: [], otherSets: [], params };
  const mode = params.get('packetization-mode');
  if (mode !== undefined) {
    if (!/^\d{1,3}$/.test(mode)) return codecError('CODEC_ERR_FMTP_BAD_PARAM', `packetization-mode=${mode}`);
    value.packetizationMode = Number(mode);
  }
  const pli = params.get('profile-level-id');
  if (pli !== undefined && /^[0-9a-fA-F]{6}$/.test(pli)) {
    const n = parseInt(pli, 16);
    value.profileLevelId = { profileIdc: n >> 16, profileIop: (n >> 8) & 0xff, levelIdc: n & 0xff };
  }
  const sprop = params.get('sprop-parameter-sets');
  if (sprop !== undefined) {
    for (const item of sprop.split(',')) {
      const s = item.trim();
      if (s === '') continue;
      if (!BASE64.test(s) || s.replace(/=+$/, '').length % 4 === 1) {
        return codecError('CODEC_ERR_FMTP_BAD_PARAM', `sprop-parameter-sets entry '${s}' is not base64`);
      }
      const nal = Buffer.from(s, 'base64');
      const t = nal.readUInt8(0) & 0x1f; // BASE64 and the length rule above leave at least one byte
      if (t === NalType.SPS) value.sps.push(nal);
      else if (t === NalType.PPS) value.pps.push(nal);
      else value.otherSets.push(nal);
    }
  }
  return { ok: true, value };
}
