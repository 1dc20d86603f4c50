import type { Socket } from 'node:net';
import type { TransportSpec } from '../rtsp/index.ts';
import { UdpEgress, bindUdpPortPair } from '../transport/index.ts';
import type { UdpPortPair } from '../transport/index.ts';
import type { TimerHandle } from '../util/clock.ts';
import { RtspError } from './errors.ts';
import type { SessionContext } from './session.ts';

/**
 * What every kind of RTSP session needs the same way (file sessions, live viewers, publishers):
 * the expiry timer, the unicast UDP SETUP and the interleaved one.
 */

/**
 * (Re)arms a session's expiry: the advertised timeout plus the grace, after which `onExpire` runs
 * and the expiry is counted. Returns the new timer; the previous one is cleared.
 */
export function armExpiry(ctx: SessionContext, previous: TimerHandle | undefined, onExpire: () => void): TimerHandle {
  ctx.clock.clearTimeout(previous);
  return ctx.clock.setTimeout(() => {
    ctx.counters.sessionsExpired++;
    onExpire();
  }, (ctx.timeoutSec + ctx.timeoutGraceSec) * 1000);
}

/** A server port pair bound for a UDP SETUP; 454 when the session closed while it was binding. */
export async function bindSetupPair(ctx: SessionContext, isClosed: () => boolean, receiveBufferBytes?: number): Promise<UdpPortPair> {
  const pair = await bindUdpPortPair(ctx.host, ctx.rtpPortRange, Math.random, receiveBufferBytes);
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

/**
 * The Transport answer for an interleaved SETUP after checking it against the session's other
 * tracks: one RTSP connection per session (459 otherwise) and channels not already taken (461).
 */
export function interleavedTransport(
  bound: Socket | undefined,
  socket: Socket,
  taken: Iterable<TransportSpec>,
  channels: [number, number],
): TransportSpec {
  if (bound && bound !== socket) {
    throw new RtspError(459, 'SRV_ERR_AGGREGATE', 'interleaved tracks of one session must share one connection');
  }
  for (const t of taken) {
    const ch = t.interleaved;
    if (ch && (ch.includes(channels[0]) || ch.includes(channels[1]))) {
      throw new RtspError(461, 'SRV_ERR_CHANNEL_IN_USE', `interleaved channels ${channels.join('-')} in use`);
    }
  }
  return { protocol: 'RTP', profile: 'AVP', lowerTransport: 'TCP', delivery: 'unicast', interleaved: channels, unknownParams: [] };
}
