import { SenderReportTemplate, makeSdesCname, parseRtcpPackets, serializeRtcpCompound } from '../rtcp/index.ts';
import type { RtcpPacket, XrBlock } from '../rtcp/index.ts';
import { rtcpBandwidthFromSession, rtcpInterval, updateAvgRtcpSize } from '../stats/index.ts';
import type { Egress, ScheduledTask, Scheduler } from '../transport/index.ts';
import type { Clock } from '../util/clock.ts';
import { cryptoRandom } from '../util/random.ts';
import type { Random } from '../util/random.ts';
import { createLogger } from '../util/log.ts';
import { msToCompactNtp, ntpMiddle32 } from '../util/ntp.ts';
import { receiverReportRecord, voipMetricsRecord } from './qos.ts';
import type { VoipMetricsRecord } from './qos.ts';
import type { ReceiverReportRecord } from './qos.ts';
import type { RtpSender } from './rtp-sender.ts';

const log = createLogger('rtcp');

export interface RtcpSessionOptions {
  clock: Clock;
  /** Randomises the A.7 interval (default cryptoRandom; see util/random.ts). */
  random?: Random;
  scheduler: Scheduler;
  cname: string;
  /** True while the stream sends: SRs go out only then. */
  isPlaying(): boolean;
  /**
   * The RTP timestamp of the media instant at `nowMs` (a reading of the clock's now()), on the same
   * mapping the packets are stamped with (a file session's timeline, a live track's NTP↔RTP
   * reference); undefined while there is no mapping yet (a relayed track before its source's first
   * SR): an empty RR goes in place of the SR rather than an SR whose NTP time would be a guess.
   */
  rtpAt(nowMs: number): number | undefined;
  /** `natKeepAlives`: live555's 4-byte 0xFEEDFACE hole-punching datagrams (not RTCP, not malformed). */
  counters: { rtcpMalformed: number; rtcpReceived: number; natKeepAlives: number };
  /** Identifies the stream in the records handed to onReport. */
  report: { sessionId: string; media: string; control: string; transport: 'udp' | 'tcp' };
  onActivity(): void;
  onReport(record: ReceiverReportRecord): void;
}

/** Receivers whose last RRTR (RFC 3611 §4.4) is kept for the DLRR answer; more evict the oldest. */
const XR_MAX_RRTR_SOURCES = 8;

/** Typical size of our SR + SDES compound with IP/UDP headers, the A.7 starting avg_rtcp_size. */
const INITIAL_AVG_RTCP_SIZE = 28 + 28 + 20 + 8 + 24;

/**
 * RTCP for one outgoing stream (RFC 3550 §6): sender reports + SDES CNAME as compound packets at
 * the A.7 interval while the stream plays, BYE when it ends or the session goes, and the receiver
 * reports that come back, turned into QoS records. A receiver's XR RRTR is answered with a DLRR
 * block in the next SR compound (RFC 3611 §4.5), so a receive-only client can measure RTT too.
 */
export class RtcpSession implements ScheduledTask {
  private avgRtcpSize = INITIAL_AVG_RTCP_SIZE;
  private initial = true;
  private byeSent = false;
  private closed = false;
  /** The latest report from the client about this stream. */
  lastReport: ReceiverReportRecord | undefined;
  reportsReceived = 0;
  /** Last RRTR per receiver SSRC (middle 32 bits of its NTP time, when it came), answered by a DLRR. */
  private readonly rrtrs = new Map<number, { lastRr: number; arrivalWallMs: number }>();
  /** The SR + SDES compound of the current SSRC, made at its first report. */
  private template: SenderReportTemplate | undefined;

  constructor(
    /** The source reported on: its SSRC and the statistics its SRs carry. */
    private readonly sender: Pick<RtpSender, 'ssrc' | 'stats' | 'clockRate' | 'format'>,
    /** Where the SRs go and the RRs come from (the receiver's RTCP port or channel). */
    private readonly egress: Pick<Egress, 'sendRtcp'>,
    private readonly o: RtcpSessionOptions,
  ) {}

