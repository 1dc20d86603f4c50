import { buildSdp } from '../sdp/index.ts';
import type { MediaDescription, SessionDescription } from '../sdp/index.ts';
import type { MediaEntry } from './media-catalog.ts';

/**
 * The SDP answer to DESCRIBE (RFC 2326 Appendix C, RFC 4566): a finite `a=range:npt=0-<duration>`
 * so players offer seeking, aggregate control `a=control:*`, and per track rtpmap, fmtp and a
 * relative `a=control:trackID=N` resolved against Content-Base.
 */
export function describeSdp(entry: MediaEntry, o: { localIp: string; serverName: string; sessionId?: string }): string {
  const ip6 = o.localIp.includes(':');
  const addrType = ip6 ? 'IP6' : 'IP4';
  const media: MediaDescription[] = entry.tracks.map((t) => {
    const f = t.source.format;
    const attributes = [
      { name: 'rtpmap', value: `${f.payloadType} ${f.rtpmap}` },
      ...(f.fmtp ? [{ name: 'fmtp', value: `${f.payloadType} ${f.fmtp}` }] : []),
      ...f.attributes.map(([name, value]) => ({ name, value })),
      { name: 'control', value: t.control },
    ];
    return {
      type: f.media,
      port: 0,
      protocol: 'RTP/AVP',
      formats: [String(f.payloadType)],
      bandwidth: f.bitrate > 0 ? [{ type: 'AS', value: Math.ceil(f.bitrate / 1000) }] : [],
      attributes,
    };
  });
  const desc: SessionDescription = {
    version: 0,
    origin: {
      username: '-',
      sessionId: o.sessionId ?? String(Math.floor(Date.now() / 1000)),
      sessionVersion: '1',
      netType: 'IN',
      addrType,
      address: o.localIp,
    },
    sessionName: entry.relPath,
    info: o.serverName,
    connection: { netType: 'IN', addrType, address: ip6 ? '::' : '0.0.0.0' },
    timing: { start: 0, stop: 0 },
    attributes: [
      { name: 'tool', value: o.serverName },
      { name: 'type', value: 'broadcast' },
      { name: 'control', value: '*' },
      // Still being written (a preparation's output): open-ended, the duration is not known yet.
      { name: 'range', value: entry.growth?.growing ? 'npt=0-' : `npt=0-${entry.durationSec.toFixed(3)}` },
    ],
    media,
  };
  return buildSdp(desc);
}
