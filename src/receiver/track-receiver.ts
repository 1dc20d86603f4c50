import {
  AacDepacketizer,
  G711Depacketizer,
  H264Depacketizer,
  H265Depacketizer,
  Mp2tDepacketizer,
  MpaDepacketizer,
  OpusDepacketizer,
  parseAacFmtp,
} from '../codecs/index.ts';
import type { Depacketizer } from '../codecs/index.ts';
import type { DepacketizedUnit } from '../codecs/index.ts';
import { parseRtpPacket } from '../rtp/index.ts';
import { parseRtcpPackets, rttFromDlrr } from '../rtcp/index.ts';
import type { XrVoipMetrics } from '../rtcp/index.ts';
import { BurstGapCounter, ReceiverRtcpTiming, ReceiverSource, serializeReceiverReport } from '../stats/index.ts';
import { createLogger } from '../util/log.ts';
import { compactNtpFromUnixMs, ntpFromUnixMs, ntpMiddle32, ntpToUnixMs } from '../util/ntp.ts';
import { reorderInfoFromFmtp } from './dts/index.ts';
import { JB_DEFAULT_MAX_DELAY_MS, JB_DEFAULT_MIN_DELAY_MS, JB_DEFAULT_START_DELAY_MS, JitterBuffer } from './jitter-buffer/index.ts';
import type { JitterBufferOptions, JitterBufferStats, JitterPacketInput } from './jitter-buffer/index.ts';
import type { SdpTrack } from './sdp-tracks.ts';
import { voipMetricsBlock } from './voip-metrics.ts';
import { cryptoRandom } from '../util/random.ts';
import type { Random } from '../util/random.ts';

const log = createLogger('receiver');

/** An access unit out of a track, with its time on the presentation's common clock. */
export interface ReceivedUnit {
  track: number;
  codec: SdpTrack['codec'];
  /** Unwrapped RTP timestamp (presentation time, RTP clock units). */
  timestamp: number;
  /** Presentation time in seconds on the clock shared by all tracks (see SyncReference). */
  ptsSec: number;
  data: Buffer[];
  keyframe: boolean;
  complete: boolean;
}

/** How RTP timestamps map onto the presentation's common timeline (RTP-Info or RTCP SR). */
export interface SyncReference {
  /** RTP-Info: the RTP timestamp of npt `startNpt` for this track. */
  rtpInfo?: { rtptime: number; startNpt: number };
}

export interface TrackCounters {
  packets: number;
  bytes: number;
  malformedRtp: number;
  wrongPayloadType: number;
  foreignSsrc: number;
  foreignAddress: number;
  malformedRtcp: number;
  senderReports: number;
  byes: number;
  units: number;
  incompleteUnits: number;
  skippedUntilKeyframe: number;
}

/** Jitter buffer settings for every track: the clock rate comes from each track's SDP. */
export type JitterSettings = JitterBufferOptions extends infer T ? (T extends unknown ? Omit<T, 'clockRate'> : never) : never;

export interface TrackReceiverOptions {
  jitter: JitterSettings;
  cname: string;
  ssrc: number;
  /** Randomises the RR interval (RFC 3550 A.7); default cryptoRandom. */
  random?: Random;
  /** Drop video after a loss until the next keyframe. */
  waitKeyframe: boolean;
  /**
   * Drop video until the first keyframe (default true): a server that starts mid-GOP (a live
   * source, VLC) would otherwise give frames that reference pictures we never got.
   */
  startAtKeyframe?: boolean;
  sendRtcp(packet: Buffer): void;
  onUnit(unit: ReceivedUnit): void;
  /**
   * Wall-clock ms (Unix epoch) for the RRTR timestamps and the arrival time of the DLRR that
   * answers them (RFC 3611); default: performance.timeOrigin + performance.now().
   */
  wallClock?: () => number;
}

/** Round-trip time measured through RFC 3611 RRTR/DLRR: the latest and a summary of the run. */
export interface RttStats {
  lastMs: number;
  samples: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
}

/**
 * A packet from an SSRC other than the current sender's is a sender restart only when the current
 * sender has been silent this long (or said BYE); otherwise it is a stray or a second sender:
 * ignored and counted, and kept away from the jitter buffer so it cannot resync onto it.
 */
export const SSRC_SWITCH_SILENCE_MS = 500;

/** First extended sequence number given to the depacketizer: room below for restarts that step back. */
const EXT_SEQ_START = 1 << 24;
/** Sequence numbers skipped at playout beyond this are a sender restart, not a loss burst. */
const MAX_PLAYOUT_GAP = 3000;

