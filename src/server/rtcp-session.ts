import { makeSdesCname, parseRtcpPackets, serializeRtcpCompound } from '../rtcp/index.ts';
import type { RtcpPacket, XrBlock } from '../rtcp/index.ts';
import { rtcpBandwidthFromSession, rtcpInterval, updateAvgRtcpSize } from '../stats/index.ts';
import type { ScheduledTask, Scheduler } from '../transport/index.ts';
import type { Clock } from '../util/clock.ts';
import { cryptoRandom } from '../util/random.ts';
import type { Random } from '../util/random.ts';
import { createLogger } from '../util/log.ts';
import { msToCompactNtp, ntpFromUnixMs, ntpMiddle32 } from '../util/ntp.ts';
import type { PlayTimeline } from './play-timeline.ts';
import { receiverReportRecord } from './qos.ts';
import type { ReceiverReportRecord } from './qos.ts';
import type { RtpStream } from './rtp-stream.ts';

const log = createLogger('rtcp');

export interface RtcpSessionOptions {
  clock: Clock;
  /** Randomises the A.7 interval (default cryptoRandom; see util/random.ts). */
  random?: Random;
  scheduler: Scheduler;
  cname: string;
  timeline: Pick<PlayTimeline, 'mediaTimeAt'>;
  /** `natKeepAlives`: live555's 4-byte 0xFEEDFACE hole-punching datagrams (not RTCP, not malformed). */
  counters: { rtcpMalformed: number; rtcpReceived: number; natKeepAlives: number };
  /** Identifies the stream in the records handed to onReport. */
  report: { sessionId: string; media: string; control: string; transport: 'udp' | 'tcp' };
  onActivity(): void;
  onReport(record: ReceiverReportRecord): void;
}

/** What RTCP needs of a stream: a file session's RtpStream, or a live channel viewer's view of its track. */
export type RtcpStream = Pick<RtpStream, 'ssrc' | 'counters' | 'isPlaying' | 'clockRate' | 'egress' | 'rtpTimeAt'> & {
  source: { format: { bitrate: number } };
};

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

  constructor(
    private readonly stream: RtcpStream,
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
    if (this.stream.isPlaying && !this.byeSent) {
      this.send([this.senderReport(), this.sdes()]);
      this.initial = false;
    }
    this.o.scheduler.schedule(this, this.o.clock.now() + this.nextIntervalMs());
  }

  pause(): void {
    this.o.scheduler.remove(this);
  }

  close(): void {
    this.closed = true;
    this.o.scheduler.remove(this);
  }

  run(nowMs: number): number {
    if (this.closed || !this.stream.isPlaying) return Infinity;
    if (this.stream.counters.packets > 0) this.send([this.senderReport(), this.sdes(), ...this.dlrr()]);
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
    packets.push(this.stream.counters.packets > 0 ? this.senderReport() : { type: 'rr', ssrc: this.stream.ssrc, reports: [] });
    packets.push(this.sdes(), { type: 'bye', ssrcs: [this.stream.ssrc], reason });
    this.send(packets);
  }

  /** A datagram or interleaved frame from the client's RTCP port/channel. */
  receive(buf: Buffer, from: string): void {
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
    const arrivalWallMs = this.o.clock.wallNow();
    for (const p of parsed.value) {
      if (p.type === 'xr') this.noteRrtr(p.ssrc, p.blocks, arrivalWallMs);
      if (p.type !== 'rr' && p.type !== 'sr') continue;
      for (const block of p.reports) {
        if (block.ssrc !== this.stream.ssrc) continue;
        const record = receiverReportRecord(block, {
          ...this.o.report,
          from,
          reporterSsrc: p.ssrc,
          clockRate: this.stream.clockRate,
          arrivalWallMs,
          previous: this.lastReport?.reporterSsrc === p.ssrc ? this.lastReport : undefined,
        });
        this.lastReport = record;
        this.reportsReceived++;
        log.debug('receiver report', { ...record });
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
    return [{ type: 'xr', ssrc: this.stream.ssrc, blocks: [{ type: 'dlrr', items }] }];
  }

  private senderReport(): RtcpPacket {
    // NTP and RTP timestamp must name the same instant (RFC 3550 §6.4.1), so both come from the
    // clock read here, not from the scheduler's time for this wake-up: that one can be older (tasks
    // that ran before us in the same wake-up, e.g. a keyframe burst) or newer (an early wake within
    // the resolution), and receivers that sync on SRs (ffmpeg) shift their pts by the difference.
    const wall = this.o.clock.wallNow();
    const ntp = ntpFromUnixMs(wall);
    // The RTP timestamp of the media instant due now: the same mapping the packets are stamped with.
    const mediaNow = this.o.timeline.mediaTimeAt(this.o.clock.now());
    const c = this.stream.counters;
    return {
      type: 'sr',
      ssrc: this.stream.ssrc,
      senderInfo: {
        ntpSeconds: ntp.seconds,
        ntpFraction: ntp.fraction,
        rtpTimestamp: this.stream.rtpTimeAt(mediaNow),
        packetCount: c.packets >>> 0,
        octetCount: c.octets >>> 0,
      },
      reports: [],
    };
  }

  private sdes(): RtcpPacket {
    return makeSdesCname(this.stream.ssrc, this.o.cname);
  }

  private send(packets: RtcpPacket[]): void {
    const buf = serializeRtcpCompound(packets);
    this.avgRtcpSize = updateAvgRtcpSize(this.avgRtcpSize, buf.length + 28);
    this.stream.egress.sendRtcp(buf);
  }

  private nextIntervalMs(): number {
    const seconds = rtcpInterval(
      {
        members: 2,
        senders: 1,
        rtcpBandwidth: rtcpBandwidthFromSession(this.stream.source.format.bitrate),
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
