import type { Track } from '../media/index.ts';
import type { RtpPayload } from '../codecs/index.ts';
import {
  aacFmtp,
  g711PayloadType,
  g711Rtpmap,
  G711_CLOCK_RATE,
  h264Fmtp,
  MP2T_CLOCK_RATE,
  MP2T_PAYLOAD_TYPE,
  mp2tRtpmap,
  packetizeG711,
  packetizeMp2t,
  h265Fmtp,
  MPA_PAYLOAD_TYPE,
  mpaRtpmap,
  opusFmtp,
  opusRtpmap,
  packetizeMpa,
  packetizeOpus,
  packetizeH265,
  parseHevcDecoderConfig,
  packetizeAac,
  packetizeH264,
  parseAudioSpecificConfig,
  parseAvcDecoderConfig,
  splitLengthPrefixed,
} from '../codecs/index.ts';

/**
 * How one track of a file travels as RTP: its payload format, SDP lines and packetizer. The
 * packetizer is called once per sample per file; the payloads it returns are shared by sessions.
 */
export interface PayloadFormat {
  media: 'video' | 'audio';
  payloadType: number;
  clockRate: number;
  /** rtpmap encoding name and parameters, e.g. `H264/90000` or `mpeg4-generic/48000/2`. */
  rtpmap: string;
  fmtp: string;
  /** Extra SDP attributes for the media section (name → value). */
  attributes: [string, string][];
  /** Estimated bitrate in bit/s (from the sample sizes), for b=AS and the RTCP bandwidth share. */
  bitrate: number;
  packetize(sample: Buffer, keyframe: boolean): RtpPayload[];
}

export type PayloadFormatResult = { ok: true; format: PayloadFormat } | { ok: false; reason: string };

function trackBitrate(track: Track): number {
  let bytes = 0;
  const sizes = track.samples.sizes;
  for (let i = 0; i < sizes.length; i++) bytes += sizes[i]!;
  return track.durationSec > 0 ? Math.round((bytes * 8) / track.durationSec) : 0;
}

/** A NAL-unit video format: samples are length-prefixed NAL units; parameter sets go before keyframes. */
function nalVideo(
  track: Track,
  payloadType: number,
  rtpmap: string,
  fmtp: string,
  lengthSize: number,
  parameterSets: Buffer[],
  packetizeNalus: (nalus: Buffer[], opts: { maxPayloadSize: number; parameterSets?: Buffer[] }) => RtpPayload[],
  maxPayloadSize: number,
): PayloadFormatResult {
  const attributes: [string, string][] = [];
  if (track.width && track.height) attributes.push(['framesize', `${payloadType} ${track.width}-${track.height}`]);
  return {
    ok: true,
    format: {
      media: 'video',
      payloadType,
      clockRate: 90000,
      rtpmap,
      fmtp,
      attributes,
      bitrate: trackBitrate(track),
      packetize(sample, keyframe) {
        const nalus = splitLengthPrefixed(sample, lengthSize);
        if (!nalus.ok) return [];
        return packetizeNalus(nalus.value, { maxPayloadSize, parameterSets: keyframe ? parameterSets : undefined });
      },
    },
  };
}

/** An audio format whose samples are packetized one at a time. */
function audio(
  track: Track,
  payloadType: number,
  clockRate: number,
  rtpmap: string,
  fmtp: string,
  packetize: (sample: Buffer) => RtpPayload[],
): PayloadFormatResult {
  return {
    ok: true,
    format: { media: 'audio', payloadType, clockRate, rtpmap, fmtp, attributes: [], bitrate: trackBitrate(track), packetize },
  };
}

