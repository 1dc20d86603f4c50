import { getAttribute, getRtpmap, parseSdp } from '../../sdp/index.ts';
import type { MediaDescription } from '../../sdp/index.ts';
import { rtspSdp } from '../describe.ts';
import type { LiveTrackFormat } from './live-track.ts';

/** Clock rates of the static payload types a publisher may use without an rtpmap (RFC 3551 §6). */
const STATIC_CLOCK_RATES: Record<number, [string, number, string]> = {
  0: ['PCMU/8000', 8000, 'audio'],
  8: ['PCMA/8000', 8000, 'audio'],
  14: ['MPA/90000', 90000, 'audio'],
  26: ['JPEG/90000', 90000, 'video'],
  32: ['MPV/90000', 90000, 'video'],
  33: ['MP2T/90000', 90000, 'video'],
};

/** Most media sections an announced SDP may have. */
export const MAX_ANNOUNCED_TRACKS = 8;

export interface AnnouncedTrack {
  format: LiveTrackFormat;
  /** The publisher's `a=control` (relative or absolute), '' when absent. */
  control: string;
  encodingName: string;
}

export type AnnounceResult = { ok: true; tracks: AnnouncedTrack[] } | { ok: false; reason: string };

/** The tracks of an ANNOUNCE body: each media section's first payload type, rtpmap and fmtp. */
export function tracksFromAnnouncedSdp(text: string): AnnounceResult {
  const parsed = parseSdp(text);
  if (!parsed.ok) return { ok: false, reason: `SDP: ${parsed.code}` };
  const media = parsed.value.media;
  if (media.length === 0) return { ok: false, reason: 'SDP has no media section' };
  if (media.length > MAX_ANNOUNCED_TRACKS) return { ok: false, reason: `more than ${MAX_ANNOUNCED_TRACKS} media sections` };
  const tracks: AnnouncedTrack[] = [];
  for (const m of media) {
    const t = trackOf(m);
    if (!t.ok) return t;
    tracks.push(t.track);
  }
  return { ok: true, tracks };
}

function trackOf(m: MediaDescription): { ok: true; track: AnnouncedTrack } | { ok: false; reason: string } {
  if (!/^RTP\/AVP/i.test(m.protocol)) return { ok: false, reason: `unsupported protocol ${m.protocol}` };
  const pt = Number(m.formats[0]);
  if (!Number.isInteger(pt) || pt < 0 || pt > 127) return { ok: false, reason: `bad payload type ${m.formats[0]}` };
  const rtpmap = getRtpmap(m, pt);
  let rtpmapValue: string;
  let clockRate: number;
  let encodingName: string;
  if (rtpmap) {
    clockRate = rtpmap.clockRate;
    encodingName = rtpmap.encodingName;
    rtpmapValue = `${rtpmap.encodingName}/${rtpmap.clockRate}${rtpmap.channels !== undefined ? `/${rtpmap.channels}` : ''}`;
  } else if (STATIC_CLOCK_RATES[pt]) {
    [rtpmapValue, clockRate] = STATIC_CLOCK_RATES[pt];
    encodingName = rtpmapValue.split('/')[0]!;
  } else {
    return { ok: false, reason: `payload type ${pt} has no rtpmap` };
  }
  if (clockRate <= 0) return { ok: false, reason: 'clock rate 0' };
  const fmtpAttr = m.attributes.find((a) => a.name === 'fmtp' && a.value !== undefined && a.value.trim().startsWith(`${pt} `));
  const fmtp = fmtpAttr?.value ? fmtpAttr.value.trim().slice(String(pt).length).trim() : '';
  return {
    ok: true,
    track: {
      control: getAttribute(m, 'control') ?? '',
      encodingName,
      format: {
        media: m.type,
        payloadType: pt,
        clockRate,
        rtpmap: rtpmapValue,
        fmtp,
        attributes: [],
        bitrate: (m.bandwidth?.find((b) => b.type === 'AS')?.value ?? 0) * 1000,
      },
    },
  };
}

/**
 * The SDP a viewer gets for a live channel (RFC 2326 Appendix C.1.5): `a=range:npt=now-` (no
 * seeking), aggregate control, and per track the payload format lines and `a=control:trackID=N`.
 */
export function liveSdp(
  /** The channel's URL path (`live/NAME`, or a rule's path). */
  path: string,
  tracks: { control: string; format: LiveTrackFormat }[],
  o: { localIp: string; serverName: string },
): string {
  return rtspSdp(path, 'npt=now-', tracks, o);
}
