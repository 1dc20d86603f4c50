/**
 * server/push: `streamlab push`, the server's sender without RTSP. A file's tracks go as RTP/RTCP
 * to a fixed unicast or multicast IPv4 address (ports PORT, PORT+2, ... or as given), with the SDP
 * that players open; optional loop (one continuous RTP stream), start and duration. Built from the
 * server's packetized tracks, RtpStream, RtcpSession and the process scheduler.
 */
export { Pusher } from './pusher.ts';
export type { PushOptions, PushSummary, PushTrackSummary } from './pusher.ts';
export { pushSdp } from './push-sdp.ts';
export type { PushSdpOptions } from './push-sdp.ts';
export { parsePushUrl, parseIpv4, isIpv4Multicast, resolveDestination, trackPorts, DEFAULT_MULTICAST_TTL, MIN_PUSH_PORT, MAX_PUSH_PORT } from './destination.ts';
export type { PushDestination, TrackPorts, DestinationRequest } from './destination.ts';
export { LoopedSource, loopPeriodSec } from './looped-source.ts';
export { PushError } from './errors.ts';
export type { PushErrorCode, PushResult } from './errors.ts';