/**
 * Playout time comes from RTP timestamps, which are presentation times; a stream with B-frames
 * sends frames up to D frames before they are shown (D = the SPS reorder depth), so measured
 * against the fastest packet every B-frame looks D frames "late". The buffer's delay (fixed, or
 * the adaptive minimum) therefore gets D frame durations on top, so that the configured figure
 * means network allowance, as it does for streams without reordering.
 */
export function reorderAllowanceMs(track: SdpTrack): number {
  const info = reorderInfoFromFmtp(track.codec, track.fmtp);
  if (!info.reorderDepth || !info.frameDuration90k) return 0;
  return (info.reorderDepth * info.frameDuration90k) / 90;
}

function withReorderAllowance(j: JitterSettings, track: SdpTrack): JitterBufferOptions {
  const extra = reorderAllowanceMs(track);
  if (j.mode === 'fixed') return { ...j, delayMs: j.delayMs + extra, clockRate: track.clockRate };
  return {
    ...j,
    minDelayMs: (j.minDelayMs ?? JB_DEFAULT_MIN_DELAY_MS) + extra,
    startDelayMs: (j.startDelayMs ?? JB_DEFAULT_START_DELAY_MS) + extra,
    maxDelayMs: Math.max(j.maxDelayMs ?? JB_DEFAULT_MAX_DELAY_MS, (j.minDelayMs ?? JB_DEFAULT_MIN_DELAY_MS) + extra),
    clockRate: track.clockRate,
  };
}

/** The depacketizer for a track's payload format (the SDP rtpmap/fmtp say which). */
function depacketizerFor(track: SdpTrack): Depacketizer & { readonly stats: object } {
  switch (track.codec) {
    case 'aac': {
      const f = parseAacFmtp(track.fmtp);
      const p = f.ok ? f.value : { sizeLength: 13, indexLength: 3, indexDeltaLength: 3 };
      return new AacDepacketizer({ sizeLength: p.sizeLength, indexLength: p.indexLength, indexDeltaLength: p.indexDeltaLength });
    }
    case 'h265':
      return new H265Depacketizer();
    case 'opus':
      return new OpusDepacketizer();
    case 'mpa':
      return new MpaDepacketizer();
    case 'pcmu':
    case 'pcma':
      return new G711Depacketizer();
    case 'mp2t':
      return new Mp2tDepacketizer();
    default:
      return new H264Depacketizer();
  }
}

/** 32-bit timestamp unwrapped around a reference, so values stay continuous across 2^32. */
function unwrapNear(ts: number, ref: number): number {
  const d = ((((ts - ref + 2 ** 31) % 2 ** 32) + 2 ** 32) % 2 ** 32) - 2 ** 31;
  return ref + d;
}

/**
 * One received track: RTP validation and RFC 3550 statistics, the jitter buffer, the depacketizer,
 * and this track's RTCP (SR in, RR + SDES out at the A.7 interval, BYE at the end).
 */
export class TrackReceiver {
  private source: ReceiverSource | undefined;
  private jitter: JitterBuffer;
  private readonly jitterOptions: JitterBufferOptions;
  /** Statistics of jitter buffers replaced by restartPlayout(), added into jitterStats(). */
  private retired: JitterBufferStats | undefined;
  /** Extended sequence number of the last packet handed to the depacketizer. */
  private lastExtSeq: number | undefined;
  private readonly depacketizer: Depacketizer & { readonly stats: object };
  readonly counters: TrackCounters = {
    packets: 0,
    bytes: 0,
    malformedRtp: 0,
    wrongPayloadType: 0,
    foreignSsrc: 0,
    foreignAddress: 0,
    malformedRtcp: 0,
    senderReports: 0,
    byes: 0,
    units: 0,
    incompleteUnits: 0,
    skippedUntilKeyframe: 0,
  };
  private senderSsrc: number | undefined;
  private lastTimestamp: number | undefined;
  private needKeyframe: boolean;
  /** When the current sender's last packet arrived (for SSRC_SWITCH_SILENCE_MS). */
  private senderLastMs = -Infinity;
  /** Last SR: its NTP time (Unix ms) and RTP timestamp, for A/V sync without RTP-Info. */
  lastSr: { wallMs: number; rtp: number; arrivalMs: number } | undefined;
  byeReceived = false;
  lastPacketMs: number | undefined;
  private readonly rtcpTiming = new ReceiverRtcpTiming();
  sync: SyncReference = {};
  /** RTT from the server's DLRR answers to our RRTRs; undefined while it sent none (e.g. GStreamer). */
  rtt: RttStats | undefined;
  /** RFC 3611 burst/gap over the sequence the playout saw (lost or discarded vs played), for XR. */
  private readonly burstGap = new BurstGapCounter();
  private firstPacketMs: number | undefined;

