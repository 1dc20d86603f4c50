import dgram from 'node:dgram';

/** RTP on an even port, RTCP on the next odd one (RFC 3550 §11). */
export interface UdpPortPair {
  readonly rtp: dgram.Socket;
  readonly rtcp: dgram.Socket;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  close(): void;
}

export interface PortRange {
  min: number;
  max: number;
}

/** Default range for server-side RTP/RTCP pairs (the one Darwin/QuickTime servers made common). */
export const DEFAULT_RTP_PORT_RANGE: PortRange = { min: 6970, max: 32767 };

const MAX_BIND_ATTEMPTS = 64;

function bind(socket: dgram.Socket, port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const onError = () => resolve(false);
    socket.once('error', onError);
    socket.bind({ port, address: host, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(true);
    });
  });
}

function socketType(host: string): 'udp4' | 'udp6' {
  return host.includes(':') ? 'udp6' : 'udp4';
}

/**
 * Binds an adjacent even/odd port pair inside `range` on `host`, starting at a random even port so
 * that several servers (parallel tests) rarely collide, and trying further pairs when one is taken.
 */
export async function bindUdpPortPair(
  host: string,
  range: PortRange = DEFAULT_RTP_PORT_RANGE,
  random: () => number = Math.random,
  receiveBufferBytes?: number,
): Promise<UdpPortPair> {
  const first = range.min + (range.min % 2);
  const pairs = Math.floor((range.max - first + 1) / 2);
  if (pairs < 1) throw new Error(`RTP port range ${range.min}-${range.max} holds no even/odd pair`);
  const start = Math.floor(random() * pairs);
  const attempts = Math.min(pairs, MAX_BIND_ATTEMPTS);
  for (let i = 0; i < attempts; i++) {
    const rtpPort = first + 2 * ((start + i) % pairs);
    const rtp = dgram.createSocket({ type: socketType(host), reuseAddr: false });
    if (!(await bind(rtp, rtpPort, host))) {
      rtp.close();
      continue;
    }
    const rtcp = dgram.createSocket({ type: socketType(host), reuseAddr: false });
    if (!(await bind(rtcp, rtpPort + 1, host))) {
      rtp.close();
      rtcp.close();
      continue;
    }
    if (receiveBufferBytes) {
      for (const s of [rtp, rtcp]) {
        try {
          s.setRecvBufferSize(receiveBufferBytes);
        } catch {
          // The kernel caps it (net.core.rmem_max); the default still works.
        }
      }
    }
    let closed = false;
    return {
      rtp,
      rtcp,
      rtpPort,
      rtcpPort: rtpPort + 1,
      close() {
        if (closed) return;
        closed = true;
        rtp.close();
        rtcp.close();
      },
    };
  }
  throw new Error(`no free RTP/RTCP port pair in ${range.min}-${range.max} on ${host}`);
}
