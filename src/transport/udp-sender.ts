import type dgram from 'node:dgram';
import type { Egress } from './egress.ts';
import { bindUdpPortPair } from './udp-pair.ts';
import type { PortRange } from './udp-pair.ts';

export interface UdpSenderOptions {
  /** Destination IPv4 address, unicast or multicast. */
  address: string;
  rtpPort: number;
  rtcpPort: number;
  /** Set for a multicast destination. */
  multicast?: {
    ttl: number;
    /** Local address of the outgoing interface (IP_MULTICAST_IF); undefined lets the OS choose. */
    interfaceAddress?: string;
  };
  /** Local address to bind (default 0.0.0.0: any interface). */
  bindAddress?: string;
  /** Where our own even/odd pair is bound (RTCP from receivers comes back to the odd one). */
  localPorts?: PortRange;
}

/**
 * RTP and RTCP of one stream sent to a fixed address without RTSP (`streamlab push`), unicast or
 * multicast. Our own sockets are an even/odd pair; they are not connected, so receiver reports
 * are taken from whoever sends them (a multicast group's members report from their own unicast
 * addresses), and the caller gets them through onRtcp.
 */
export class UdpSenderEgress implements Egress {
  readonly kind = 'udp';
  dropped = 0;
  /** RTP packets handed to the kernel. */
  sent = 0;
  private closed = false;

  private constructor(
    private readonly rtp: dgram.Socket,
    private readonly rtcp: dgram.Socket,
    private readonly o: UdpSenderOptions,
    readonly localRtpPort: number,
    readonly localRtcpPort: number,
  ) {
    const onError = () => this.dropped++;
    rtp.on('error', onError);
    rtcp.on('error', onError);
  }

  static async open(o: UdpSenderOptions): Promise<UdpSenderEgress> {
    const pair = await bindUdpPortPair(o.bindAddress ?? '0.0.0.0', o.localPorts);
    try {
      if (o.multicast) {
        for (const s of [pair.rtp, pair.rtcp]) {
          s.setMulticastTTL(o.multicast.ttl);
          s.setMulticastLoopback(true);
          if (o.multicast.interfaceAddress !== undefined) s.setMulticastInterface(o.multicast.interfaceAddress);
        }
      }
    } catch (err) {
      pair.close();
      throw err;
    }
    return new UdpSenderEgress(pair.rtp, pair.rtcp, o, pair.rtpPort, pair.rtcpPort);
  }

  /** Datagrams arriving at our RTCP port (receiver reports), with the sender as `ip:port`. */
  onRtcp(fn: (msg: Buffer, from: string) => void): void {
    this.rtcp.on('message', (msg, rinfo) => fn(msg, `${rinfo.address}:${rinfo.port}`));
  }

  /** Datagrams arriving at our RTP port (ignored by RTP, counted by the caller if it wants). */
  onRtp(fn: (msg: Buffer, from: string) => void): void {
    this.rtp.on('message', (msg, rinfo) => fn(msg, `${rinfo.address}:${rinfo.port}`));
  }

  sendRtp(header: Buffer, payload: Buffer): void {
    if (this.send(this.rtp, [header, payload], this.o.rtpPort)) this.sent++;
  }

  sendRtcp(packet: Buffer): void {
    this.send(this.rtcp, [packet], this.o.rtcpPort);
  }

  /** Closes both sockets once the datagrams already handed to them are out. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    // dgram sends on the next tick (after its address check): closing now would drop a BYE just sent.
    return new Promise((resolve) =>
      setImmediate(() => {
        let open = 2;
        const done = () => {
          if (--open === 0) resolve();
        };
        this.rtp.close(done);
        this.rtcp.close(done);
      }),
    );
  }

  /** False when the datagram could not be handed over (closed, or a synchronous send error). */
  private send(socket: dgram.Socket, msg: Buffer[], port: number): boolean {
    if (this.closed) {
      this.dropped++;
      return false;
    }
    try {
      socket.send(msg, port, this.o.address);
      return true;
    } catch {
      this.dropped++;
      return false;
    }
  }
}
