/**
 * server: the RTSP server. Connections and request handling, sessions (one RtspSession in
 * session/ over a presentation: a file, a live view or a publisher's record target; method
 * table, registry), the media catalog (files opened and packetized once, shared by sessions),
 * per-session RTP streams and RTCP, and the typed API (events + snapshot) for dashboard and lab.
 */
export { RtspServer, DEFAULTS } from './rtsp-server.ts';
export type { ServerOptions, ServerSnapshot, SessionInfo, SessionSnapshot, StreamSnapshot, UdpPortsOption } from './rtsp-server.ts';
export type { ServerEvents, SessionKind, StreamTrackStart } from './session/server-events.ts';
export type { EgressHook, EgressHookFactory, TrackEgress, TrackEgressRequest } from './egress-hook.ts';
export type { SessionRegistry } from './session/registry.ts';
export type { RtspSession } from './session/rtsp-session.ts';
export type { Presentation, PlayAnswer, SetupBase } from './session/presentation.ts';
export type { FileSession, TrackSetup } from './file-presentation.ts';
export type { ReceiverReportRecord, VoipMetricsRecord } from '../sender/qos.ts';
export { openMediaEntry } from './media-catalog.ts';
export type { MediaEntry } from './media-catalog.ts';
export { ChunkCache } from '../sender/packetized-track.ts';
export { describeSdp } from './describe.ts';
export { LiveHubError } from './live/live-hub.ts';
export type { LiveChannelSnapshot } from './live/index.ts';
export { impairmentFromArgs, impairmentFromQuery } from './impairment.ts';
export { PathRules, isPattern, pathPatternError } from './path-rules.ts';
export type { PathAccess, PathRule, PathSource } from './path-rules.ts';
