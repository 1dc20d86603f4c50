import { parseRtpPacket } from '../../rtp/index.ts';
import { ntpMiddle32, ntpToUnixMs } from '../../util/ntp.ts';
import { keyframeDetectorFor } from './keyframe.ts';
import type { AnnouncedTrack } from './live-sdp.ts';
import type { LiveTrack } from './live-track.ts';
import { PublisherTrackRtcp, defaultSessionBps } from './publisher-rtcp.ts';
import { RtpRelayMap, continuationFor } from './rtp-relay-map.ts';

/** What one relayed RTP packet came to. */
export type RelayOutcome = 'relayed' | 'malformed' | 'wrong-ssrc';

/**
 * One track of a stream relayed into a live channel: a publisher's (ANNOUNCE + RECORD) or one an
 * edge pulls from its origin (pull-source.ts). RTP of the one source of the track (the declared
 * SSRC, else the first packet's) is rewritten onto the channel track's own SSRC, sequence numbers
 * and timestamps (RtpRelayMap: a new run continues where the last stopped, gaps kept); the
 * source's sender reports set the track's NTP↔RTP reference in our timestamp space, so the SRs
 * the viewers get carry the source's timing (A/V sync holds across the relay). An SR that comes
 * before the first RTP packet (our server sends one first) anchors the timestamp map at once when
 * the source's SSRC is known (declared in SETUP), so viewers that join before the first packet get
 * the right timing; else it is kept until a packet fixes the mapping. Receiver statistics and RRs
 * about the source are `rtcp`'s. No sockets or timers here.
 */
export class TrackRelay {
  readonly detect: ((payload: Uint8Array) => boolean) | undefined;
  readonly rtcp: PublisherTrackRtcp;
  /** The source's SSRC: declared (Transport ssrc=) or locked on the first RTP packet. */
  ssrc: number | undefined;
  private map: RtpRelayMap | undefined;
  private pendingSr: { ssrc: number; ntpMs: number; rtp: number } | undefined;

  constructor(
    readonly announced: AnnouncedTrack,
    o: { ssrc: number; cname: string },
  ) {
    this.detect = keyframeDetectorFor(announced.encodingName);
    const f = announced.format;
    this.rtcp = new PublisherTrackRtcp({
      ssrc: o.ssrc,
      cname: o.cname,
      clockRate: f.clockRate,
      sessionBps: f.bitrate > 0 ? f.bitrate : defaultSessionBps(f.media),
    });
  }

  /** One RTP packet of the source, arrived at `nowMs` (server clock), to `track`'s viewers. */
  rtp(buf: Buffer, track: LiveTrack | undefined, nowMs: number, wallMs: number): RelayOutcome {
    const p = parseRtpPacket(buf);
    if (!p.ok || !track || p.value.payloadType !== this.announced.format.payloadType) return 'malformed';
    // One source per track: another SSRC (a second sender, or forged packets) would interleave two streams.
    this.ssrc ??= p.value.ssrc;
    if (p.value.ssrc !== this.ssrc) return 'wrong-ssrc';
    this.rtcp.onRtp(p.value.ssrc, p.value.sequenceNumber, p.value.timestamp, nowMs, p.value.payload.length);
    const first = this.map === undefined;
    this.map ??= new RtpRelayMap(continuationFor(track, wallMs));
    const out = this.map.map(p.value.sequenceNumber, p.value.timestamp);
    if (first && this.pendingSr?.ssrc === this.ssrc) this.applySr(track, this.pendingSr.ntpMs, this.pendingSr.rtp);
    if (first) this.pendingSr = undefined;
    const payload = p.value.payload;
    track.send(p.value.marker, out.timestamp, payload, this.detect ? this.detect(payload) : true, out.seq);
    return 'relayed';
  }

  /**
   * A sender report of `ssrc` (NTP seconds and fraction, RTP timestamp) arrived at `nowMs` (`wallMs`). True
   * when it was the track's source's and set (or, before the first packet, will set) the timing.
   */
  senderReport(
    ssrc: number,
    sr: { ntpSeconds: number; ntpFraction: number; rtpTimestamp: number },
    track: LiveTrack | undefined,
    nowMs: number,
    wallMs?: number,
  ): boolean {
    // Only the track's own source sets the timing of what viewers get.
    if (this.ssrc !== undefined && ssrc !== this.ssrc) return false;
    const ntp = { seconds: sr.ntpSeconds, fraction: sr.ntpFraction };
    this.rtcp.onSenderReport(ssrc, ntpMiddle32(ntp), nowMs);
    if (!track) return false;
    if (!this.map && this.ssrc !== undefined && wallMs !== undefined) {
      // The SR's RTP time is "now" at the source: it continues the track from here.
      this.map = new RtpRelayMap(continuationFor(track, wallMs), sr.rtpTimestamp);
    }
    if (!this.map) {
      this.pendingSr = { ssrc, ntpMs: ntpToUnixMs(ntp), rtp: sr.rtpTimestamp };
      return true;
    }
    this.applySr(track, ntpToUnixMs(ntp), sr.rtpTimestamp);
    return true;
  }

  /** The source's clock pairs NTP and RTP time; ours are the same instant in our timestamp space. */
  private applySr(track: LiveTrack, ntpMs: number, rtp: number): void {
    const ts = this.map?.timestamp(rtp);
    if (ts !== undefined) track.setReference(ntpMs, ts);
  }
}