  constructor(
    readonly track: SdpTrack,
    private readonly o: TrackReceiverOptions,
  ) {
    this.jitterOptions = withReorderAllowance(o.jitter, track);
    this.jitter = new JitterBuffer(this.jitterOptions);
    this.needKeyframe = track.media === 'video' && o.startAtKeyframe !== false;
    this.depacketizer = depacketizerFor(track);
  }

  get ssrc(): number {
    return this.o.ssrc;
  }

  get receiverStats(): ReceiverSource | undefined {
    return this.source;
  }

  /** The jitter buffer's statistics over the whole run (across restartPlayout()). */
  jitterStats(): JitterBufferStats {
    const now = this.jitter.stats();
    const old = this.retired;
    if (!old) return now;
    const mean = (a: number, na: number, b: number, nb: number) => (na + nb > 0 ? (a * na + b * nb) / (na + nb) : 0);
    return {
      ...now,
      meanTargetDelayMs: mean(old.meanTargetDelayMs, old.released, now.meanTargetDelayMs, now.released),
      meanPlayoutDelayMs: mean(old.meanPlayoutDelayMs, old.released, now.meanPlayoutDelayMs, now.released),
      received: old.received + now.received,
      accepted: old.accepted + now.accepted,
      released: old.released + now.released,
      forced: old.forced + now.forced,
      late: old.late + now.late,
      lost: old.lost + now.lost,
      duplicates: old.duplicates + now.duplicates,
      reordered: old.reordered + now.reordered,
      discarded: old.discarded + now.discarded,
      resyncs: old.resyncs + now.resyncs,
    };
  }

  /**
   * After a pause (PAUSE ... PLAY): arrival times jumped while RTP timestamps did not, which a
   * jitter buffer would take for a huge delay (late drops, then a resync). Releases what is held
   * and starts a new jitter buffer; the depacketizer keeps its state, so a unit cut by the pause
   * is completed by the packets that follow.
   */
  restartPlayout(nowMs: number): void {
    for (const ev of this.jitter.flush(nowMs)) {
      if (ev.type === 'packet') this.depacketize(ev.packet, ev.extendedTimestamp);
    }
    this.retired = this.jitterStats();
    this.jitter = new JitterBuffer(this.jitterOptions);
  }

  depacketizerStats() {
    return this.depacketizer.stats;
  }

  /** An RTP datagram or interleaved frame for this track. */
  onRtp(buf: Buffer, arrivalMs: number): void {
    const parsed = parseRtpPacket(buf);
    if (!parsed.ok) {
      this.counters.malformedRtp++;
      return;
    }
    const p = parsed.value;
    if (p.payloadType !== this.track.payloadType) {
      this.counters.wrongPayloadType++;
      return;
    }
    this.senderSsrc ??= p.ssrc;
    // The session's sender is known (we follow one SSRC and confirm restarts in the jitter buffer):
    // no A.1 probation, so the first packet counts and packets = expected - lost + duplicates.
    this.source ??= new ReceiverSource(p.ssrc, { clockRate: this.track.clockRate, minSequential: 1 });
    // Another SSRC is either noise (ignored, counted) or a sender restart, which the jitter buffer
    // confirms after a few packets (outcome 'resync'); only then do statistics follow it. While the
    // current sender is alive, other SSRCs never reach the jitter buffer.
    if (p.ssrc === this.senderSsrc) {
      this.senderLastMs = arrivalMs;
      this.source.onRtp(p.sequenceNumber, p.timestamp, arrivalMs, p.payload.length);
    } else {
      this.counters.foreignSsrc++;
      if (!this.byeReceived && arrivalMs - this.senderLastMs < SSRC_SWITCH_SILENCE_MS) return;
    }
    this.counters.packets++;
    this.counters.bytes += buf.length;
    this.firstPacketMs ??= arrivalMs;
    this.lastPacketMs = arrivalMs;
    const outcome = this.jitter.push(
      { sequence: p.sequenceNumber, timestamp: p.timestamp, marker: p.marker, payload: p.payload, ssrc: p.ssrc },
      arrivalMs,
    );
    if (outcome === 'resync' && p.ssrc !== this.senderSsrc) {
      log.info('sender restarted', { track: this.track.index, ssrc: p.ssrc });
      this.senderSsrc = p.ssrc;
      this.senderLastMs = arrivalMs;
      this.byeReceived = false;
      this.source = new ReceiverSource(p.ssrc, { clockRate: this.track.clockRate, minSequential: 1 });
      this.source.onRtp(p.sequenceNumber, p.timestamp, arrivalMs, p.payload.length);
      this.lastTimestamp = undefined;
      this.sync = {};
    }
  }

