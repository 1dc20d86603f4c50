import type { ReceiverReportRecord } from '../../sender/qos.ts';

/** The typed events of the server (see SafeEmitter in ../events.ts): sessions, streams, QoS. */
export type SessionKind = 'file' | 'live-viewer' | 'publisher';

/** One track of a stream that began sending: its RTP-Info, and the SSRC it sends under. */
export interface StreamTrackStart {
  control: string;
  ssrc: number;
  /** Sequence number and RTP time of the first packet of this PLAY (as RTP-Info says). */
  seq: number;
  rtptime: number;
}

export interface ServerEvents {
  /** A session was admitted and answered its first SETUP (file, viewer) or ANNOUNCE (publisher). */
  'session-started': [{ id: string; kind: SessionKind; media: string; client: string }];
  /** A session ended: teardown, timeout, connection closed, setup failed, server shutdown, ... */
  'session-ended': [{ id: string; kind: SessionKind; media: string; reason: string }];
  /**
   * A session began sending (PLAY) or receiving (RECORD): the tracks it sends, with what the
   * first packet of each carries (none for a publisher, which receives).
   */
  'stream-started': [{ id: string; kind: SessionKind; media: string; tracks: StreamTrackStart[] }];
  /** Kept for existing listeners: the same as session-started for file sessions and viewers. */
  'session-created': [{ id: string; media: string; client: string }];
  /** Kept for existing listeners: the same as session-ended for file sessions and viewers. */
  'session-closed': [{ id: string; media: string; reason: string }];
  'stream-ended': [{ id: string; control: string }];
  'receiver-report': [ReceiverReportRecord];
}
