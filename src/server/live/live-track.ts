import { cryptoRandom } from '../../util/random.ts';
import type { Random } from '../../util/random.ts';
import type { Egress, ScheduledTask, Scheduler, SendLane } from '../../transport/index.ts';
import type { Clock } from '../../util/clock.ts';
import { createLogger } from '../../util/log.ts';
import type { PayloadFormat } from '../../sender/payload-formats.ts';
import { RtpSender } from '../../sender/rtp-sender.ts';
import type { RtpOutput } from '../../sender/rtp-sender.ts';

/** What a live track carries: the SDP lines of its payload format (no packetizer: sources bring payloads). */
export type LiveTrackFormat = Omit<PayloadFormat, 'media' | 'packetize'> & { media: 'video' | 'audio' | string };

/** A viewer's (or a multicast group's) place on a track: its egress and whether it waits for a keyframe. */
export interface LiveSink {
  egress: Egress;
  /** Set at join for video: nothing is sent until an access unit that starts with a keyframe. */
  waitingForKeyframe: boolean;
  joinedAtMs: number;
  packets: number;
  bytes: number;
}

const log = createLogger('live');

/** A video viewer waits at most this long for a keyframe before it gets packets anyway. */
export const MAX_KEYFRAME_WAIT_MS = 5000;

/**
 * Datagrams a track hands its viewers within a millisecond before it holds the rest of a burst
 * for the next: a bound on what one wake-up sends (a few ms of the kernel's work on the 2-core
 * VM), so that a keyframe (~12 packets) to many viewers is not one long native call. A frame
 * leaves with its packets together (3 packets to up to ~680 viewers), so that each viewer's
 * fragments are one UDP GSO message (the wake's regrouping by egress): at 512 a frame to 400
 * viewers went a packet a millisecond, none of it segmented, and cost 20-30 % more CPU with no
 * better audio jitter (bench/RESULTS.md, 2026-12-07 12:00). Audio is not behind video: a live
 * file's video goes at the midpoints of its audio lattice, and a wake's audio leaves first.
 */
export const FANOUT_DATAGRAMS_PER_MS = 2048;

/** Packets a track holds at most; beyond, everything held goes at once (counted: `pacingOverflows`). */
export const MAX_HELD_PACKETS = 64;

/** Server-wide totals of the fan-out pacing (summed over every track, ended ones too: /metrics). */
export interface FanoutTotals {
  fanoutHeld: number;
  fanoutOverflows: number;
}

/** What paces a track's fan-out: the scheduler that sends held packets, and the totals it adds to. */
export interface FanoutPacer {
  scheduler: Scheduler;
  totals: FanoutTotals;
}

interface HeldPacket {
  header: Buffer;
  payload: Buffer;
  lane: SendLane;
  keyframeStart: boolean;
}

/**
 * One track of a live channel: ONE RtpSender shared by every viewer (SSRC, sequence numbers, RTP
 * timestamps, SR statistics), and the fan-out of every packet to the sinks that joined. Each
 * packet's 12-byte header is written once, so every viewer gets byte-identical packets.
 */
export class LiveTrack implements RtpOutput {
  readonly sender: RtpSender;
  /** Sinks joined now. */
  readonly sinks = new Set<LiveSink>();
  /** Last timestamp sent and the wall clock then (continuity for a new publisher). */
  last: { timestamp: number; wallMs: number } | undefined;
  /** NTP↔RTP mapping for our SRs: RTP time `rtp` was at wall clock `wallMs`. */
  private reference: { wallMs: number; rtp: number } | undefined;
  /**
   * Set by a source whose sender reports carry the timing (an edge's pull): until one of them set
   * the reference, the viewers get no SR (srRtpTimeAtWall is undefined) rather than one guessed
   * from the arrival of the latest packet, whose timestamp is not "now" (frames come in bursts, in
   * decoding order, ahead of their time) and would skew audio against video until the next SR.
   */
  timingFromSource = false;
  /** Packets whose fan-out was held for a later millisecond, and how often the hold overflowed. */
  readonly pacing = { heldPackets: 0, pacingOverflows: 0 };
  /**
   * When the current millisecond ends (its start + 1, computed once) and the datagrams handed out
   * in it. The drain is scheduled at exactly this value and a new millisecond starts at it: a
   * comparison of `now - start >= 1` instead fails when start + 1 rounds down (a start just below
   * a power of two, 1023.6 + 1 - 1023.6 < 1), and the drain then found its millisecond not over
   * and scheduled itself again at the same time, for ever.
   */
  private windowEndMs = -Infinity;
  private windowUsed = 0;
  private readonly held: HeldPacket[] = [];
  private drain: ScheduledTask | undefined;

  constructor(
    readonly control: string,
    private current: LiveTrackFormat,
    private readonly clock: Clock,
    random: Random = cryptoRandom,
    /** Paces large fan-outs (FANOUT_DATAGRAMS_PER_MS); without it every packet goes at once. */
    private readonly pacer?: FanoutPacer,
  ) {
    this.sender = new RtpSender(current, this, random);
  }

  get format(): LiveTrackFormat {
    return this.current;
  }

  /** A new publisher of the same shape (codec, clock rate) brings its own fmtp: same sender. */
  set format(f: LiveTrackFormat) {
    this.current = f;
    this.sender.format = f;
  }

