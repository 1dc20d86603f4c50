import dgram from 'node:dgram';
import { cryptoRandom } from '../util/random.ts';

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

/**
 * Why no pair could be bound. `range-full`: every pair of the range is taken (by us or by other
 * programs); `descriptors`: the process or system is out of file descriptors (EMFILE/ENFILE), which
 * says nothing about the ports; `bind`: any other bind failure (EADDRNOTAVAIL, ...).
 */
export type PortPairFailure = 'range-full' | 'descriptors' | 'bind';

/** Typed failure of bindUdpPortPair; the server maps `reason` to an RTSP status. */
export class PortPairError extends Error {
  constructor(
    readonly reason: PortPairFailure,
    message: string,
    readonly errno?: string,
  ) {
    super(message);
    this.name = 'PortPairError';
  }
}

/** Ports of pairs bound by this process and not yet closed: skipped without a bind attempt. */
const ownPorts = new Set<string>();

const portKey = (host: string, port: number) => `${host}|${port}`;

/** Error codes meaning "this port is taken": another pair is tried. */
const TAKEN = new Set(['EADDRINUSE', 'EACCES']);
const OUT_OF_DESCRIPTORS = new Set(['EMFILE', 'ENFILE']);

/** Binds `port`: the bound socket, else the error code. createSocket itself can throw EMFILE. */
function bind(type: 'udp4' | 'udp6', port: number, host: string): Promise<{ socket?: dgram.Socket; code?: string }> {
  return new Promise((resolve) => {
    let socket: dgram.Socket;
    try {
      socket = dgram.createSocket({ type, reuseAddr: false });
    } catch (err) {
      resolve({ code: (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN' });
      return;
    }
    const onError = (err: NodeJS.ErrnoException) => {
      try {
        socket.close();
      } catch {
        // never bound
      }
      resolve({ code: err.code ?? 'EUNKNOWN' });
    };
    socket.once('error', onError);
    try {
      socket.bind({ port, address: host, exclusive: true }, () => {
        socket.off('error', onError);
        resolve({ socket });
      });
    } catch (err) {
      onError(err as NodeJS.ErrnoException);
    }
  });
}

function failure(code: string, port: number, host: string): PortPairError | undefined {
  if (TAKEN.has(code)) return undefined;
  if (OUT_OF_DESCRIPTORS.has(code)) {
    return new PortPairError('descriptors', `out of file descriptors (${code}) binding UDP port ${port} on ${host}`, code);
  }
  return new PortPairError('bind', `cannot bind UDP port ${port} on ${host}: ${code}`, code);
}

function socketType(host: string): 'udp4' | 'udp6' {
  return host.includes(':') ? 'udp6' : 'udp4';
}

/**
 * Binds an adjacent even/odd port pair inside `range` on `host`, starting at a random even port so
 * that several servers (parallel tests) rarely collide, and trying every further pair of the range
 * (wrapping round) while ports are taken: a block held by another program does not stop the search.
 * Pairs this process holds are skipped without a system call. Throws PortPairError: `range-full`
 * when every pair is taken, `descriptors` on EMFILE/ENFILE, `bind` for any other bind error.
 */
export async function bindUdpPortPair(
  host: string,
  range: PortRange = DEFAULT_RTP_PORT_RANGE,
  random: () => number = () => cryptoRandom.float(),
  receiveBufferBytes?: number,
): Promise<UdpPortPair> {
  const first = range.min + (range.min % 2);
  const pairs = Math.floor((range.max - first + 1) / 2);
  if (pairs < 1) throw new Error(`RTP port range ${range.min}-${range.max} holds no even/odd pair`);
  const start = Math.floor(random() * pairs);
  const type = socketType(host);
  for (let i = 0; i < pairs; i++) {
    const rtpPort = first + 2 * ((start + i) % pairs);
    if (ownPorts.has(portKey(host, rtpPort)) || ownPorts.has(portKey(host, rtpPort + 1))) continue;
    const a = await bind(type, rtpPort, host);
    if (!a.socket) {
      const err = failure(a.code!, rtpPort, host);
      if (err) throw err;
      continue;
    }
    const rtp = a.socket;
    const b = await bind(type, rtpPort + 1, host);
    if (!b.socket) {
      rtp.close();
      const err = failure(b.code!, rtpPort + 1, host);
      if (err) throw err;
      continue;
    }
    const rtcp = b.socket;
    ownPorts.add(portKey(host, rtpPort));
    ownPorts.add(portKey(host, rtpPort + 1));
    // A caller that closes a socket itself still gives its port back.
    rtp.once('close', () => ownPorts.delete(portKey(host, rtpPort)));
    rtcp.once('close', () => ownPorts.delete(portKey(host, rtpPort + 1)));
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
  throw new PortPairError('range-full', `every RTP/RTCP port pair in ${range.min}-${range.max} on ${host} is taken`);
}
