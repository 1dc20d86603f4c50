import type { Socket } from 'node:net';
import type { TransportSpec } from '../../rtsp/index.ts';
import type { Egress, ImpairmentSpec } from '../../transport/index.ts';
import type { TimerHandle } from '../../util/clock.ts';
import type { TrackEgress } from '../egress-hook.ts';
import { RtspError } from '../errors.ts';
import type { SessionContext, SessionKind } from './context.ts';
import { transition } from './method-table.ts';
import type { SessionMethod, SessionState } from './method-table.ts';
import type { RegisteredSession } from './registry.ts';
import { nextChannels } from './transport-negotiation.ts';

/**
 * What every RTSP session is, whatever it plays or records (a file, a live channel, a publisher's
 * record target): its id and state, its expiry, its interleaved channels on one RTSP connection,
 * and its place in the registry. The state changes only through commit(), along method-table.ts.
 */
export abstract class RtspSessionCore implements RegisteredSession {
  private current: SessionState = 'init';
  private expiry: TimerHandle | undefined;
  private closedFlag = false;
  /** The RTSP connection an interleaved session is bound to. */
  private boundSocket: Socket | undefined;
  private readonly channels: number[] = [];
  /** Network emulation for this session's tracks (its URL's, its DESCRIBE's, or `--netem`). */
  impairment: ImpairmentSpec | undefined;
  /** What the egress hook gave each track; released when the session closes. */
  private readonly egresses: TrackEgress[] = [];

  constructor(
    readonly id: string,
    readonly kind: SessionKind,
    readonly clientIp: string,
    protected readonly ctx: SessionContext,
  ) {
    this.touch();
  }

  abstract get media(): string;

  get state(): SessionState {
    return this.current;
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  get interleavedSocket(): Socket | undefined {
    return this.boundSocket;
  }

  /** 455 with Allow when `method` is not valid in the current state. */
  check(method: SessionMethod): void {
    const t = transition(this.current, method);
    if (!t.ok) throw new RtspError(455, 'SRV_ERR_STATE', `${method} not valid in state ${this.current}`, { Allow: t.allowed.join(', ') });
  }

  /** `method` succeeded: the state moves along the table (the only place a state is written). */
  commit(method: SessionMethod): void {
    const t = transition(this.current, method);
    if (!t.ok) throw new Error(`${method} committed in state ${this.current}`);
    this.current = t.next;
  }

  /** Any RTSP request or RTCP packet from the client keeps the session alive. */
  touch(): void {
    if (this.closedFlag) return;
    this.ctx.clock.clearTimeout(this.expiry);
    this.expiry = this.ctx.clock.setTimeout(
      () => {
        this.ctx.counters.sessionsExpired++;
        this.close('timeout');
      },
      (this.ctx.timeoutSec + this.ctx.timeoutGraceSec) * 1000,
    );
  }

  /** The next free interleaved channel pair of this session. */
  nextChannels(): [number, number] {
    return nextChannels(this.channels);
  }

  /**
   * Binds an interleaved track: one RTSP connection per session (459 otherwise), channels not
   * taken on that connection (461); `$` frames on the `receive` channels then reach `handler`.
   */
  bindInterleaved(
    socket: Socket,
    channels: [number, number],
    receive: { channel: number; handler: (data: Buffer) => void }[],
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

  /** The egress a track sends through: `direct`, wrapped by the server's egress hook. */
  protected trackEgress(direct: Egress, control: string, trackIndex: number): Egress {
    const t = this.ctx.trackEgress(direct, { sessionId: this.id, media: this.media, control, trackIndex, impairment: this.impairment });
    this.egresses.push(t);
    return t.egress;
  }

  /** Lets go of every track egress (an impairment drops the packets it still holds). */
  protected releaseEgresses(): void {
    for (const e of this.egresses.splice(0)) e.release();
  }

  /**
   * Marks the session closed, stops its expiry and takes it out of the registry (session-ended).
   * False when it was closed already. Subclasses free their own resources after it.
   */
  protected beginClose(reason: string): boolean {
    if (this.closedFlag) return false;
    this.closedFlag = true;
    this.ctx.clock.clearTimeout(this.expiry);
    this.ctx.registry.remove(this, reason);
    return true;
  }

  abstract close(reason: string): void;
}