export function payloadFormatFor(track: Track, payloadType: number, maxPayloadSize: number): PayloadFormatResult {
  switch (track.codec) {
    case 'h264': {
      if (!track.codecConfig) return { ok: false, reason: 'H.264 track without avcC' };
      const cfg = parseAvcDecoderConfig(track.codecConfig);
      if (!cfg.ok) return { ok: false, reason: `bad avcC: ${cfg.code}` };
      const { lengthSize, sps, pps } = cfg.value;
      if (sps.length === 0 || pps.length === 0) return { ok: false, reason: 'avcC holds no SPS/PPS' };
      const fmtp = h264Fmtp({ sps: sps[0]!, pps: pps[0]! });
      return nalVideo(track, payloadType, 'H264/90000', fmtp, lengthSize, [...sps, ...pps], packetizeH264, maxPayloadSize);
    }
    case 'h265': {
      if (!track.codecConfig) return { ok: false, reason: 'H.265 track without hvcC' };
      const cfg = parseHevcDecoderConfig(track.codecConfig);
      if (!cfg.ok) return { ok: false, reason: `bad hvcC: ${cfg.code}` };
      const { lengthSize, vps, sps, pps } = cfg.value;
      if (vps.length === 0 || sps.length === 0 || pps.length === 0) return { ok: false, reason: 'hvcC holds no VPS/SPS/PPS' };
      // Everything the hvcC carries (x265 adds a prefix SEI) goes in-band before each IRAP picture.
      const parameterSets = cfg.value.arrays.flatMap((a) => a.nalus);
      return nalVideo(track, payloadType, 'H265/90000', h265Fmtp(cfg.value), lengthSize, parameterSets, packetizeH265, maxPayloadSize);
    }
    case 'aac': {
      if (!track.codecConfig) return { ok: false, reason: 'AAC track without AudioSpecificConfig' };
      const asc = parseAudioSpecificConfig(track.codecConfig);
      if (!asc.ok) return { ok: false, reason: `bad AudioSpecificConfig: ${asc.code}` };
      const { sampleRate, channels } = asc.value;
      return audio(
        track,
        payloadType,
        sampleRate,
        `mpeg4-generic/${sampleRate}/${channels}`,
        aacFmtp({ config: track.codecConfig }),
        (sample) => packetizeAac([sample], { maxPayloadSize }),
      );
    }
    case 'opus':
      // RFC 7587 §7: always 48000/2 in rtpmap, the real channel count in sprop-stereo.
      return audio(track, payloadType, 48000, opusRtpmap(), opusFmtp({ channels: track.channels ?? 2 }), (sample) => {
        const r = packetizeOpus([sample], { maxPayloadSize });
        return r.ok ? r.value : [];
      });
    case 'mp3':
      // The static type of RFC 3551: players (ffmpeg) find the MPA depacketizer by it, not by name.
      return audio(track, MPA_PAYLOAD_TYPE, 90000, mpaRtpmap(), '', (sample) => {
        const r = packetizeMpa([sample], { maxPayloadSize });
        return r.ok ? r.value : [];
      });
    case 'pcmu':
    case 'pcma': {
      // RFC 3551 §4.5.14: static types 0/8 mean 8000 Hz mono. Samples are 20 ms groups (sample-groups.ts).
      if (track.sampleRate !== G711_CLOCK_RATE || (track.channels ?? 1) !== 1) {
        return { ok: false, reason: `G.711 at ${track.sampleRate ?? '?'} Hz, ${track.channels ?? '?'} channel(s): RTP wants 8000 Hz mono` };
      }
      const law = track.codec === 'pcmu' ? 'PCMU' : 'PCMA';
      return audio(track, g711PayloadType(law), G711_CLOCK_RATE, g711Rtpmap(law), '', (sample) =>
        packetizeG711(sample, { maxPayloadSize, samplesPerPacket: Math.max(1, Math.min(sample.length, maxPayloadSize)) }),
      );
    }
    case 'mp2t': {
      // RFC 2250 §2: whole TS packets, 7 per payload; samples are the TS index's units (media/ts-file).
      const r: PayloadFormatResult = audio(track, MP2T_PAYLOAD_TYPE, MP2T_CLOCK_RATE, mp2tRtpmap(), '', (sample) => {
        const p = packetizeMp2t(sample, { maxPayloadSize });
        return p.ok ? p.value : [];
      });
      if (r.ok) r.format.media = 'video';
      return r;
    }
    default:
      return { ok: false, reason: `codec ${track.codec} is not streamed yet` };
  }
}
