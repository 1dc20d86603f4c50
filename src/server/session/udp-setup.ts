import type { TransportSpec } from '../../rtsp/index.ts';
import { UdpEgress, bindUdpPortPair } from '../../transport/index.ts';
import type { UdpPortPair } from '../../transport/index.ts';
import { RtspError } from '../errors.ts';
import { portPairRtspError } from '../port-errors.ts';
import type { SessionContext } from './context.ts';

/**
 * The unicast UDP SETUP, the same for every kind of RTSP session (file sessions, live viewers,
 * publishers). Expiry and interleaved channels live in session/rtsp-session.ts.
 */

/** A server port pair bound for a UDP SETUP; 454 when the session closed while it was binding. */
export async function bindSetupPair(ctx: SessionContext, isClosed: () => boolean, receiveBufferBytes?: number): Promise<UdpPortPair> {
  const pair = await bindUdpPortPair(ctx.host, ctx.rtpPortRange, () => ctx.random.float(), receiveBufferBytes).catch((err: unknown) => {
    throw portPairRtspError(err, ctx.host);
  });
  if (isClosed()) {
    pair.close();
    throw new RtspError(454, 'SRV_ERR_SESSION_NOT_FOUND', 'session closed during SETUP');
  }
  return pair;
}

/**
 * A port pair connected to the client's RTP/RTCP ports (the kernel then delivers only the client's
 * own datagrams) and the Transport answer for it; 461 when the client's ports cannot be reached.
 */
export async function connectUdpSetup(
  ctx: SessionContext,
  isClosed: () => boolean,
  clientIp: string,
  clientPorts: [number, number],
): Promise<{ pair: UdpPortPair; egress: UdpEgress; transport: TransportSpec }> {
  const pair = await bindSetupPair(ctx, isClosed);
  let egress: UdpEgress;
  try {
    egress = await UdpEgress.connect(pair.rtp, pair.rtcp, clientIp, clientPorts[0], clientPorts[1]);
  } catch (err) {
    pair.close();
    throw new RtspError(461, 'SRV_ERR_TRANSPORT', `cannot reach client ports ${clientPorts.join('-')}: ${String(err)}`);
  }
  return { pair, egress, transport: udpTransport(clientPorts, pair) };
}

/** The Transport answer for a unicast UDP SETUP on `pair`. */
export function udpTransport(clientPorts: [number, number], pair: UdpPortPair): TransportSpec {
  return {
    protocol: 'RTP',
    profile: 'AVP',
    lowerTransport: 'UDP',
    delivery: 'unicast',
    clientPort: clientPorts,
    serverPort: [pair.rtpPort, pair.rtcpPort],
    unknownParams: [],
  };
}
