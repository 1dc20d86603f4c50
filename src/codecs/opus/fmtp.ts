/**
 * SDP for Opus over RTP (RFC 7587 §7): the rtpmap is ALWAYS `opus/48000/2` whatever the real
 * sampling rate and channel count; stereo is signalled in the fmtp: `sprop-stereo` (what this
 * sender sends) and `stereo` (what this side prefers to receive), both 0 or 1.
 */
import { codecError, type ParseResult } from '../errors.ts';
import { parseFmtpParameters, type FmtpInput } from '../fmtp-params.ts';

export const OPUS_ENCODING_NAME = 'opus';
/** The RTP clock of Opus, whatever the encoder's internal rate (§4.1). */
export const OPUS_CLOCK_RATE = 48000;

/** The rtpmap value: always `opus/48000/2` (§7). */
export function opusRtpmap(): string {
  return `${OPUS_ENCODING_NAME}/${OPUS_CLOCK_RATE}/2`;
}

export interface OpusFmtpInput {
  /** The stream's real channel count (1 or 2). */
  channels: number;
}

/** `sprop-stereo=1;stereo=1` for a stereo stream, `sprop-stereo=0;stereo=0` for mono. */
export function opusFmtp(input: OpusFmtpInput): string {
  const s = input.channels >= 2 ? 1 : 0;
  return `sprop-stereo=${s};stereo=${s}`;
}

export interface OpusFmtpParams {
  /** sprop-stereo=1: the sender may send stereo (default false). */
  spropStereo: boolean;
  /** stereo=1: the receiver prefers stereo (default false). */
  stereo: boolean;
  /** useinbandfec=1 (default false). */
  useInbandFec: boolean;
  /** usedtx=1 (default false). */
  useDtx: boolean;
  /** cbr=1 (default false). */
  cbr: boolean;
  maxAverageBitrate?: number;
  maxPlaybackRate?: number;
  spropMaxCaptureRate?: number;
  /** Every parameter, names lower-cased. */
  params: Map<string, string>;
}

const FLAGS = [
  ['sprop-stereo', 'spropStereo'],
  ['stereo', 'stereo'],
  ['useinbandfec', 'useInbandFec'],
  ['usedtx', 'useDtx'],
  ['cbr', 'cbr'],
] as const;
const INTS = [
  ['maxaveragebitrate', 'maxAverageBitrate'],
  ['maxplaybackrate', 'maxPlaybackRate'],
  ['sprop-maxcapturerate', 'spropMaxCaptureRate'],
] as const;

/** Parses the parameter part of `a=fmtp:<pt> ...` for opus. Flags must be 0 or 1. */
export function parseOpusFmtp(input: FmtpInput): ParseResult<OpusFmtpParams> {
  const params = parseFmtpParameters(input);
  const value: OpusFmtpParams = { spropStereo: false, stereo: false, useInbandFec: false, useDtx: false, cbr: false, params };
  for (const [name, key] of FLAGS) {
    const v = params.get(name);
    if (v === undefined) continue;
    if (v !== '0' && v !== '1') return codecError('CODEC_ERR_FMTP_BAD_PARAM', `${name}=${v}`);
    value[key] = v === '1';
  }
  for (const [name, key] of INTS) {
    const v = params.get(name);
    if (v === undefined) continue;
    if (!/^\d{1,9}$/.test(v)) return codecError('CODEC_ERR_FMTP_BAD_PARAM', `${name}=${v}`);
    value[key] = Number(v);
  }
  return { ok: true, value };
}