  /** Releases what is due; returns the next deadline (ms) or undefined. */
  poll(nowMs: number): number | undefined {
    for (const ev of this.jitter.poll(nowMs)) {
      if (ev.type === 'packet') this.depacketize(ev.packet, ev.extendedTimestamp);
    }
    return this.jitter.nextDeadline();
  }

  /**
   * Releases every packet the jitter buffer holds (before the last report of a run). A unit whose
   * last packets are still on their way stays open: they may come before the end.
   */
  release(nowMs: number): void {
    for (const ev of this.jitter.flush(nowMs)) {
      if (ev.type === 'packet') this.depacketize(ev.packet, ev.extendedTimestamp);
    }
  }

  /** Releases everything held, the unit in progress too (end of stream). */
  drain(nowMs: number): void {
    this.release(nowMs);
    for (const u of this.depacketizer.flush()) this.emit(u);
  }

  /**
   * Packets come out of the jitter buffer in sequence order, so the 16-bit sequence number is
   * extended here, around the previous one: the depacketizer sees the true distance across a
   * jitter-buffer restart or resync (whose own extended numbers jump by whole cycles).
   */
  private depacketize(pkt: JitterPacketInput, extTs: number): void {
    const prev = this.lastExtSeq;
    const extSeq = prev === undefined ? pkt.sequence + EXT_SEQ_START : prev + ((((pkt.sequence - prev) & 0xffff) ^ 0x8000) - 0x8000);
    this.lastExtSeq = extSeq;
    // Sequence numbers skipped on the way out were lost or discarded (late): the playout's view.
    // A jump beyond MAX_PLAYOUT_GAP is a sender restart, not loss.
    const skipped = prev === undefined ? 0 : extSeq - prev - 1;
    if (skipped > 0 && skipped <= MAX_PLAYOUT_GAP) for (let k = 0; k < skipped; k++) this.burstGap.packet(true);
    this.burstGap.packet(false);
    for (const u of this.depacketizer.push({ payload: pkt.payload, sequence: extSeq, timestamp: extTs, marker: pkt.marker })) {
      this.emit(u);
    }
  }

  private emit(u: DepacketizedUnit): void {
    this.counters.units++;
    if (!u.complete) this.counters.incompleteUnits++;
    if (this.track.media === 'video') {
      if (!u.complete) {
        if (this.o.waitKeyframe) this.needKeyframe = true;
        return; // never hand on a unit with a missing fragment as if it were whole
      }
      if (this.needKeyframe) {
        if (!u.keyframe) {
          this.counters.skippedUntilKeyframe++;
          return;
        }
        this.needKeyframe = false;
      }
    } else if (!u.complete) {
      return;
    }
    const ref = this.lastTimestamp ?? this.sync.rtpInfo?.rtptime ?? u.timestamp;
    const ts = unwrapNear(u.timestamp >>> 0, ref);
    this.lastTimestamp = ts;
    this.o.onUnit({
      track: this.track.index,
      codec: this.track.codec,
      timestamp: ts,
      ptsSec: this.ptsSec(ts),
      data: u.data,
      keyframe: u.keyframe,
      complete: u.complete,
    });
  }

  /** Presentation time on the common clock: RTP-Info when the server gave it, else the SR mapping. */
  private ptsSec(ts: number): number {
    const rate = this.track.clockRate;
    const info = this.sync.rtpInfo;
    if (info) return info.startNpt + (ts - unwrapNear(info.rtptime, ts)) / rate;
    if (this.lastSr) return (this.lastSr.wallMs + ((ts - unwrapNear(this.lastSr.rtp, ts)) / rate) * 1000) / 1000;
    return ts / rate;
  }

