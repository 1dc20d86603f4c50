/**
 * SDP for H.265 (RFC 7798 §7.1, §7.2): rtpmap `H265/90000` and the fmtp parameters `profile-space`,
 * `profile-id`, `tier-flag`, `level-id` (from the hvcC or the SPS profile_tier_level) and
 * `sprop-vps`, `sprop-sps`, `sprop-pps`, `sprop-sei` (base64 NAL units, comma separated).
 *
 * This implementation sends and receives without DONL: a peer that declares
 * `sprop-max-don-diff` > 0 or `sprop-depack-buf-nalus` > 0 is refused (CODEC_ERR_FMTP_UNSUPPORTED).
 */
import { codecError, type ParseResult } from '../errors.ts';
import { parseFmtpParameters, type FmtpInput } from '../fmtp-params.ts';
import { at } from '../../util/narrow.ts';

export const H265_ENCODING_NAME = 'H265';
export const H265_CLOCK_RATE = 90000;
/** The rtpmap value: `H265/90000`. */
export const H265_RTPMAP = `${H265_ENCODING_NAME}/${H265_CLOCK_RATE}`;

/** A parsed hvcC (HevcDecoderConfig) fits this shape as it is. */
export interface H265FmtpInput {
  vps: Buffer | readonly Buffer[];
  sps: Buffer | readonly Buffer[];
  pps: Buffer | readonly Buffer[];
  /** When profileIdc and levelIdc are given, profile-id, tier-flag and level-id are written
   * (and profile-space when not 0). */
  profileSpace?: number;
  tierFlag?: number;
  profileIdc?: number;
  levelIdc?: number;
}

function list(b: Buffer | readonly Buffer[]): readonly Buffer[] {
  return Buffer.isBuffer(b) ? [b] : b;
}

const b64 = (bs: readonly Buffer[]): string => bs.map((b) => b.toString('base64')).join(',');

/** `[profile-space=..;]profile-id=..;tier-flag=..;level-id=..;sprop-vps=..;sprop-sps=..;sprop-pps=..`. */
export function h265Fmtp(input: H265FmtpInput): string {
  const vps = list(input.vps);
  const sps = list(input.sps);
  const pps = list(input.pps);
  if (vps.length === 0 || sps.length === 0 || pps.length === 0) {
    throw new RangeError('h265Fmtp needs at least one VPS, SPS and PPS');
  }
  const parts: string[] = [];
  if (input.profileIdc !== undefined && input.levelIdc !== undefined) {
    if (input.profileSpace) parts.push(`profile-space=${input.profileSpace}`);
    parts.push(`profile-id=${input.profileIdc}`, `tier-flag=${input.tierFlag ?? 0}`, `level-id=${input.levelIdc}`);
  }
  parts.push(`sprop-vps=${b64(vps)}`, `sprop-sps=${b64(sps)}`, `sprop-pps=${b64(pps)}`);
  return parts.join(';');
}

export interface H265FmtpParams {
  /** Defaults from RFC 7798 §7.1 when absent: 0, 1 (Main), 0, 93 (level 3.1). */
  profileSpace: number;
  profileId: number;
  tierFlag: number;
  levelId: number;
  vps: Buffer[];
  sps: Buffer[];
  pps: Buffer[];
  sei: Buffer[];
  /** tx-mode, upper-cased; 'SRST' when absent. */
  txMode: string;
  /** Every parameter, names lower-cased. */
  params: Map<string, string>;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function intParam(params: Map<string, string>, name: string, dflt: number, max: number): ParseResult<number> {
  const v = params.get(name);
  if (v === undefined) return { ok: true, value: dflt };
  if (!/^\d{1,10}$/.test(v) || Number(v) > max) return codecError('CODEC_ERR_FMTP_BAD_PARAM', `${name}=${v}`);
  return { ok: true, value: Number(v) };
}

function setsParam(params: Map<string, string>, name: string): ParseResult<Buffer[]> {
  const v = params.get(name);
  const out: Buffer[] = [];
  if (v === undefined) return { ok: true, value: out };
  for (const item of v.split(',')) {
    const s = item.trim();
    if (s === '') continue;
    if (!BASE64.test(s) || s.replace(/=+$/, '').length % 4 === 1) {
      return codecError('CODEC_ERR_FMTP_BAD_PARAM', `${name} entry '${s}' is not base64`);
    }
    out.push(Buffer.from(s, 'base64'));
  }
  return { ok: true, value: out };
}

/** Parses the parameter part of `a=fmtp:<pt> ...` (or a name → value map) for H.265. */
export function parseH265Fmtp(input: FmtpInput): ParseResult<H265FmtpParams> {
  const params = parseFmtpParameters(input);
  const profileSpace = intParam(params, 'profile-space', 0, 3);
  if (!profileSpace.ok) return profileSpace;
  const profileId = intParam(params, 'profile-id', 1, 31);
  if (!profileId.ok) return profileId;
  const tierFlag = intParam(params, 'tier-flag', 0, 1);
  if (!tierFlag.ok) return tierFlag;
  const levelId = intParam(params, 'level-id', 93, 255);
  if (!levelId.ok) return levelId;
  for (const name of ['sprop-max-don-diff', 'sprop-depack-buf-nalus']) {
    const n = intParam(params, name, 0, 2 ** 31);
    if (!n.ok) return n;
    if (n.value > 0) return codecError('CODEC_ERR_FMTP_UNSUPPORTED', `${name}=${n.value}: DONL is not supported`);
  }
  const sets: Buffer[][] = [];
  for (const name of ['sprop-vps', 'sprop-sps', 'sprop-pps', 'sprop-sei']) {
    const r = setsParam(params, name);
    if (!r.ok) return r;
    sets.push(r.value);
  }
  return {
    ok: true,
    value: {
      profileSpace: profileSpace.value,
      profileId: profileId.value,
      tierFlag: tierFlag.value,
      levelId: levelId.value,
      vps: at(sets, 0),
      sps: at(sets, 1),
      pps: at(sets, 2),
      sei: at(sets, 3),
      txMode: (params.get('tx-mode') ?? 'SRST').toUpperCase(),
      params,
    },
  };
}
