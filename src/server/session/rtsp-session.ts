import type { ByteStream } from '../../transport/index.ts';
import type { RtspResponse, TransportSpec } from '../../rtsp/index.ts';
import { InterleavedEgress } from '../../transport/index.ts';
import type { Egress, ImpairmentSpec, UdpPortPair } from '../../transport/index.ts';
import type { TimerHandle } from '../../util/clock.ts';
import type { Random } from '../../util/random.ts';
import type { TrackEgress } from '../egress-hook.ts';
import { RtspError } from '../errors.ts';
import type { SessionContext, SessionKind } from './context.ts';
import { methodsAllowedIn, transition } from './method-table.ts';
import type { SessionMethod, SessionState } from './method-table.ts';
import type { Presentation, SetupBase } from './presentation.ts';
import type { RegisteredSession } from './registry.ts';
import type { SessionTraffic } from './server-events.ts';
import { nextChannels, setSessionHeader, transportLabel } from './transport-negotiation.ts';
import { bindSetupPair, connectUdpSetup } from './udp-setup.ts';
import type { UdpBinding, UdpTrackHandlers } from './udp-setup.ts';

/**
 * Unguessable session id: 96 random bits as hex (from the server's Random: crypto unless a test
 * seeds it), after the server's prefix (a worker's, so ids are unique across `serve --workers`).
 */
export function newSessionId(random: Random, prefix = ''): string {
  return prefix + random.hex(12);
}

/**
 * The one RTSP session type (RFC 2326 §3, Appendix A), whatever it plays or records: a file, a
 * live channel, a publisher's record target (its `presentation`). It owns its id, its state (which
 * changes only through commit(), along method-table.ts), its expiry, its setups (one per track),
 * its interleaved channels on one RTSP connection, its track egresses, its UDP port pairs and the
 * Session header, and its place in the registry.
 */
export class RtspSession<T extends SetupBase = SetupBase, P extends Presentation = Presentation> implements RegisteredSession {
  /** Every SETUP'd track by its control (`trackID=N`; a publisher's announced index). */
  readonly setups = new Map<string, T>();
  readonly presentation: P;
  /** Network emulation for this session's tracks (its URL's, its DESCRIBE's, or `--netem`). */
  impairment: ImpairmentSpec | undefined;
  private current: SessionState = 'init';
  private expiry: TimerHandle | undefined;
  /** When the client was last heard from (the session's clock). */
  private lastActivityMs = 0;
  private closedFlag = false;
  /** The RTSP connection an interleaved session is bound to. */
  private boundSocket: ByteStream | undefined;
  private readonly channels: number[] = [];
  /** What the egress hook gave each track; released when the session closes. */
  private readonly egresses: TrackEgress[] = [];

  constructor(
    readonly id: string,
    readonly clientIp: string,
    readonly ctx: SessionContext,
    presentation: (session: RtspSession<T, P>) => P,
  ) {
    this.presentation = presentation(this);
    this.touch();
  }

  get kind(): SessionKind {
    return this.presentation.kind;
  }

  get media(): string {
    return this.presentation.media;
  }

  get state(): SessionState {
    return this.current;
  }

  /** How its tracks travel ('udp', 'tcp', 'multicast'; joined with '+' when they differ). */
  get transport(): string {
    return transportLabel([...this.setups.values()].map((s) => s.transport));
  }

