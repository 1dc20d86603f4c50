import { resolveControlUrl } from '../rtsp/index.ts';
import { getAttribute, getFmtp, getRtpmap } from '../sdp/index.ts';
import type { MediaDescription, SessionDescription } from '../sdp/index.ts';

export type ReceivedCodec = 'h264' | 'h265' | 'aac' | 'opus' | 'mpa' | 'pcmu' | 'pcma' | 'mp2t';

/** A media section of a DESCRIBE answer as the receiver needs it. */
export interface SdpTrack {
  index: number;
  media: string;
  controlUrl: string;
  payloadType: number;
  encodingName: string;
  clockRate: number;
  channels?: number;
  /** fmtp parameters, names lower-cased. */
  fmtp: Map<string, string>;
  codec: ReceivedCodec | undefined;
  /** Why the track is not received, when codec is undefined. */
  unsupported?: string;
  /** b=AS in kbit/s when given. */
  bandwidthKbps?: number;
}

function codecOf(encodingName: string): ReceivedCodec | undefined {
  const n = encodingName.toUpperCase();
  if (n === 'H264') return 'h264';
  if (n === 'H265') return 'h265';
  if (n === 'MPEG4-GENERIC') return 'aac';
  if (n === 'OPUS') return 'opus';
  if (n === 'MPA') return 'mpa';
  if (n === 'PCMU') return 'pcmu';
  if (n === 'PCMA') return 'pcma';
  if (n === 'MP2T') return 'mp2t';
  return undefined;
}

/** The tracks of a presentation with their control URLs resolved against `base` (RFC 2326 C.1.1). */
export function tracksFromSdp(sdp: SessionDescription, base: string): SdpTrack[] {
  const sessionControl = getAttribute(sdp, 'control');
  const aggregate = sessionControl && sessionControl !== '*' ? resolveControlUrl(base, sessionControl) : base;
  return sdp.media.map((m: MediaDescription, index) => {
    const pt = Number(m.formats[0]);
    const rtpmap = getRtpmap(m, pt);
    const fmtp = new Map<string, string>();
    for (const p of getFmtp(m, pt)?.params ?? []) fmtp.set(p.key.toLowerCase(), p.value ?? '');
    // Static payload types carry no rtpmap (RFC 3551): enough for the ones we name.
    const encodingName = rtpmap?.encodingName ?? (pt === 0 ? 'PCMU' : pt === 8 ? 'PCMA' : pt === 14 ? 'MPA' : pt === 33 ? 'MP2T' : '');
    const clockRate = rtpmap?.clockRate ?? (pt === 0 || pt === 8 ? 8000 : 90000);
    const codec = m.protocol.toUpperCase().startsWith('RTP/AVP') ? codecOf(encodingName) : undefined;
    const control = getAttribute(m, 'control');
    const as = m.bandwidth?.find((b) => b.type.toUpperCase() === 'AS')?.value;
    return {
      index,
      media: m.type,
      // Relative controls resolve under the aggregate URL, as if it ended in '/', as players do.
      controlUrl: !control || control === '*' ? aggregate : resolveControlUrl(ensureSlash(aggregate), control),
      payloadType: pt,
      encodingName,
      clockRate,
      channels: rtpmap?.channels,
      fmtp,
      codec,
      unsupported: codec ? undefined : `${m.type} ${encodingName || `payload type ${pt}`} over ${m.protocol} is not received yet`,
      bandwidthKbps: as,
    };
  });
}

function ensureSlash(u: string): string {
  return u.endsWith('/') ? u : `${u}/`;
}
