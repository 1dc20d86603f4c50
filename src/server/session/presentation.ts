import type { RtspRequest, TransportSpec } from '../../rtsp/index.ts';
import type { ByteStream } from '../../transport/index.ts';
import type { SessionKind, SessionTraffic, StreamTrackStart } from './server-events.ts';
import type { SessionMethod } from './method-table.ts';

/** What the session keeps of every track it set up, whatever the presentation puts beside it. */
export interface SetupBase {
  /** The Transport answered to the SETUP. */
  transport: TransportSpec;
  /** What a UDP track holds (its own port pair, or its route of the shared pair): closed by the session when it ends. */
  udp?: { readonly rtpPort: number; readonly rtcpPort: number; receivePending?(): void; close(): void };
}

/** A presentation's part of SessionTraffic. */
export type PresentationTraffic = Omit<SessionTraffic, 'transport'>;

/** What a presentation answers to PLAY; the session handler turns it into the response. */
export interface PlayAnswer {
  /** The Range header value (`npt=…`). */
  range: string;
  /** The aggregate URL the RTP-Info entries are relative to (as the client wrote it). */
  aggregateUrl: string;
  /** Per set-up track: the SSRC, sequence number and RTP time of the first packet it sends. */
  rtpInfo: StreamTrackStart[];
  /** Further headers after RTP-Info (Scale, Speed), in order. */
  extra?: [string, string][];
  /** Starts (or restarts) sending once the response is out; absent when nothing changes. */
  begin?: () => void;
}

/**
 * What an RTSP session plays or records: a file (VoD, seek, trick play), a view of a live channel,
 * or a publisher's record target. The session (rtsp-session.ts) owns the id, the state, expiry,
 * the setups map, interleaved channels and the Session header; the presentation owns the media.
 */
export interface Presentation {
  readonly kind: SessionKind;
  /** The name the session plays or records (`sample.mp4`, `live/NAME`). */
  readonly media: string;
  /** The session methods this kind of presentation answers; the method table decides when. */
  readonly methods: readonly SessionMethod[];
  /**
   * SETUP of one track (state checked already): the track `control` names (404 when unknown), or
   * on the aggregate URL the next one not set up (459 when none), over `spec` (chosen by the
   * presentation's source) on the RTSP connection the request came on. Returns the Transport answer.
   */
  setupTrack(control: string | undefined, spec: TransportSpec, connection: ByteStream): Promise<TransportSpec>;
  /** PLAY (state checked already): positions the media and says what the response reports. */
  play(req: RtspRequest): Promise<PlayAnswer>;
  /** PAUSE (state checked already): the Range header of the answer, if any. */
  pause(): string | undefined;
  /** RECORD (state checked already). */
  record?(): void;
  /** What it moved so far (the session adds the transport). */
  traffic(): PresentationTraffic;
  /** Frees what the presentation holds (streams, RTCP, BYEs, the file); the session closes ports and egresses after. */
  close(reason: string): void;
}
