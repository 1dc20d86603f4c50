import type dgram from 'node:dgram';
import type { Duplex } from 'node:stream';

/**
 * Where one outgoing RTP stream's packets go: a UDP port pair towards the client's ports, or
 * `$`-framed into the RTSP TCP connection (RFC 2326 §10.12). Impairment and other packet stages
 * wrap an Egress.
 */
export interface Egress {
  readonly kind: 'udp' | 'tcp';
  /** `header` is the stream's own 12-byte RTP header; `payload` is shared between sessions. */
  sendRtp(header: Buffer, payload: Buffer): void;
  sendRtcp(packet: Buffer): void;
  /** Packets dropped because the path was congested (TCP back-pressure) or closed. */
  readonly dropped: number;
}

/**
 * RTP and RTCP to one client over UDP. The sockets are the session's own pair, connected to the
 * client's ports: sending then skips the per-packet address lookup, and the kernel only lets
 * datagrams from the client's own ports in (RFC 3550 §11 / INTEROP: match on ip and port).
 */
export class UdpEgress implements Egress {
  readonly kind = 'udp';
  dropped = 0;

  private constructor(
    private readonly rtpSocket: dgram.Socket,
    private readonly rtcpSocket: dgram.Socket,
  ) {
    // Send errors (e.g. ICMP port unreachable after the client went away) arrive as events.
    const onError = () => this.dropped++;
    rtpSocket.on('error', onError);
    rtcpSocket.on('error', onError);
  }

  static async connect(
    rtpSocket: dgram.Socket,
    rtcpSocket: dgram.Socket,
    address: string,
    rtpPort: number,
    rtcpPort: number,
  ): Promise<UdpEgress> {
    const connect = (s: dgram.Socket, port: number) =>
      new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.connect(port, address, () => {
          s.off('error', reject);
          resolve();
        });
      });
    await Promise.all([connect(rtpSocket, rtpPort), connect(rtcpSocket, rtcpPort)]);
    return new UdpEgress(rtpSocket, rtcpSocket);
  }

  sendRtp(header: Buffer, payload: Buffer): void {
    this.send(this.rtpSocket, [header, payload]);
  }

  sendRtcp(packet: Buffer): void {
    this.send(this.rtcpSocket, [packet]);
  }

  private send(socket: dgram.Socket, msg: Buffer[]): void {
    try {
      socket.send(msg);
    } catch {
      // Socket already closed (session torn down while a packet was due).
      this.dropped++;
    }
  }
}

/** Largest number of bytes queued in a TCP connection before RTP is dropped instead of buffered. */
export const MAX_INTERLEAVED_BACKLOG_BYTES = 4 * 1024 * 1024;

export class InterleavedEgress implements Egress {
  readonly kind = 'tcp';
  dropped = 0;

  constructor(
    private readonly socket: Duplex,
    private readonly rtpChannel: number,
    private readonly rtcpChannel: number,
  ) {}

  sendRtp(header: Buffer, payload: Buffer): void {
    this.write(this.rtpChannel, header, payload);
  }

  sendRtcp(packet: Buffer): void {
    this.write(this.rtcpChannel, packet, undefined);
  }

  private write(channel: number, a: Buffer, b: Buffer | undefined): void {
    const s = this.socket;
    if (s.destroyed || !s.writable || s.writableLength > MAX_INTERLEAVED_BACKLOG_BYTES) {
      this.dropped++;
      return;
    }
    const length = a.length + (b ? b.length : 0);
    const frame = Buffer.allocUnsafe(4);
    frame[0] = 0x24;
    frame[1] = channel;
    frame.writeUInt16BE(length, 2);
    s.cork();
    s.write(frame);
    s.write(a);
    if (b) s.write(b);
    s.uncork();
  }
}
