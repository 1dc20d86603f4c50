/**
 * server/push: `streamlab push`, the server's sender without RTSP. A file's tracks go as RTP/RTCP
 * to a fixed unicast or multicast IPv4 address (ports PORT, PORT+2, ... or as given), with the SDP
 * that players open; optional loop (one continuous RTP stream), start and duration. A live source
 * (`ffmpeg:<input args>`) is encoded by ffmpeg to MPEG-TS and sent as one MP2T stream (RFC 2250).
 * Built from the server's packetized tracks, RtpStream, RtcpSession and the process scheduler.
 */
export { Pusher } from './pusher.ts';
export type { PushOptions, PushSummary, PushTrackSummary } from './pusher.ts';
export { pushSdp } from './push-sdp.ts';
export type { PushSdpOptions } from './push-sdp.ts';
export {
  parsePushUrl,
  parseIpv4,
  isIpv4Multicast,
  resolveDestination,
  trackPorts,
  DEFAULT_MULTICAST_TTL,
  MIN_PUSH_PORT,
  MAX_PUSH_PORT,
} from './destination.ts';
export type { PushDestination, TrackPorts, DestinationRequest } from './destination.ts';
export { openFileInput } from './file-input.ts';
export type { PushInput, PushTrackInput } from './file-input.ts';
export { LiveTsSource, LIVE_PREFIX, openLiveInput, splitArgs, mp2tFormat } from './live-input.ts';
export { PushError } from './errors.ts';
export type { PushErrorCode, PushResult } from './errors.ts';
