import type dgram from 'node:dgram';
import type { Duplex } from 'node:stream';
import { nativeSendmmsg, udpSenderKind } from './native-sender.ts';
import type { UdpSenderKind } from './native-sender.ts';
import { InterleavedWriter } from './send-batch.ts';
import { dgramFd, sharedUdpBatch } from './udp-batch.ts';
import type { BatchedSocketOwner, SendLane, UdpBatch } from './udp-batch.ts';

/**
 * Where one outgoing RTP stream's packets go: a UDP port pair towards the client's ports, or
 * `$`-framed into the RTSP TCP connection (RFC 2326 §10.12). Impairment and other packet stages
 * wrap an Egress.
 */
export interface Egress {
  readonly kind: 'udp' | 'tcp';
  /**
   * `header` is the stream's own 12-byte RTP header; `payload` is shared between sessions. `lane`
   * (default bulk): within a wake, the native UDP batch sends urgent datagrams first; other
   * paths keep the order of the calls.
   */
  sendRtp(header: Buffer, payload: Buffer, lane?: SendLane): void;
  sendRtcp(packet: Buffer): void;
  /** Packets dropped because the path was congested (TCP back-pressure) or closed. */
  readonly dropped: number;
  /**
   * True when the egress is done with `header` once sendRtp returns (it copied it): the sender may
   * then write the next packet's header into the same memory. Stages that hold packets
   * (impairment delays) and Node's own sends leave it unset, and get a header of their own.
   */
  readonly copiesHeader?: boolean;
}

/**
 * RTP and RTCP to one client over UDP. The sockets are the session's own pair, connected to the
 * client's ports: sending then skips the per-packet address lookup, and the kernel only lets
 * datagrams from the client's own ports in (RFC 3550 §11 / INTEROP: match on ip and port).
 *
 * With the native sender (native-sender.ts) every datagram joins the wake's batch (udp-batch.ts):
 * one native call per wake for all clients. Without it, one dgram send per datagram.
 */
export class UdpEgress implements Egress, BatchedSocketOwner {
  readonly kind = 'udp';
  /**
   * With the native sender, the batch copies each header when it is queued: the sender may reuse
   * its memory. Node's own send may queue a datagram (socket full) and read it later: then every
   * header is the sender's to leave alone.
   */
  readonly copiesHeader: boolean;
  dropped = 0;
  private readonly batch: UdpBatch | undefined;
  private readonly rtcpOwner: BatchedSocketOwner;
  /** UdpBatch's bookkeeping (BatchedSocketOwner). */
  laneMark = 0;

  private constructor(
    private readonly rtpSocket: dgram.Socket,
    private readonly rtcpSocket: dgram.Socket,
    sender: UdpSenderKind,
  ) {
    // Send errors (e.g. ICMP port unreachable after the client went away) arrive as events.
    const onError = () => this.dropped++;
    rtpSocket.on('error', onError);
    rtcpSocket.on('error', onError);
    // The descriptor comes from Node's dgram internals: should a Node version hide it, js it is.
    const addon = sender === 'native' && dgramFd(rtpSocket) >= 0 && dgramFd(rtcpSocket) >= 0 ? nativeSendmmsg() : undefined;
    this.batch = addon ? sharedUdpBatch(addon) : undefined;
    this.copiesHeader = this.batch !== undefined;
    this.rtcpOwner = {
      drop: () => this.dropped++,
      liveFd: () => dgramFd(this.rtcpSocket),
      sendSlow: (a) => this.send(this.rtcpSocket, [Buffer.from(a)]),
      laneMark: 0,
    };
  }

  static async connect(
    rtpSocket: dgram.Socket,
    rtcpSocket: dgram.Socket,
    address: string,
    rtpPort: number,
    rtcpPort: number,
    sender: UdpSenderKind = udpSenderKind(),
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
    return new UdpEgress(rtpSocket, rtcpSocket, sender);
  }

  /** Which sender this egress uses. */
  get sender(): UdpSenderKind {
    return this.batch ? 'native' : 'js';
  }

  sendRtp(header: Buffer, payload: Buffer, lane?: SendLane): void {
    if (this.batch) this.batch.add(this, header, payload, 0, 0, lane);
    else this.send(this.rtpSocket, [header, payload]);
  }

  sendRtcp(packet: Buffer): void {
    if (this.batch) {
      this.batch.add(this.rtcpOwner, packet, undefined);
      this.batch.flush();
    } else this.send(this.rtcpSocket, [packet]);
  }

  drop(): void {
    this.dropped++;
  }

  liveFd(): number {
    return dgramFd(this.rtpSocket);
  }

  /** A datagram the kernel would not take at once: Node queues it (the header copied: its slot is reused). */
  sendSlow(a: Buffer, b: Buffer | undefined): void {
    this.send(this.rtpSocket, b ? [Buffer.from(a), b] : [Buffer.from(a)]);
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

/**
 * RTP and RTCP `$`-framed into the RTSP TCP connection (RFC 2326 §10.12). The connection's frames
 * of one wake, from all its tracks, leave in one write (send-batch.ts: InterleavedWriter), which
 * copies the header: the sender may reuse its memory.
 */
export class InterleavedEgress implements Egress {
  readonly kind = 'tcp';
  readonly copiesHeader = true;
  dropped = 0;
  private readonly writer: InterleavedWriter;

  constructor(
    socket: Duplex,
    private readonly rtpChannel: number,
    private readonly rtcpChannel: number,
  ) {
    this.writer = InterleavedWriter.of(socket);
  }

  sendRtp(header: Buffer, payload: Buffer): void {
    this.writer.add(this, this.rtpChannel, header, payload);
  }

  sendRtcp(packet: Buffer): void {
    this.writer.add(this, this.rtcpChannel, packet, undefined);
    this.writer.flush();
  }
}
