import type { ReceiverReportRecord } from '../../sender/qos.ts';

/** The typed events of the server (see SafeEmitter in ../events.ts): sessions, streams, QoS. */
export type SessionKind = 'file' | 'live-viewer' | 'publisher';

/** What a session moved, for the line and the event at its end. */
export interface SessionTraffic {
  /** 'udp', 'tcp' (interleaved) or 'multicast'; several when tracks differ (joined with '+'). */
  transport: string;
  packetsSent: number;
  bytesSent: number;
  /** A publisher's RTP packets taken in. */
  packetsReceived?: number;
  /** RTCP receiver reports sent to a publisher (the last one with the BYE at its end). */
  reportsSent?: number;
  /** The last receiver report about each track that had one. */
  lastReports: ReceiverReportRecord[];
  /**
   * Packets sent on the reported tracks up to the highest sequence number their last reports
   * acknowledge (packetsUpToReport): the packets the reported loss is a share of.
   */
  reportedPackets?: number;
}

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
  /**
   * A session ended: teardown, timeout, connection closed, setup failed, server shutdown, ...
   * With how long it lived and what it moved.
   */
  'session-ended': [
    {
      id: string;
      kind: SessionKind;
      media: string;
      reason: string;
      client: string;
      durationMs: number;
      traffic: SessionTraffic | undefined;
    },
  ];
  /**
   * A session began sending (PLAY) or receiving (RECORD): the tracks it sends, with what the
   * first packet of each carries (none for a publisher, which receives), and its transport.
   */
  'stream-started': [{ id: string; kind: SessionKind; media: string; client: string; transport: string; tracks: StreamTrackStart[] }];
  /** Kept for existing listeners: the same as session-started for file sessions and viewers. */
  'session-created': [{ id: string; media: string; client: string }];
  /** Kept for existing listeners: the same as session-ended for file sessions and viewers. */
  'session-closed': [{ id: string; media: string; reason: string }];
  'stream-ended': [{ id: string; control: string }];
  'receiver-report': [ReceiverReportRecord];
  /** An RTSP request was answered (metrics): its method and status, and the refusal's code when it was refused. */
  request: [{ method: string; status: number; code?: string }];
}
