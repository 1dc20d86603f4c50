/**
 * SDP for AAC over RFC 3640 (§4.1): rtpmap `mpeg4-generic/<rate>/<channels>` and the fmtp
 * parameters of mode AAC-hbr: `streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;
 * indexlength=3;indexdeltalength=3;config=<AudioSpecificConfig hex>`.
 */
import { codecError, type ParseResult } from '../errors.ts';
import { parseFmtpParameters, type FmtpInput } from '../fmtp-params.ts';

export const AAC_ENCODING_NAME = 'mpeg4-generic';

/** The rtpmap value, e.g. `mpeg4-generic/48000/2`. */
export function aacRtpmap(sampleRate: number, channels: number): string {
  return `${AAC_ENCODING_NAME}/${sampleRate}/${channels}`;
}

export interface AacFmtpInput {
  /** The AudioSpecificConfig bytes. */
  config: Buffer;
  /** MPEG-4 audio profile-level-id (default 1, as ffmpeg and GStreamer send). */
  profileLevelId?: number;
}

export function aacFmtp(input: AacFmtpInput): string {
  const pli = input.profileLevelId ?? 1;
  return (
    `streamtype=5;profile-level-id=${pli};mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;` +
    `config=${input.config.toString('hex')}`
  );
}

export interface AacFmtpParams {
  /** As sent, e.g. 'AAC-hbr' (compared case-insensitively by users of this value). */
  mode: string;
  streamType?: number;
  profileLevelId?: number;
  sizeLength: number;
  indexLength: number;
  indexDeltaLength: number;
  /** AudioSpecificConfig bytes from `config=`. */
  config: Buffer;
  /** `constantDuration` when given (samples per AU). */
  constantDuration?: number;
  /** Every parameter, names lower-cased. */
  params: Map<string, string>;
}

/** AU-header fields this depacketizer does not read: each must be absent or 0. */
const UNSUPPORTED_LENGTHS = [
  'ctsdeltalength',
  'dtsdeltalength',
  'randomaccessindication',
  'streamstateindication',
  'auxiliarydatasizelength',
];

function intParam(params: Map<string, string>, name: string): number | undefined | null {
  const v = params.get(name);
  if (v === undefined) return undefined;
  return /^\d{1,9}$/.test(v) ? Number(v) : null;
}

/** Parses the parameter part of `a=fmtp:<pt> ...` for mpeg4-generic audio. */
export function parseAacFmtp(input: FmtpInput): ParseResult<AacFmtpParams> {
  const params = parseFmtpParameters(input);
  const mode = params.get('mode');
  if (mode === undefined) return codecError('CODEC_ERR_FMTP_MISSING_PARAM', 'mode missing');
  const config = params.get('config');
  if (config === undefined) return codecError('CODEC_ERR_FMTP_MISSING_PARAM', 'config missing');
  if (!/^([0-9a-fA-F]{2})+$/.test(config)) return codecError('CODEC_ERR_FMTP_BAD_PARAM', `config=${config}`);
  const ints: Record<string, number | undefined> = {};
  for (const name of [
    'streamtype',
    'profile-level-id',
    'sizelength',
    'indexlength',
    'indexdeltalength',
    'constantduration',
    ...UNSUPPORTED_LENGTHS,
  ]) {
    const v = intParam(params, name);
    if (v === null) return codecError('CODEC_ERR_FMTP_BAD_PARAM', `${name}=${params.get(name)}`);
    ints[name] = v;
  }
  for (const name of UNSUPPORTED_LENGTHS) {
    if (ints[name]) return codecError('CODEC_ERR_FMTP_UNSUPPORTED', `${name}=${ints[name]}`);
  }
  const sizeLength = ints['sizelength'];
  if (sizeLength === undefined || sizeLength === 0) {
    return codecError('CODEC_ERR_FMTP_MISSING_PARAM', 'sizelength missing (AU headers without AU-size are not supported)');
  }
  if (sizeLength > 32 || (ints['indexlength'] ?? 0) > 32 || (ints['indexdeltalength'] ?? 0) > 32) {
    return codecError('CODEC_ERR_FMTP_BAD_PARAM', 'AU-header field longer than 32 bits');
  }
  const value: AacFmtpParams = {
    mode,
    sizeLength,
    indexLength: ints['indexlength'] ?? 0,
    indexDeltaLength: ints['indexdeltalength'] ?? 0,
    config: Buffer.from(config, 'hex'),
    params,
  };
  if (ints['streamtype'] !== undefined) value.streamType = ints['streamtype'];
  if (ints['profile-level-id'] !== undefined) value.profileLevelId = ints['profile-level-id'];
  if (ints['constantduration'] !== undefined) value.constantDuration = ints['constantduration'];
  return { ok: true, value };
}