  /**
   * An SR + SDES at once, then the A.7 schedule, whenever playing starts or resumes (PLAY, seek,
   * resume, Scale change): before the stream's first RTP packet of that PLAY. live555 clients (VLC)
   * time a track by their own clock until its first SR, then switch to SR time, mark a
   * discontinuity and drop every picture up to the next keyframe; live555's own server reports
   * first, and so do we. The SR's RTP timestamp is the one RTP-Info announced for the start.
   */
  start(): void {
    if (this.closed) return;
    if (this.o.isPlaying() && !this.byeSent) {
      // SR + SDES only: RRTRs that came before PLAY are answered at the next interval.
      this.sendReport(false);
      this.initial = false;
    }
    // Lazy: the report joins a wake-up the streams cause anyway (LAZY_SLACK_MS at most later).
    this.o.scheduler.scheduleLazy(this, this.o.clock.now() + this.nextIntervalMs());
  }

  pause(): void {
    this.o.scheduler.remove(this);
  }

  close(): void {
    this.closed = true;
    this.o.scheduler.remove(this);
  }

  run(nowMs: number): number {
    if (this.closed || !this.o.isPlaying()) return Infinity;
    if (this.sender.stats.packets > 0) this.sendReport(true);
    return nowMs + this.nextIntervalMs();
  }

  /** True once the BYE went out: the stream's SSRC has left the session. */
  get hasSentBye(): boolean {
    return this.byeSent;
  }

  /** The stream sends again under a new SSRC after its BYE: RTCP starts over as for a new member. */
  rejoin(): void {
    this.byeSent = false;
    this.initial = true;
    this.rrtrs.clear();
  }

  /** Sends SR (when we sent anything) + SDES + BYE, once per SSRC. */
  sendBye(reason: string): void {
    if (this.byeSent) return;
    this.byeSent = true;
    this.o.scheduler.remove(this);
    const packets: RtcpPacket[] = [];
    packets.push(this.sender.stats.packets > 0 ? this.senderReport() : { type: 'rr', ssrc: this.sender.ssrc, reports: [] });
    packets.push(this.sdes(), { type: 'bye', ssrcs: [this.sender.ssrc], reason });
    this.send(packets);
  }

  /**
   * A datagram or interleaved frame from the client's RTCP port/channel; `arrivalWallMs`: when it
   * came, when it was read later (default: now).
   */
  receive(buf: Buffer, from: string, arrivalWallMs = this.o.clock.wallNow()): void {
    if (isNatKeepAlive(buf)) {
      this.o.counters.natKeepAlives++;
      this.o.onActivity();
      return;
    }
    this.o.counters.rtcpReceived++;
    const parsed = parseRtcpPackets(buf);
    if (!parsed.ok) {
      this.o.counters.rtcpMalformed++;
      log.debug('malformed RTCP dropped', { code: parsed.code, from, bytes: buf.length });
      return;
    }
    this.o.onActivity();
    // XR follows the RR in a compound: the VoIP metrics about our stream, if any, join its record.
    let voip: VoipMetricsRecord | undefined;
    for (const p of parsed.value) {
      if (p.type !== 'xr') continue;
      for (const b of p.blocks) if (b.type === 'voip-metrics' && b.ssrc === this.sender.ssrc) voip = voipMetricsRecord(b);
    }
    for (const p of parsed.value) {
      if (p.type === 'xr') this.noteRrtr(p.ssrc, p.blocks, arrivalWallMs);
      if (p.type !== 'rr' && p.type !== 'sr') continue;
      for (const block of p.reports) {
        if (block.ssrc !== this.sender.ssrc) continue;
        // The report's fields one by one: an object spread into a literal with more fields takes
        // V8's slow path (~15 µs a report, measured), and every client sends one every few seconds.
        const r = this.o.report;
        const record = receiverReportRecord(block, {
          sessionId: r.sessionId,
          media: r.media,
          control: r.control,
          transport: r.transport,
          from,
          reporterSsrc: p.ssrc,
          clockRate: this.sender.clockRate,
          arrivalWallMs,
          previous: this.lastReport?.reporterSsrc === p.ssrc ? this.lastReport : undefined,
        });
        if (voip) record.voip = voip;
        this.lastReport = record;
        this.reportsReceived++;
        if (log.enabled('debug')) log.debug('receiver report', { ...record });
        this.o.onReport(record);
      }
    }
  }

