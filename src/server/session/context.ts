import type { Clock } from '../../util/clock.ts';
import type { Random } from '../../util/random.ts';
import type { PortRange, Scheduler, SharedUdpPorts } from '../../transport/index.ts';
import type { SafeEmitter } from '../events.ts';
import type { EgressHook } from '../egress-hook.ts';
import type { MediaEntry } from '../media-catalog.ts';
import type { SessionRegistry } from './registry.ts';
import type { ServerEvents } from './server-events.ts';

export type { ServerEvents, SessionKind } from './server-events.ts';

/** What sessions share: the server's clock, scheduler, settings, registry and event sink. */
export interface SessionContext {
  clock: Clock;
  /** Session ids, SSRCs, first sequence numbers, RTCP intervals, port choice (ServerOptions.random). */
  random: Random;
  scheduler: Scheduler;
  events: SafeEmitter<ServerEvents>;
  host: string;
  rtpPortRange: PortRange;
  /**
   * The server's one RTP/RTCP pair every UDP play track shares (bound at listen, or on first use):
   * ServerOptions.udpPorts. Absent: each UDP track binds a pair of its own (per-session).
   */
  sharedUdp?: () => Promise<SharedUdpPorts>;
  /** The timeout advertised in `Session: id;timeout=N`. */
  timeoutSec: number;
  /** Extra grace after the advertised timeout before the session really expires. */
  timeoutGraceSec: number;
  cname: string;
  /** Put before every session id (ServerOptions.sessionIdPrefix; a worker's number). */
  sessionIdPrefix?: string;
  counters: {
    rtcpMalformed: number;
    rtcpReceived: number;
    natKeepAlives: number;
    sessionsExpired: number;
    /** Live fan-out pacing (LiveTrack): packets held for a later millisecond, and full holds. */
    fanoutHeld: number;
    fanoutOverflows: number;
  };
  /** Every session of the server, by id, connection and interleaved channel. */
  registry: SessionRegistry;
  /** Wraps each track's path to its client (impairment; the lab's observer): ServerOptions.egress. */
  trackEgress: EgressHook;
  /** A file session let go of its (shared) media entry. */
  releaseEntry(entry: MediaEntry): void;
}
