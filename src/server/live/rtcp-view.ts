import type { Egress } from '../../transport/index.ts';
import { RtcpSession } from '../../sender/rtcp-session.ts';
import type { SessionContext } from '../session/context.ts';
import type { LiveTrack } from './live-track.ts';

/**
 * RTCP for one viewer (or multicast group) of a live track, through the server's RtcpSession: SRs
 * carry the channel's sender state (SSRC, counters, the track's NTP↔RTP mapping), RRs back become
 * QoS records and `receiver-report` events like a file session's.
 */
export function liveRtcp(
  track: LiveTrack,
  egress: Egress,
  isPlaying: () => boolean,
  ctx: SessionContext,
  report: { sessionId: string; media: string; onActivity(): void },
): RtcpSession {
  const clock = ctx.clock;
  return new RtcpSession(track.sender, egress, {
    clock,
    random: ctx.random,
    scheduler: ctx.scheduler,
    cname: ctx.cname,
    isPlaying,
    rtpAt: (nowMs) => track.srRtpTimeAtWall(clock.wallAt(nowMs)),
    counters: ctx.counters,
    onActivity: () => report.onActivity(),
    report: { sessionId: report.sessionId, media: report.media, control: track.control, transport: egress.kind },
    onReport: (record) => ctx.events.emit('receiver-report', record),
  });
}
