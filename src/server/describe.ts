import { buildSdp } from '../sdp/index.ts';
import type { MediaDescription, SdpAttribute, SessionDescription } from '../sdp/index.ts';
import type { MediaEntry } from './media-catalog.ts';
import type { PayloadFormat } from '../sender/payload-formats.ts';

/** What an SDP media section needs of a payload format (a file track's, a live track's). */
export type SdpFormat = Pick<PayloadFormat, 'payloadType' | 'rtpmap' | 'fmtp' | 'attributes' | 'bitrate'> & { media: string };

/**
 * One media section for a payload format (RFC 4566 §5.14, RFC 3551 §6): `m=` with the payload
 * type, `b=AS` from the bitrate, rtpmap, fmtp when there is one, the format's own attributes, then
 * `extra` (control for RTSP, rtcp for push).
 */
export function mediaSection(f: SdpFormat, port: number, extra: SdpAttribute[] = []): MediaDescription {
  return {
    type: f.media,
    port,
    protocol: 'RTP/AVP',
    formats: [String(f.payloadType)],
    bandwidth: f.bitrate > 0 ? [{ type: 'AS', value: Math.ceil(f.bitrate / 1000) }] : [],
    attributes: [
      { name: 'rtpmap', value: `${f.payloadType} ${f.rtpmap}` },
      ...(f.fmtp ? [{ name: 'fmtp', value: `${f.payloadType} ${f.fmtp}` }] : []),
      ...f.attributes.map(([name, value]) => ({ name, value })),
      ...extra,
    ],
  };
}

/**
 * An SDP answer to DESCRIBE (RFC 2326 Appendix C): origin on our address, `c=` unspecified (the
 * transport comes with SETUP), aggregate control `a=control:*`, `a=range` as given, and per track
 * its media section with a relative `a=control` resolved against Content-Base.
 */
export function rtspSdp(
  sessionName: string,
  range: string,
  tracks: { control: string; format: SdpFormat }[],
  o: { localIp: string; serverName: string; sessionId?: string },
): string {
  const ip6 = o.localIp.includes(':');
  const addrType = ip6 ? 'IP6' : 'IP4';
  const desc: SessionDescription = {
    version: 0,
    origin: {
      username: '-',
      // The server passes its clock's NTP-ish seconds; callers without a clock (lab, probe) get 0.
      sessionId: o.sessionId ?? '0',
      sessionVersion: '1',
      netType: 'IN',
      addrType,
      address: o.localIp,
    },
    sessionName,
    info: o.serverName,
    connection: { netType: 'IN', addrType, address: ip6 ? '::' : '0.0.0.0' },
    timing: { start: 0, stop: 0 },
    attributes: [
      { name: 'tool', value: o.serverName },
      { name: 'type', value: 'broadcast' },
      { name: 'control', value: '*' },
      { name: 'range', value: range },
    ],
    media: tracks.map((t) => mediaSection(t.format, 0, [{ name: 'control', value: t.control }])),
  };
  return buildSdp(desc);
}

/**
 * The SDP answer to DESCRIBE for a file: a finite `a=range:npt=0-<duration>` so players offer
 * seeking (open-ended while the file is still being written by a preparation).
 */
export function describeSdp(entry: MediaEntry, o: { localIp: string; serverName: string; sessionId?: string }): string {
  const range = entry.growth?.growing ? 'npt=0-' : `npt=0-${entry.durationSec.toFixed(3)}`;
  const make = (): string =>
    rtspSdp(
      entry.relPath,
      range,
      entry.tracks.map((t) => ({ control: t.control, format: t.source.format })),
      o,
    );
  // The output of a running preparation changes as it is written: made anew every time.
  if (entry.growth) return make();
  const key = `${range} ${o.localIp} ${o.serverName} ${o.sessionId ?? ''}`;
  const last = lastAnswers.get(entry);
  if (last?.key === key) return last.sdp;
  const sdp = make();
  lastAnswers.set(entry, { key, sdp });
  return sdp;
}

/**
 * The last DESCRIBE answer made for each open file, with what it was made of besides the file's
 * tracks (fixed while the file is open): clients joining within the same second on the same
 * address get it again instead of a new SDP built and serialized each time.
 */
const lastAnswers = new WeakMap<MediaEntry, { key: string; sdp: string }>();