  /** RFC 3611 §4.4: remember a receiver's RRTR so the next SR compound carries its DLRR. */
  private noteRrtr(ssrc: number, blocks: readonly XrBlock[], arrivalWallMs: number): void {
    for (const b of blocks) {
      if (b.type !== 'rrtr') continue;
      this.rrtrs.delete(ssrc);
      if (this.rrtrs.size >= XR_MAX_RRTR_SOURCES) this.rrtrs.delete(this.rrtrs.keys().next().value!);
      this.rrtrs.set(ssrc, { lastRr: ntpMiddle32({ seconds: b.ntpSeconds, fraction: b.ntpFraction }), arrivalWallMs });
    }
  }

  /** An XR with one DLRR block (RFC 3611 §4.5) answering the RRTRs received since the last SR. */
  private dlrr(): RtcpPacket[] {
    if (this.rrtrs.size === 0) return [];
    const now = this.o.clock.wallNow();
    const items = [...this.rrtrs].map(([ssrc, r]) => ({ ssrc, lastRr: r.lastRr, delaySinceLastRr: msToCompactNtp(now - r.arrivalWallMs) }));
    this.rrtrs.clear();
    return [{ type: 'xr', ssrc: this.sender.ssrc, blocks: [{ type: 'dlrr', items }] }];
  }

  /**
   * SR (or RR while there is no mapping) + SDES, and with `answer` a DLRR when a receiver asked:
   * the common case, an SR alone, from the SSRC's template.
   */
  private sendReport(answer: boolean): void {
    if (!answer || this.rrtrs.size === 0) {
      const at = this.o.clock.now();
      const rtp = this.o.rtpAt(at);
      if (rtp !== undefined) {
        const ssrc = this.sender.ssrc;
        if (this.template?.ssrc !== ssrc) this.template = new SenderReportTemplate(ssrc, this.o.cname);
        this.sendBuffer(this.template.make(this.sender.stats.senderInfo(this.o.clock.wallAt(at), rtp)));
        return;
      }
    }
    this.send(answer ? [this.senderReport(), this.sdes(), ...this.dlrr()] : [this.senderReport(), this.sdes()]);
  }

  private senderReport(): RtcpPacket {
    // NTP and RTP timestamp must name the same instant (RFC 3550 §6.4.1), so both come from the
    // clock read here, not from the scheduler's time for this wake-up: that one can be older (tasks
    // that ran before us in the same wake-up, e.g. a keyframe burst) or newer (an early wake within
    // the resolution), and receivers that sync on SRs (ffmpeg) shift their pts by the difference.
    // One reading for both: a preemption between two readings (5.9 ms seen under CI's load) would
    // shift them as much.
    const at = this.o.clock.now();
    const rtp = this.o.rtpAt(at);
    if (rtp === undefined) return { type: 'rr', ssrc: this.sender.ssrc, reports: [] };
    return {
      type: 'sr',
      ssrc: this.sender.ssrc,
      senderInfo: this.sender.stats.senderInfo(this.o.clock.wallAt(at), rtp),
      reports: [],
    };
  }

  private sdes(): RtcpPacket {
    return makeSdesCname(this.sender.ssrc, this.o.cname);
  }

  private send(packets: RtcpPacket[]): void {
    this.sendBuffer(serializeRtcpCompound(packets));
  }

  private sendBuffer(buf: Buffer): void {
    this.avgRtcpSize = updateAvgRtcpSize(this.avgRtcpSize, buf.length + 28);
    this.egress.sendRtcp(buf);
  }

  private nextIntervalMs(): number {
    const seconds = rtcpInterval(
      {
        members: 2,
        senders: 1,
        rtcpBandwidth: rtcpBandwidthFromSession(this.sender.format.bitrate),
        weSent: true,
        avgRtcpSize: this.avgRtcpSize,
        initial: this.initial,
      },
      () => (this.o.random ?? cryptoRandom).float(),
    );
    this.initial = false;
    return seconds * 1000;
  }
}

/** live555 clients send 0xFEEDFACE to both server ports at every PLAY to open NAT bindings. */
export function isNatKeepAlive(buf: Buffer): boolean {
  return buf.length === 4 && buf.readUInt32BE(0) === 0xfeedface;
}