  /** An RTCP datagram or interleaved frame from the server for this track. */
  onRtcp(buf: Buffer, arrivalMs: number): void {
    const parsed = parseRtcpPackets(buf);
    if (!parsed.ok) {
      this.counters.malformedRtcp++;
      return;
    }
    for (const p of parsed.value) {
      if (p.type === 'sr' && (this.senderSsrc === undefined || p.ssrc === this.senderSsrc)) {
        this.counters.senderReports++;
        const ntp = { seconds: p.senderInfo.ntpSeconds, fraction: p.senderInfo.ntpFraction };
        this.lastSr = { wallMs: ntpToUnixMs(ntp), rtp: p.senderInfo.rtpTimestamp, arrivalMs };
        this.source?.onSenderReport(ntpMiddle32(ntp), arrivalMs);
      } else if (p.type === 'xr' && (this.senderSsrc === undefined || p.ssrc === this.senderSsrc)) {
        for (const b of p.blocks) {
          if (b.type !== 'dlrr') continue;
          const item = b.items.find((i) => i.ssrc === this.o.ssrc);
          const ms = item && rttFromDlrr(item, compactNtpFromUnixMs(this.wallNow()));
          if (ms !== undefined) this.noteRtt(ms);
        }
      } else if (p.type === 'bye' && (this.senderSsrc === undefined || p.ssrcs.includes(this.senderSsrc))) {
        this.counters.byes++;
        this.byeReceived = true;
      }
    }
  }

  private wallNow(): number {
    return this.o.wallClock ? this.o.wallClock() : performance.timeOrigin + performance.now();
  }

  private noteRtt(ms: number): void {
    const r = this.rtt;
    if (!r) {
      this.rtt = { lastMs: ms, samples: 1, meanMs: ms, minMs: ms, maxMs: ms };
      return;
    }
    r.samples++;
    r.lastMs = ms;
    r.meanMs += (ms - r.meanMs) / r.samples;
    r.minMs = Math.min(r.minMs, ms);
    r.maxMs = Math.max(r.maxMs, ms);
  }

  /**
   * RR + SDES + XR compound (RFC 3550 §6.1; RFC 3611) for the server; an empty RR before any
   * packet arrived. The XR's RRTR block carries our NTP time: a server that answers with a DLRR
   * lets us measure the RTT it sees from our side.
   */
  receiverReport(nowMs: number, bye?: string): Buffer {
    const reports = this.source ? [this.source.makeReportBlock(nowMs)] : [];
    const ntp = ntpFromUnixMs(this.wallNow());
    const buf = serializeReceiverReport({
      ssrc: this.o.ssrc,
      cname: this.o.cname,
      reports,
      extra: [
        {
          type: 'xr',
          ssrc: this.o.ssrc,
          blocks: [{ type: 'rrtr', ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction }, ...this.voipMetrics()],
        },
      ],
      ...(bye !== undefined ? { bye } : {}),
    });
    this.rtcpTiming.sent(buf.length);
    return buf;
  }

  /** RFC 3611 VoIP metrics about the sender, once packets came: what only the receiver knows. */
  private voipMetrics(): XrVoipMetrics[] {
    const src = this.source;
    if (!src || this.senderSsrc === undefined || this.firstPacketMs === undefined || this.lastPacketMs === undefined) return [];
    const s = src.snapshot();
    const jb = this.jitterStats();
    const o = this.jitterOptions;
    const absMax = o.mode === 'fixed' ? o.delayMs : (o.maxDelayMs ?? JB_DEFAULT_MAX_DELAY_MS);
    return [
      voipMetricsBlock({
        sourceSsrc: this.senderSsrc,
        media: this.track.media,
        encodingName: this.track.encodingName,
        expected: s.expected,
        lost: s.lost,
        discarded: jb.late,
        burstGap: this.burstGap.figures(),
        burstR: this.burstGap.burstR(),
        packetIntervalMs: (this.lastPacketMs - this.firstPacketMs) / Math.max(1, s.expected - 1),
        rttMs: this.rtt?.lastMs,
        endSystemDelayMs: jb.playoutDelayMs,
        jitterBuffer: { adaptive: jb.mode === 'adaptive', nominalMs: jb.targetDelayMs, maximumMs: jb.appliedDelayMs, absMaxMs: absMax },
      }),
    ];
  }

  sendReport(nowMs: number, bye?: string): void {
    this.o.sendRtcp(this.receiverReport(nowMs, bye));
  }

  /** Next RR interval (A.7) in ms: receivers share 75 % of 5 % of the session bandwidth. */
  nextReportIntervalMs(): number {
    const kbps = this.track.bandwidthKbps ?? (this.track.media === 'video' ? 1000 : 128);
    return this.rtcpTiming.nextIntervalMs(kbps * 1000, () => (this.o.random ?? cryptoRandom).float());
  }
}
