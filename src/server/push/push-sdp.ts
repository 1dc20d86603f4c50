import { buildSdp } from '../../sdp/index.ts';
import type { SessionDescription } from '../../sdp/index.ts';
import { mediaSection } from '../describe.ts';
import type { PayloadFormat } from '../../sender/payload-formats.ts';
import type { PushDestination } from './destination.ts';

export interface PushSdpOptions {
  /** s= line (the file's name). */
  name: string;
  /** Our own unicast address, for o= (RFC 4566 §5.2). */
  originAddress: string;
  /** o= session id; RFC 4566 suggests an NTP timestamp. */
  sessionId: string;
  sessionVersion?: string;
  tool: string;
}

/**
 * The SDP a player opens to receive a push (RFC 4566, RFC 3551 conventions). It describes what the
 * player receives: c= is the destination (with /TTL when multicast, §5.7), each m= carries the
 * track's RTP port, `a=rtcp` (RFC 3605) appears only when RTCP is not on RTP + 1, and
 * `a=recvonly` (§6) tells the tools started from it to receive only (they still send RTCP).
 * `a=type:broadcast` as for a one-way broadcast. No a=control: there is no RTSP.
 */
export function pushSdp(formats: readonly PayloadFormat[], dest: PushDestination, o: PushSdpOptions): string {
  if (formats.length !== dest.ports.length) throw new TypeError(`${formats.length} tracks but ${dest.ports.length} port pairs`);
  const media = formats.map((f, i) => {
    const ports = dest.ports[i]!;
    const rtcp = ports.rtcp !== ports.rtp + 1 ? [{ name: 'rtcp', value: `${ports.rtcp} IN IP4 ${dest.address}` }] : [];
    return mediaSection(f, ports.rtp, rtcp);
  });
  const desc: SessionDescription = {
    version: 0,
    origin: {
      username: '-',
      sessionId: o.sessionId,
      sessionVersion: o.sessionVersion ?? '1',
      netType: 'IN',
      addrType: 'IP4',
      address: o.originAddress,
    },
    sessionName: o.name,
    connection: { netType: 'IN', addrType: 'IP4', address: dest.multicast ? `${dest.address}/${dest.ttl}` : dest.address },
    timing: { start: 0, stop: 0 },
    attributes: [{ name: 'tool', value: o.tool }, { name: 'type', value: 'broadcast' }, { name: 'recvonly' }],
    media,
  };
  return buildSdp(desc);
}