  /** What it moved so far (the registry's session-ended event, the operator's list). */
  traffic(): SessionTraffic {
    return { transport: this.transport, ...this.presentation.traffic() };
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  /**
   * 455 with Allow when `method` is not valid in the current state, or not one this kind of
   * presentation answers (a viewer does not RECORD, a publisher does not PLAY). Allow lists the
   * methods valid now for this presentation.
   */
  check(method: SessionMethod): void {
    const t = transition(this.current, method);
    if (t.ok && this.presentation.methods.includes(method)) return;
    const allowed = methodsAllowedIn(this.current).filter((m) => this.presentation.methods.includes(m));
    throw new RtspError(455, 'SRV_ERR_STATE', `${method} not valid in state ${this.current}`, { Allow: allowed.join(', ') });
  }

  /** `method` succeeded: the state moves along the table (the only place a state is written). */
  commit(method: SessionMethod): void {
    const t = transition(this.current, method);
    if (!t.ok) throw new Error(`${method} committed in state ${this.current}`);
    this.current = t.next;
  }

  /**
   * Any RTSP request or RTCP packet from the client (or a publisher's RTP) keeps the session alive.
   * Called for every such packet, so it only notes the time: the one expiry timer, when it fires,
   * looks at the last activity and either closes the session or waits for the rest.
   */
  touch(): void {
    if (this.closedFlag) return;
    this.lastActivityMs = this.ctx.clock.now();
    if (this.expiry === undefined) this.armExpiry(this.expiryMs());
  }

  private expiryMs(): number {
    return (this.ctx.timeoutSec + this.ctx.timeoutGraceSec) * 1000;
  }

  private armExpiry(delayMs: number): void {
    this.expiry = this.ctx.clock.setTimeout(() => {
      this.expiry = undefined;
      if (this.closedFlag) return;
      const left = this.lastActivityMs + this.expiryMs() - this.ctx.clock.now();
      if (left > 0) {
        this.armExpiry(left);
        return;
      }
      this.ctx.counters.sessionsExpired++;
      this.close('timeout');
    }, delayMs);
  }

  /** Sets `Session: id;timeout=N` on a response (the one place it is written). */
  header(res: RtspResponse): RtspResponse {
    return setSessionHeader(res, this.id, this.ctx.timeoutSec);
  }

  /**
   * Sets up the track `control`: 455 when it is set up already; `build` binds its transport and
   * makes the presentation's setup, which the session keeps from then on.
   */
  async addSetup(control: string, build: () => Promise<T> | T): Promise<T> {
    this.assertNotSetUp(control);
    const setup = await build();
    this.assertNotSetUp(control);
    this.setups.set(control, setup);
    return setup;
  }

  private assertNotSetUp(control: string): void {
    if (this.setups.has(control)) throw new RtspError(455, 'SRV_ERR_ALREADY_SETUP', `${control} is already set up in this session`);
  }

  /** A server port pair for a UDP SETUP (454 when the session closed meanwhile). */
  bindUdp(receiveBufferBytes?: number): Promise<UdpPortPair> {
    return bindSetupPair(this.ctx, () => this.closedFlag, receiveBufferBytes);
  }

  /**
   * The path to a client's UDP ports for one track (the shared pair's route or a pair of its own),
   * its egress and the Transport answer; 461/453 when refused.
   */
  connectUdp(
    clientPorts: [number, number],
    handlers: UdpTrackHandlers,
  ): Promise<{ udp: UdpBinding; egress: Egress; transport: TransportSpec }> {
    return connectUdpSetup(this.ctx, () => this.closedFlag, this.clientIp, clientPorts, handlers);
  }

  /**
   * The path to a client that plays one track: its UDP client_port (a route of the server's
   * shared pair, or a pair of the session's own connected to the client's ports; either way only
   * datagrams from those ports count; RTP "punches" keep the session alive) or interleaved
   * channels on `socket`, wrapped by the server's egress hook. `make` builds the presentation's
   * setup on that egress; RTCP from the client (RTCP port, odd channel, or what the hook hands
   * back) goes to what `rtcpOf` names of it.
   */
  async playPath(
    spec: TransportSpec,
    socket: ByteStream,
    track: { control: string; index: number },
    make: (egress: Egress, transport: TransportSpec) => T,
    rtcpOf: (setup: T) => { receive(data: Buffer, from: string, arrivalWallMs?: number): void } | undefined,
  ): Promise<T> {
    let setup: T | undefined;
    const receiveRtcp = (data: Buffer, from: string, arrivalWallMs?: number) => {
      if (setup) rtcpOf(setup)?.receive(data, from, arrivalWallMs);
    };
    if (spec.lowerTransport === 'TCP') {
      const channels = spec.interleaved ?? this.nextChannels();
      const transport = this.bindInterleaved(socket, channels, [
        { channel: channels[1], handler: (data, arrivalWallMs) => receiveRtcp(data, `tcp:${channels[1]}`, arrivalWallMs) },
      ]);
      const direct = new InterleavedEgress(socket, channels[0], channels[1]);
      setup = make(this.trackEgress(direct, track.control, track.index, receiveRtcp), transport);
      return setup;
    }
    const { udp, egress, transport } = await this.connectUdp(spec.clientPort ?? [0, 0], {
      rtp: () => this.touch(),
      rtcp: receiveRtcp,
    });
    try {
      setup = make(this.trackEgress(egress, track.control, track.index, receiveRtcp), transport);
    } catch (err) {
      udp.close();
      throw err;
    }
    setup.udp = udp;
    return setup;
  }

  /** The next free interleaved channel pair of this session. */
  nextChannels(): [number, number] {
    return nextChannels(this.channels);
  }

  /** The session ends when `socket` closes (a publisher's connection). */
  bindConnection(socket: ByteStream): void {
    this.ctx.registry.bindSocket(socket, this);
  }

  /**
   * Binds an interleaved track: one RTSP connection per session (459 otherwise), channels not
   * taken on that connection (461); `$` frames on the `receive` channels then reach `handler`.
   */
  bindInterleaved(
    socket: ByteStream,
    channels: [number, number],
    receive: { channel: number; handler: (data: Buffer, arrivalWallMs?: number) => void }[],
  ): TransportSpec {
    if (this.boundSocket && this.boundSocket !== socket) {
      throw new RtspError(459, 'SRV_ERR_AGGREGATE', 'interleaved tracks of one session must share one connection');
    }
    if (channels.some((c) => this.channels.includes(c) || this.ctx.registry.channelTaken(socket, c))) {
      throw new RtspError(461, 'SRV_ERR_CHANNEL_IN_USE', `interleaved channels ${channels.join('-')} in use`);
    }
    this.boundSocket = socket;
    this.channels.push(...channels);
    this.ctx.registry.bindSocket(socket, this);
    for (const r of receive) this.ctx.registry.bindChannel(socket, r.channel, this, r.handler);
    return { protocol: 'RTP', profile: 'AVP', lowerTransport: 'TCP', delivery: 'unicast', interleaved: channels, unknownParams: [] };
  }

  /**
   * The egress a track sends through: `direct`, wrapped by the server's egress hook (which may
   * hand the client's RTCP back through `receiveRtcp`); released at close.
   */
  trackEgress(
    direct: Egress,
    control: string,
    trackIndex: number,
    receiveRtcp: (data: Buffer, from: string) => void = () => undefined,
  ): Egress {
    const t = this.ctx.trackEgress(direct, {
      sessionId: this.id,
      media: this.media,
      control,
      trackIndex,
      impairment: this.impairment,
      receiveRtcp,
    });
    this.egresses.push(t);
    return t.egress;
  }

  /**
   * Ends the session once: expiry stopped, the presentation frees its media (its last RTCP and
   * BYEs go out), the registry lets it go (session-ended, whose traffic then counts everything
   * sent), then the session closes its UDP ports and track egresses.
   */
  close(reason: string): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.ctx.clock.clearTimeout(this.expiry);
    // The client's reports already at the server count (a last one sent just before TEARDOWN):
    // the session-ended record and the presentation's last QoS figures include them.
    for (const s of this.setups.values()) s.udp?.receivePending?.();
    this.presentation.close(reason);
    this.ctx.registry.remove(this, reason);
    for (const s of this.setups.values()) {
      // Not synchronously: dgram resolves the destination on the next tick before it sends, so a
      // close now would silently drop the BYE just queued. setImmediate runs after that tick.
      const udp = s.udp;
      if (udp) setImmediate(() => udp.close());
    }
    for (const e of this.egresses.splice(0)) e.release();
  }
}