  /**
   * The sequence number the viewers get next (RTP-Info of a viewer joining now): the first held
   * packet's while a burst is paced, else the sender's next.
   */
  get nextSeq(): number {
    const first = this.held[0];
    return first ? first.header.readUInt16BE(2) : this.sender.seq;
  }

  get clockRate(): number {
    return this.format.clockRate;
  }

  get isVideo(): boolean {
    return this.format.media === 'video';
  }

  /** Adds a sink; video sinks start at the next keyframe. */
  join(egress: Egress): LiveSink {
    const sink: LiveSink = { egress, waitingForKeyframe: this.isVideo, joinedAtMs: this.clock.now(), packets: 0, bytes: 0 };
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

  /** Our RTP timestamp at `wallMs` for a sender report; undefined while the source's timing is unknown. */
  srRtpTimeAtWall(wallMs: number): number | undefined {
    return this.reference === undefined && this.timingFromSource ? undefined : this.rtpTimeAtWall(wallMs);
  }

  /** Our RTP timestamp for wall-clock time `wallMs` (for sender reports and RTP-Info). */
  rtpTimeAtWall(wallMs: number): number {
    const ref =
      this.reference ?? (this.last ? { wallMs: this.last.wallMs, rtp: this.last.timestamp } : { wallMs, rtp: this.sender.timestampBase });
    return (ref.rtp + Math.round(((wallMs - ref.wallMs) * this.clockRate) / 1000)) >>> 0;
  }

  /**
   * One packet through the track's sender to every sink (a relayed publisher's packet: `seq` keeps
   * the publisher's gaps). A looped file sends through `sender` directly; both end in sendRtp.
   */
  send(marker: boolean, timestamp: number, payload: Buffer, keyframeStart: boolean, seq?: number): void {
    this.sender.send(marker, timestamp, payload, keyframeStart, seq);
  }

  /**
   * RtpOutput: the fan-out, now, or held for a later millisecond when this one's datagrams are
   * spent (FANOUT_DATAGRAMS_PER_MS; the first packet of a millisecond always goes), in order.
   */
  sendRtp(header: Buffer, payload: Buffer, lane: SendLane, keyframeStart: boolean): void {
    const now = this.clock.now();
    if (this.pacer === undefined) return this.fanOut(header, payload, lane, keyframeStart, now);
    if (this.held.length === 0 && this.spend(now)) return this.fanOut(header, payload, lane, keyframeStart, now);
    // The sender writes its next header into the same Buffer: a held packet keeps a copy.
    this.held.push({ header: Buffer.from(header), payload, lane, keyframeStart });
    this.pacing.heldPackets++;
    this.pacer.totals.fanoutHeld++;
    if (this.held.length > MAX_HELD_PACKETS) {
      const n = ++this.pacing.pacingOverflows;
      this.pacer.totals.fanoutOverflows++;
      // The 1st, 10th, 100th... overflow of a track: a source far faster than its audience allows.
      if (Number.isInteger(Math.log10(n)))
        log.warn('live fan-out hold full: held packets sent at once', {
          track: this.control,
          ssrc: this.sender.ssrc,
          viewers: this.sinks.size,
          held: this.held.length,
          overflows: n,
        });
      this.release(Infinity);
    } else this.waitForNextMs();
  }

  /** Whether one more packet fits in the millisecond of `now` (a new millisecond starts at 0). */
  private spend(now: number): boolean {
    if (now >= this.windowEndMs) {
      this.windowEndMs = now + 1;
      this.windowUsed = 0;
    }
    if (this.windowUsed > 0 && this.windowUsed + this.sinks.size > FANOUT_DATAGRAMS_PER_MS) return false;
    this.windowUsed += this.sinks.size;
    return true;
  }

  /** Sends held packets while the millisecond of `now` allows (Infinity: all of them), then waits for the next. */
  private release(now: number): void {
    const at = now === Infinity ? this.clock.now() : now;
    while (this.held.length > 0 && (now === Infinity || this.spend(now))) {
      const p = this.held.shift()!;
      this.fanOut(p.header, p.payload, p.lane, p.keyframeStart, at);
    }
    if (this.held.length > 0) this.waitForNextMs();
    else if (this.drain) {
      this.pacer!.scheduler.remove(this.drain);
      this.drain = undefined;
    }
  }

  private waitForNextMs(): void {
    this.drain ??= this.pacer!.scheduler.once(this.windowEndMs, (now) => {
      this.drain = undefined;
      this.release(now);
    });
  }

  /** Every sink gets the packet. A video sink that joined waits for a keyframe (at most MAX_KEYFRAME_WAIT_MS). */
  private fanOut(header: Buffer, payload: Buffer, lane: SendLane, keyframeStart: boolean, now: number): void {
    this.last = { timestamp: header.readUInt32BE(4), wallMs: this.clock.wallNow() };
    for (const sink of this.sinks) {
      if (sink.waitingForKeyframe) {
        if (!keyframeStart && now - sink.joinedAtMs < MAX_KEYFRAME_WAIT_MS) continue;
        sink.waitingForKeyframe = false;
      }
      sink.packets++;
      sink.bytes += header.length + payload.length;
      sink.egress.sendRtp(header, payload, lane);
    }
  }
}
