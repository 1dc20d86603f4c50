import { cryptoRandom } from '../../util/random.ts';
import type { Random } from '../../util/random.ts';
import { writeRtpFixedHeader } from '../../rtp/index.ts';
import type { Egress } from '../../transport/index.ts';
import type { Clock } from '../../util/clock.ts';
import type { PayloadFormat } from '../payload-formats.ts';
import type { SenderCounters } from '../rtp-stream.ts';

/** What a live track carries: the SDP lines of its payload format (no packetizer: sources bring payloads). */
export type LiveTrackFormat = Omit<PayloadFormat, 'media' | 'packetize'> & { media: 'video' | 'audio' | string };

/** A viewer's (or a multicast group's) place on a track: its egress and whether it waits for a keyframe. */
export interface LiveSink {
  egress: Egress;
  /** Set at join for video: nothing is sent until an access unit that starts with a keyframe. */
  waitingForKeyframe: boolean;
  joinedAtMs: number;
  packets: number;
}

/** A video viewer waits at most this long for a keyframe before it gets packets anyway. */
export const MAX_KEYFRAME_WAIT_MS = 5000;

/**
 * One track of a live channel: ONE sender state shared by every viewer (SSRC, sequence numbers,
 * RTP timestamps, SR counters; RFC 3550 §5.1 random initial values), and the fan-out of every
 * packet to the sinks that joined. Each packet's 12-byte header is written once, so every viewer
 * gets byte-identical packets.
 */
export class LiveTrack {
  readonly ssrc: number;
  /** Next sequence number to send. */
  seq: number;
  /** Random offset sources add to their media RTP time. */
  readonly timestampBase: number;
  readonly counters: SenderCounters = { packets: 0, octets: 0, lastSentMs: undefined };
  /** Sinks joined now. */
  readonly sinks = new Set<LiveSink>();
  /** Last timestamp sent and the wall clock then (continuity for a new publisher). */
  last: { timestamp: number; wallMs: number } | undefined;
  /** NTP↔RTP mapping for our SRs: RTP time `rtp` was at wall clock `wallMs`. */
  private reference: { wallMs: number; rtp: number } | undefined;

  constructor(
    readonly control: string,
    public format: LiveTrackFormat,
    private readonly clock: Clock,
    random: Random = cryptoRandom,
  ) {
    this.ssrc = random.uint32();
    this.seq = random.uint16();
    this.timestampBase = random.uint32();
  }

  get clockRate(): number {
    return this.format.clockRate;
  }

  get isVideo(): boolean {
    return this.format.media === 'video';
  }

  /** Adds a sink; video sinks start at the next keyframe. */
  join(egress: Egress): LiveSink {
    const sink: LiveSink = { egress, waitingForKeyframe: this.isVideo, joinedAtMs: this.clock.now(), packets: 0 };
    this.sinks.add(sink);
    return sink;
  }

  leave(sink: LiveSink | undefined): void {
    if (sink) this.sinks.delete(sink);
  }

  /** Sets the wall-clock ↔ RTP mapping our sender reports use (file timeline, or the publisher's SR). */
  setReference(wallMs: number, rtp: number): void {
    this.reference = { wallMs, rtp: rtp >>> 0 };
  }

  /** Our RTP timestamp for wall-clock time `wallMs` (for sender reports and RTP-Info). */
  rtpTimeAtWall(wallMs: number): number {
    const ref =
      this.reference ?? (this.last ? { wallMs: this.last.wallMs, rtp: this.last.timestamp } : { wallMs, rtp: this.timestampBase });
    return (ref.rtp + Math.round(((wallMs - ref.wallMs) * this.clockRate) / 1000)) >>> 0;
  }

  /**
   * Sends one packet to every sink. `seq` is the packet's sequence number (a relay keeps the
   * publisher's gaps); by default the next one. `keyframeStart` marks the first packet of an access
   * unit a decoder can start from (always true for audio).
   */
  send(marker: boolean, timestamp: number, payload: Buffer, keyframeStart: boolean, seq = this.seq): void {
    const header = Buffer.allocUnsafe(12);
    writeRtpFixedHeader(header, 0, marker, this.format.payloadType, seq, timestamp >>> 0, this.ssrc);
    if (((seq - this.seq) & 0xffff) < 0x8000) this.seq = (seq + 1) & 0xffff;
    const now = this.clock.now();
    this.counters.packets++;
    this.counters.octets += payload.length;
    this.counters.lastSentMs = now;
    this.last = { timestamp: timestamp >>> 0, wallMs: this.clock.wallNow() };
    for (const sink of this.sinks) {
      if (sink.waitingForKeyframe) {
        if (!keyframeStart && now - sink.joinedAtMs < MAX_KEYFRAME_WAIT_MS) continue;
        sink.waitingForKeyframe = false;
      }
      sink.packets++;
      sink.egress.sendRtp(header, payload);
    }
  }
}
