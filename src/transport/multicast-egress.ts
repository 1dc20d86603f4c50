import dgram from 'node:dgram';
import type { Egress } from './egress.ts';

export interface MulticastEgressOptions {
  group: string;
  /** RTP port; RTCP goes to port + 1. */
  port: number;
  ttl: number;
  /** Local interface address to send from (e.g. 127.0.0.1 for loopback tests); system default when absent. */
  interfaceAddress?: string;
}

/**
 * RTP and RTCP to a multicast group (RFC 3550 §11, RFC 2326 §12.39 `multicast`): one socket, one
 * send per packet whatever the number of receivers. `sent` counts RTP packets actually sent.
 */
export class MulticastEgress implements Egress {
  readonly kind = 'udp';
  dropped = 0;
  sent = 0;
  private closed = false;
  /** RTCP from the group's receivers (their RRs go to group:port+1, RFC 3550 §6.1). */
  onRtcp: ((packet: Buffer, from: string) => void) | undefined;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly rtcpIn: dgram.Socket | undefined,
    readonly options: MulticastEgressOptions,
  ) {
    socket.on('error', () => this.dropped++);
    rtcpIn?.on('message', (msg, rinfo) => this.onRtcp?.(msg, `${rinfo.address}:${rinfo.port}`));
    rtcpIn?.on('error', () => undefined);
  }

  static async open(o: MulticastEgressOptions): Promise<MulticastEgress> {
    const socket = dgram.createSocket({ type: o.group.includes(':') ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, o.interfaceAddress, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.setMulticastTTL(o.ttl);
    socket.setMulticastLoopback(true);
    if (o.interfaceAddress) socket.setMulticastInterface(o.interfaceAddress);
    return new MulticastEgress(socket, await joinRtcpPort(o), o);
  }

  sendRtp(header: Buffer, payload: Buffer): void {
    this.sent++;
    this.send([header, payload], this.options.port);
  }

  sendRtcp(packet: Buffer): void {
    this.send([packet], this.options.port + 1);
  }

  private send(msg: Buffer[], port: number): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    try {
      this.socket.send(msg, port, this.options.group);
    } catch {
      this.dropped++;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // After the current tick, so that a BYE just queued still leaves (see ServerSession.close).
    setImmediate(() => {
      this.socket.close();
      this.rtcpIn?.close();
    });
  }
}

/**
 * A socket on the group's RTCP port, shared (SO_REUSEADDR) with the receivers on this host, that
 * joined the group: the receivers' reports come in there. Undefined when joining fails (no
 * multicast route): sending still works, only the reports are missed.
 */
async function joinRtcpPort(o: MulticastEgressOptions): Promise<dgram.Socket | undefined> {
  const s = dgram.createSocket({ type: o.group.includes(':') ? 'udp6' : 'udp4', reuseAddr: true });
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(o.port + 1, () => {
        s.off('error', reject);
        resolve();
      });
    });
    s.addMembership(o.group, o.interfaceAddress);
    return s;
  } catch {
    s.close();
    return undefined;
  }
}
