/**
 * Who a datagram arriving at the server's shared RTP/RTCP port pair belongs to, by its source
 * address and port (RFC 3550 §11, INTEROP 7: match on ip and port). One entry per UDP track: the
 * client's RTP port in the RTP table, its RTCP port in the RTCP table, both claimed or neither.
 * Lookups are Map gets (no scan); the table holds at most `maxRoutes` tracks.
 */

/** Why a claim was refused: another track holds one of the source ports, or the table is full. */
export type ClaimRefusal = 'taken' | 'full';

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) is `1.2.3.4`, as the RTSP side writes it. */
export function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

function key(ip: string, port: number): string {
  return `${port} ${plainIp(ip)}`;
}

/** One claim: its route and both of its keys (a release frees exactly what one claim took). */
interface Entry<R> {
  route: R;
  rtpKey: string;
  rtcpKey: string;
}

export class UdpDemux<R> {
  private readonly rtp = new Map<string, Entry<R>>();
  private readonly rtcp = new Map<string, Entry<R>>();

  constructor(readonly maxRoutes: number) {}

  /** Tracks routed now. */
  get size(): number {
    return this.rtp.size;
  }

  /**
   * Routes datagrams from `ip`:`rtpPort` (to the RTP socket) and `ip`:`rtcpPort` (to the RTCP
   * socket) to `route`. Refused, nothing changed, when either source is another route's (or this
   * one's already) or maxRoutes are in use.
   */
  claim(ip: string, rtpPort: number, rtcpPort: number, route: R): ClaimRefusal | undefined {
    const a = key(ip, rtpPort);
    const b = key(ip, rtcpPort);
    if (this.rtp.has(a) || this.rtcp.has(b)) return 'taken';
    if (this.rtp.size >= this.maxRoutes) return 'full';
    const e = { route, rtpKey: a, rtcpKey: b };
    this.rtp.set(a, e);
    this.rtcp.set(b, e);
    return undefined;
  }

  /** Frees what `route` claimed with exactly these ports (nothing when that is not its claim). */
  release(ip: string, rtpPort: number, rtcpPort: number, route: R): void {
    const e = this.rtp.get(key(ip, rtpPort));
    if (!e || e.route !== route || e.rtcpKey !== key(ip, rtcpPort)) return;
    this.rtp.delete(e.rtpKey);
    this.rtcp.delete(e.rtcpKey);
  }

  /** The route of a datagram that came to the RTP socket from `ip`:`port`. */
  rtpRoute(ip: string, port: number): R | undefined {
    return this.rtp.get(key(ip, port))?.route;
  }

  /** The route of a datagram that came to the RTCP socket from `ip`:`port`. */
  rtcpRoute(ip: string, port: number): R | undefined {
    return this.rtcp.get(key(ip, port))?.route;
  }
}
