import dgram from 'node:dgram';
import type { Egress } from './egress.ts';
import { UdpSenderEgress } from './udp-sender.ts';

export interface MulticastEgressOptions {
  group: string;
  /** RTP port; RTCP goes to port + 1. */
  port: number;
  ttl: number;
  /** Local interface address to send from (e.g. 127.0.0.1 for loopback tests); system default when absent. */
  interfaceAddress?: string;
}

/**
 * RTP and RTCP to a multicast group (RFC 3550 §11, RFC 2326 §12.39 `multicast`): one send per
 * packet whatever the number of receivers, from our own even/odd port pair (UdpSenderEgress with
 * the group's TTL and interface), plus a socket joined to the group's RTCP port where the
 * receivers' reports arrive. `sent` counts RTP packets actually sent.
 */
export class MulticastEgress implements Egress {
  readonly kind = 'udp';
  /** RTCP from the group's receivers (their RRs go to group:port+1, RFC 3550 §6.1). */
  onRtcp: ((packet: Buffer, from: string) => void) | undefined;

  private constructor(
    private readonly out: UdpSenderEgress,
    private readonly rtcpIn: dgram.Socket | undefined,
    readonly options: MulticastEgressOptions,
  ) {
    rtcpIn?.on('message', (msg, rinfo) => this.onRtcp?.(msg, `${rinfo.address}:${rinfo.port}`));
    rtcpIn?.on('error', () => undefined);
  }

  static async open(o: MulticastEgressOptions): Promise<MulticastEgress> {
    const out = await UdpSenderEgress.open({
      address: o.group,
      rtpPort: o.port,
      rtcpPort: o.port + 1,
      multicast: { ttl: o.ttl, interfaceAddress: o.interfaceAddress },
      bindAddress: o.interfaceAddress,
    });
    return new MulticastEgress(out, await joinRtcpPort(o), o);
  }

  get sent(): number {
    return this.out.sent;
  }

  get dropped(): number {
    return this.out.dropped;
  }

  sendRtp(header: Buffer, payload: Buffer): void {
    this.out.sendRtp(header, payload);
  }

  sendRtcp(packet: Buffer): void {
    this.out.sendRtcp(packet);
  }

  close(): void {
    void this.out.close();
    // After the current tick, like the sender's sockets, so a BYE just queued still leaves.
    setImmediate(() => this.rtcpIn?.close());
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
