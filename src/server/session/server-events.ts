import type { ReceiverReportRecord } from '../../sender/qos.ts';

/** The typed events of the server (see SafeEmitter in ../events.ts): sessions, streams, QoS. */
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
