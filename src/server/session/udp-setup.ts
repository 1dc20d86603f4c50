import type { TransportSpec } from '../../rtsp/index.ts';
import { SharedPortsError, UdpEgress, bindUdpPortPair } from '../../transport/index.ts';
import type { Egress, SharedUdpEgress, SharedUdpHandlers, UdpPortPair } from '../../transport/index.ts';
import { createLogger } from '../../util/log.ts';
import { RtspError } from '../errors.ts';
import { portPairRtspError } from '../port-errors.ts';
import type { SessionContext } from './context.ts';

const log = createLogger('ports');

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

/** What a UDP track does with its client's datagrams (RTP punches, RTCP), whichever ports it has. */
export type UdpTrackHandlers = SharedUdpHandlers;

/** What a UDP play SETUP holds until the session closes it: a port pair, or a route of the shared pair. */
export interface UdpBinding {
  /** The server's ports the track answered in `server_port`. */
  readonly rtpPort: number;
  readonly rtcpPort: number;
  /**
   * Hands on what the client sent that the server has not read yet (the shared pair's RTCP is
   * read at the scheduler's wake-ups): a session about to end takes its client's last report.
   */
  receivePending?(): void;
  close(): void;
}

/**
 * The path to a client's UDP ports for one track, and the Transport answer for it. With the
 * server's shared pair (ctx.sharedUdp, the default): a route of that pair (461 when the client's
 * address and ports are another track's, 453 when the table is full). Else a port pair of the
 * session's own connected to the client's RTP/RTCP ports (the kernel then delivers only the
 * client's own datagrams); 461 when the client's ports cannot be reached. Either way only
 * datagrams from the client's declared ports reach `handlers`.
 */
export async function connectUdpSetup(
  ctx: SessionContext,
  isClosed: () => boolean,
  clientIp: string,
  clientPorts: [number, number],
  handlers: UdpTrackHandlers,
): Promise<{ udp: UdpBinding; egress: Egress; transport: TransportSpec }> {
  if (ctx.sharedUdp) {
    const shared = await ctx.sharedUdp().catch((err: unknown) => {
      throw portPairRtspError(err, ctx.host);
    });
    if (isClosed()) throw new RtspError(454, 'SRV_ERR_SESSION_NOT_FOUND', 'session closed during SETUP');
    let egress: SharedUdpEgress;
    try {
      egress = shared.open(clientIp, clientPorts[0], clientPorts[1], handlers);
    } catch (err) {
      if (!(err instanceof SharedPortsError)) throw err;
      log.warn('SETUP refused: client ports', { client: clientIp, clientPorts: clientPorts.join('-'), reason: err.reason });
      if (err.reason === 'taken') throw new RtspError(461, 'SRV_ERR_CLIENT_PORTS_IN_USE', err.message);
      throw new RtspError(453, 'SRV_ERR_PORTS_EXHAUSTED', err.message);
    }
    return {
      udp: {
        rtpPort: shared.rtpPort,
        rtcpPort: shared.rtcpPort,
        receivePending: () => shared.receivePending(),
        close: () => egress.close(),
      },
      egress,
      transport: udpTransport(clientPorts, shared),
    };
  }
  const pair = await bindSetupPair(ctx, isClosed);
  let egress: UdpEgress;
  try {
    egress = await UdpEgress.connect(pair.rtp, pair.rtcp, clientIp, clientPorts[0], clientPorts[1]);
  } catch (err) {
    pair.close();
    throw new RtspError(461, 'SRV_ERR_TRANSPORT', `cannot reach client ports ${clientPorts.join('-')}: ${String(err)}`);
  }
  pair.rtp.on('message', (msg, rinfo) => handlers.rtp(msg, `${rinfo.address}:${rinfo.port}`));
  pair.rtcp.on('message', (msg, rinfo) => handlers.rtcp(msg, `${rinfo.address}:${rinfo.port}`));
  return { udp: pair, egress, transport: udpTransport(clientPorts, pair) };
}

/** The Transport answer for a unicast UDP SETUP on `pair`. */
export function udpTransport(clientPorts: [number, number], pair: { rtpPort: number; rtcpPort: number }): TransportSpec {
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
