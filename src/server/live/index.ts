/**
 * live: channels at `rtsp://host/live/NAME` that every viewer joins at the current point. A
 * channel's tracks each have ONE sender state (SSRC, sequence numbers, timestamps, SR counters)
 * fanned out to the viewers' egresses (UDP, interleaved, or one shared multicast send). Sources:
 * a file looped on the channel's own timeline (`serve --live NAME=FILE`), a publisher (ANNOUNCE +
 * RECORD, headers rewritten onto the channel's), or an ffmpeg process we run that publishes to us
 * (`--live NAME=ffmpeg:<input args>`), or an origin server this edge pulls from over RTSP
 * (`--live NAME=rtsp://ORIGIN/PATH`, pull-source.ts). The RTSP handlers pass every `live/...` request here.
 */
export { LiveHub, LiveHubError, liveSpecPath, parseLiveSpec, ON_DEMAND_CLOSE_AFTER_MS } from './live-hub.ts';
export type { LiveChannelSnapshot, LiveChannelSpec, LiveHubOptions } from './live-hub.ts';
export { handleLiveRequest, LIVE_METHODS } from './live-handlers.ts';
export { LiveChannel } from './live-channel.ts';
export { LiveTrack } from './live-track.ts';
export type { LiveTrackFormat } from './live-track.ts';
export { RtpRelayMap, continuationFor } from './rtp-relay-map.ts';
export { h264StartsKeyframe, h265StartsKeyframe } from './keyframe.ts';
export { liveSdp, tracksFromAnnouncedSdp } from './live-sdp.ts';
export { parseMulticastRange, isMulticastAddress } from './multicast.ts';
export type { MulticastOptions } from './multicast.ts';
export { ffmpegSourceArgs } from './ffmpeg-source.ts';
export { splitArgs } from './split-args.ts';
export { RtspPullSource, PULL_DEFAULTS, PULL_MAX_REDIRECTS, PULL_TRANSPORTS } from './pull-source.ts';
export type { PullCounters, PullOptions, PullTimings, PullTransport } from './pull-source.ts';
export { TrackRelay } from './track-relay.ts';
export { pullTlsFor, readPullCa } from './pull-tls.ts';
export type { PullTlsSetting } from './pull-tls.ts';
