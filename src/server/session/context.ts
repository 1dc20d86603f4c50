import type { Clock } from '../../util/clock.ts';
import type { PortRange, Scheduler } from '../../transport/index.ts';
import type { SafeEmitter } from '../events.ts';
import type { MediaEntry } from '../media-catalog.ts';
import type { ReceiverReportRecord } from '../qos.ts';
import type { SessionRegistry } from './registry.ts';

export type SessionKind = 'file' | 'live-viewer' | 'publisher';

export interface ServerEvents {
  /** A session was admitted and answered its first SETUP (file, viewer) or ANNOUNCE (publisher). */
  'session-started': [{ id: string; kind: SessionKind; media: string; client: string }];
  /** A session ended: teardown, timeout, connection closed, setup failed, server shutdown, ... */
  'session-ended': [{ id: string; kind: SessionKind; media: string; reason: string }];
  /** A session began sending (PLAY) or receiving (RECORD). */
  'stream-started': [{ id: string; kind: SessionKind; media: string }];
  /** Kept for existing listeners: the same as session-started for file sessions and viewers. */
  'session-created': [{ id: string; media: string; client: string }];
  /** Kept for existing listeners: the same as session-ended for file sessions and viewers. */
  'session-closed': [{ id: string; media: string; reason: string }];
  'stream-ended': [{ id: string; control: string }];
  'receiver-report': [ReceiverReportRecord];
}

/** What sessions share: the server's clock, scheduler, settings, registry and event sink. */
export interface SessionContext {
  clock: Clock;
  scheduler: Scheduler;
  events: SafeEmitter<ServerEvents>;
  host: string;
  rtpPortRange: PortRange;
  /** The timeout advertised in `Session: id;timeout=N`. */
  timeoutSec: number;
  /** Extra grace after the advertised timeout before the session really expires. */
  timeoutGraceSec: number;
  cname: string;
  counters: { rtcpMalformed: number; rtcpReceived: number; sessionsExpired: number };
  /** Every session of the server, by id, connection and interleaved channel. */
  registry: SessionRegistry;
  /** A file session let go of its (shared) media entry. */
  releaseEntry(entry: MediaEntry): void;
}
