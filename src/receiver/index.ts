/**
 * receiver: `streamlab play`. The RTSP client session (play-session.ts) over an RTSP control
 * connection (transport/rtsp-client.ts), one TrackReceiver per track (RFC 3550 statistics, RTCP receiver
 * reports, jitter buffer, depacketizer), presentation times on one clock, sinks for the units,
 * ingress impairment (`play --impair`) and keyboard pause/resume.
 */
export { PlaySession, describeError } from './play-session.ts';
export type { PlayEnd, PlayOptions, TrackImpairment } from './play-session.ts';
export { keyboardHandler } from './keyboard.ts';
export type { KeyAction, PausableSession } from './keyboard.ts';
export { RtspClientConnection, RtspClientError } from '../transport/rtsp-client.ts';
export { tracksFromSdp } from './sdp-tracks.ts';
export type { SdpTrack } from './sdp-tracks.ts';
export { SSRC_SWITCH_SILENCE_MS, TrackReceiver } from './track-receiver.ts';
export type { JitterSettings, ReceivedUnit, RttStats } from './track-receiver.ts';
export { StatsSeries, statusLine, trackStats } from './play-stats.ts';
export type { SecondSample, TrackStats } from './play-stats.ts';
export { CountingSink } from './sinks/sink.ts';
export { TsOutputSink } from './sinks/ts-output.ts';
export { G711_SILENCE, PCM_MAX_FILL_SEC, PcmTimeline } from './sinks/pcm-timeline.ts';
export { CleanEnd } from './sinks/clean-end.ts';
export type { TimedUnit } from './sinks/clean-end.ts';
export type { PcmTimelineStats } from './sinks/pcm-timeline.ts';
export type { Sink, SinkCloseOptions, SinkResult } from './sinks/sink.ts';
export * from './jitter-buffer/index.ts';
