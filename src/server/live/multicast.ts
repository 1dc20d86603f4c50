import { isIPv4 } from 'node:net';
import { MulticastEgress } from '../../transport/index.ts';
import type { PortRange } from '../../transport/index.ts';
import type { Random } from '../../util/random.ts';
import type { LiveSink, LiveTrack } from './live-track.ts';

/** `serve --multicast*`: where multicast groups come from and how far they travel. */
export interface MulticastOptions {
  /** IPv4 range the groups are taken from, CIDR, e.g. 239.255.0.0/16. */
  range: string;
  /** Even ports for the groups' RTP (RTCP on the next odd one). */
  ports: PortRange;
  /** IP TTL of multicast packets (default 1: never leaves the link). */
  ttl: number;
  /** Local interface to send on (127.0.0.1 for tests on lo); the system's default when absent. */
  interfaceAddress?: string;
  /** Let a client choose the group with `destination=` (off: such a SETUP is refused). */
  allowClientDestination: boolean;
}

export interface CidrRange {
  base: number;
  size: number;
}

const ipToInt = (ip: string) => ip.split('.').reduce((a, b) => a * 256 + Number(b), 0);
const intToIp = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

/** Parses an IPv4 multicast CIDR range (inside 224.0.0.0/4); undefined when it is not one. */
export function parseMulticastRange(s: string): CidrRange | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(s.trim());
  if (!m || !isIPv4(m[1]!)) return undefined;
  const bits = Number(m[2]);
  if (bits < 4 || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  const base = ipToInt(m[1]!) - (ipToInt(m[1]!) % size);
  if (base >>> 28 !== 0xe) return undefined;
  return { base, size };
}

export function isMulticastAddress(ip: string): boolean {
  return isIPv4(ip) && ipToInt(ip) >>> 28 === 0xe;
}

/**
 * One track sent to one multicast group: ONE sink on the track shared by every multicast viewer
 * (joined with the first, left with the last), so each packet is sent once.
 */
export class MulticastGroup {
  members = 0;
  private sink: LiveSink | undefined;
  private rtcp: GroupRtcp;

  constructor(
    readonly track: LiveTrack,
    readonly egress: MulticastEgress,
    private readonly makeRtcp: (group: MulticastGroup) => GroupRtcp,
  ) {
    this.rtcp = makeRtcp(this);
    egress.onRtcp = (packet, from) => this.rtcp.receive(packet, from);
  }

  get address(): string {
    return this.egress.options.group;
  }

  get port(): number {
    return this.egress.options.port;
  }

  get ttl(): number {
    return this.egress.options.ttl;
  }

  get sending(): boolean {
    return this.sink !== undefined && this.track.sinks.has(this.sink);
  }

  /** A viewer starts watching; returns true when it is the first (the group's RTCP starts). */
  join(): boolean {
    this.members++;
    if (this.sending) return false;
    this.sink = this.track.join(this.egress);
    this.rtcp.start();
    return true;
  }

  /** The channel's source stopped: BYE to the group once, then ready for the next run. */
  channelEnded(reason: string): void {
    if (this.members === 0 && !this.sink) return;
    this.rtcp.sendBye(reason);
    this.rtcp.close();
    this.rtcp = this.makeRtcp(this);
    this.track.leave(this.sink);
    this.sink = undefined;
    this.members = 0;
  }

  /** A viewer stops; returns true when it was the last (sending stops). */
  leave(): boolean {
    this.members = Math.max(0, this.members - 1);
    if (this.members > 0) return false;
    this.track.leave(this.sink);
    this.sink = undefined;
    this.rtcp.pause();
    return true;
  }
}

/** The group's RTCP sender (SR + SDES to group:port+1, BYE at the end). */
export interface GroupRtcp {
  receive(packet: Buffer, from: string): void;
  start(): void;
  pause(): void;
  sendBye(reason: string): void;
  close(): void;
}

/** Hands out a group address and port pair per live track from the configured range, distinct per track. */
export class MulticastAllocator {
  private readonly groups = new Map<LiveTrack, Promise<MulticastGroup>>();
  private readonly range: CidrRange;
  private nextIndex = 1;
  private nextPort: number;

  constructor(
    readonly options: MulticastOptions,
    random: Random,
    private readonly makeRtcp: (group: MulticastGroup) => GroupRtcp,
  ) {
    const r = parseMulticastRange(options.range);
    if (!r) throw new Error(`--multicast wants an IPv4 multicast range like 239.255.0.0/16, got ${options.range}`);
    this.range = r;
    const first = options.ports.min + (options.ports.min % 2);
    const pairs = Math.max(1, Math.floor((options.ports.max - first + 1) / 2));
    this.nextPort = first + 2 * Math.floor(random.float() * pairs);
  }

  /** The track's group, created on first use; `destination`/`port` when a client may choose them. */
  groupFor(track: LiveTrack, chosen?: { address: string; port?: number }): Promise<MulticastGroup> {
    let g = this.groups.get(track);
    if (!g) {
      const address = chosen?.address ?? this.nextAddress();
      const port = chosen?.port ?? this.allocPort();
      g = MulticastEgress.open({ group: address, port, ttl: this.options.ttl, interfaceAddress: this.options.interfaceAddress }).then(
        (egress) => new MulticastGroup(track, egress, this.makeRtcp),
      );
      g.catch(() => this.groups.delete(track));
      this.groups.set(track, g);
    }
    return g;
  }

  /** Groups open now (for the snapshot and close). */
  async all(): Promise<MulticastGroup[]> {
    const settled = await Promise.allSettled(this.groups.values());
    return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  }

  /** Closes the group of a track that is gone (a publisher came back with other tracks). */
  release(track: LiveTrack): void {
    const g = this.groups.get(track);
    if (!g) return;
    this.groups.delete(track);
    g.then(
      (group) => {
        group.channelEnded('tracks replaced');
        group.egress.close();
      },
      () => undefined,
    );
  }

  async close(): Promise<void> {
    for (const g of await this.all()) {
      g.channelEnded('server shutdown');
      g.egress.close();
    }
    this.groups.clear();
  }

  private nextAddress(): string {
    // Skip the range's first address (x.x.0.0 style) and wrap within the range.
    const i = this.nextIndex;
    this.nextIndex = (this.nextIndex % (this.range.size - 1)) + 1;
    return intToIp(this.range.base + (this.range.size > 1 ? i : 0));
  }

  private allocPort(): number {
    const { min, max } = this.options.ports;
    const p = this.nextPort;
    this.nextPort += 2;
    if (this.nextPort + 1 > max) this.nextPort = min + (min % 2);
    return p;
  }
}
