/**
 * Per-source receive statistics of RFC 3550: sequence validation and wrap counting (A.1), loss
 * (A.3: expected, signed 24-bit cumulative lost, per-interval fraction lost), interarrival jitter
 * (A.8, in RTP timestamp units) and the LSR/DLSR of the last sender report, producing a report
 * block. Also counts duplicates and reordered packets. Time is a parameter (`arrivalMs`, `nowMs`,
 * any monotonic millisecond clock); nothing here reads a clock.
 *
 * A.1 notes: the probation packets are not counted (the source's base_seq is the packet that
 * completes probation, as in the RFC's code); `max_seq + 1` is compared modulo 2^16 (the RFC's C
 * compares an int promotion and so fails probation across 65535 -> 0). A packet equal to max_seq
 * falls in the in-order branch and is counted as received, exactly as in the RFC, which is why
 * cumulative lost is signed; duplicates are also counted separately here, and do not update
 * jitter (a duplicate's arrival says nothing about network delay variation). A resync (A.1's
 * restart after a confirmed jump) also restarts the jitter's transit reference, not its value.
 *
 * @see RFC 3550 Appendix A.1, A.3, A.8, §6.4.1
 */

import type { ReportBlock } from '../rtcp/index.ts';
import { clampCumulativeLost } from '../rtcp/index.ts';
import { msToCompactNtp } from '../util/ntp.ts';
import { tsDiff } from '../util/seq.ts';

/** A.1: largest forward jump still treated as in order. */
export const MAX_DROPOUT = 3000;
/** A.1: largest backward step treated as a late (reordered or duplicate) packet. */
export const MAX_MISORDER = 100;
/** A.1: packets in sequence needed before a new source is valid. */
export const MIN_SEQUENTIAL = 2;
const RTP_SEQ_MOD = 0x10000;
/** Recent extended sequence numbers remembered to tell duplicates from reordered packets (> MAX_MISORDER). */
export const SEQ_HISTORY_SIZE = 128;

/** What update_seq made of a packet. Only 'in-order' and 'late'/'duplicate' packets were counted. */
export type SeqOutcome =
  /** Counted; at or ahead of the highest sequence number (within MAX_DROPOUT). */
  | 'in-order'
  /** Counted; behind the highest sequence number by 1..MAX_MISORDER-1 and not seen before. */
  | 'late'
  /** Counted (as the RFC does); a sequence number already received recently. */
  | 'duplicate'
  /** Not counted: the source is still on probation (or this packet restarted it). */
  | 'probation'
  /** Not counted: a large jump; a resync happens if the next packet follows it. */
  | 'jump'
  /** Counted: the packet confirmed a large jump, the statistics restarted at it (init_seq). */
  | 'resync';

export interface ReceiverSourceOptions {
  /** RTP clock rate of the track (Hz), to convert arrival times to timestamp units. */
  clockRate: number;
  /** Packets in sequence to validate a new source; default MIN_SEQUENTIAL (2). 1 (or 0) counts the first packet at once. */
  minSequential?: number;
}

export interface ReceiverSourceSnapshot {
  ssrc: number;
  /** True once probation is over. */
  valid: boolean;
  /** Packets counted by A.1 (duplicates included, as in the RFC). */
  received: number;
  expected: number;
  /** expected - received, unclamped (may be negative). */
  lost: number;
  extendedHighestSeq: number;
  baseSeq: number;
  cycles: number;
  duplicates: number;
  /** Late packets (arrived behind the highest sequence number, not duplicates). */
  reordered: number;
  /** Packets not counted because of a jump awaiting confirmation. */
  badSeqJumps: number;
  resyncs: number;
  /** A.8 jitter in timestamp units (not rounded). */
  jitter: number;
  jitterMs: number;
  /** Payload octets of counted packets. */
  octets: number;
  lastArrivalMs: number | undefined;
}

export class ReceiverSource {
  readonly ssrc: number;
  readonly clockRate: number;
  private readonly minSequential: number;
  // A.1 state (names follow the RFC's struct source).
  private maxSeq = 0;
  private cycles = 0; // shifted count of seq. number cycles (multiples of 65536)
  private baseSeq = 0;
  private badSeq = RTP_SEQ_MOD + 1;
  private probation: number;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private started = false;
  // A.8 state.
  private jitterValue = 0;
  private hasTransit = false;
  private prevArrivalMs = 0;
  private prevTimestamp = 0;
  // Extras.
  private readonly history = new Uint8Array(SEQ_HISTORY_SIZE);
  private duplicates = 0;
  private reordered = 0;
  private badSeqJumps = 0;
  private resyncs = 0;
  private octets = 0;
  private lastArrivalMs: number | undefined;
  // Last SR.
  private lastSrMiddle32 = 0;
  private lastSrArrivalMs: number | undefined;

  constructor(ssrc: number, options: ReceiverSourceOptions) {
    if (!(options.clockRate > 0)) throw new RangeError(`clockRate must be positive: ${options.clockRate}`);
    this.ssrc = ssrc >>> 0;
    this.clockRate = options.clockRate;
    this.minSequential = Math.max(1, Math.floor(options.minSequential ?? MIN_SEQUENTIAL));
    this.probation = this.minSequential;
  }

  /**
   * Records an RTP packet of this source that arrived at `arrivalMs`. Runs A.1 update_seq; counted
   * packets also update jitter (A.8) and the duplicate/reorder counters.
   */
  onRtp(sequenceNumber: number, rtpTimestamp: number, arrivalMs: number, payloadBytes = 0): SeqOutcome {
    const seq = sequenceNumber & 0xffff;
    this.lastArrivalMs = arrivalMs;
    if (!this.started) {
      this.started = true;
      this.initSeq(seq);
      this.maxSeq = (seq - 1) & 0xffff;
      this.probation = this.minSequential;
    }
    const udelta = (seq - this.maxSeq) & 0xffff;
    if (this.probation > 0) {
      if (seq === ((this.maxSeq + 1) & 0xffff)) {
        this.probation--;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.initSeq(seq);
          return this.count(seq, rtpTimestamp, arrivalMs, payloadBytes, 'in-order');
        }
      } else {
        this.probation = this.minSequential - 1;
        this.maxSeq = seq;
      }
      return 'probation';
    }
    if (udelta < MAX_DROPOUT) {
      if (udelta === 0 && this.received > 0) {
        // Same as max_seq: counted by the RFC's in-order branch; it is a duplicate.
        this.received++;
        this.duplicates++;
        this.octets += payloadBytes;
        return 'duplicate';
      }
      this.advanceHistory(udelta);
      if (seq < this.maxSeq) this.cycles += RTP_SEQ_MOD;
      this.maxSeq = seq;
      return this.count(seq, rtpTimestamp, arrivalMs, payloadBytes, 'in-order');
    }
    if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      if (seq === this.badSeq) {
        // Two sequential packets after a big jump: assume the source restarted.
        this.initSeq(seq);
        this.resyncs++;
        this.hasTransit = false;
        return this.count(seq, rtpTimestamp, arrivalMs, payloadBytes, 'resync');
      }
      this.badSeq = (seq + 1) & (RTP_SEQ_MOD - 1);
      this.badSeqJumps++;
      return 'jump';
    }
    // Duplicate or reordered packet, behind max_seq by less than MAX_MISORDER.
    const behind = RTP_SEQ_MOD - udelta; // 1..MAX_MISORDER-1
    const ext = this.cycles + this.maxSeq - behind;
    const slot = ((ext % SEQ_HISTORY_SIZE) + SEQ_HISTORY_SIZE) % SEQ_HISTORY_SIZE;
    if (this.history[slot] === 1) {
      this.received++;
      this.duplicates++;
      this.octets += payloadBytes;
      return 'duplicate';
    }
    this.reordered++;
    return this.count(seq, rtpTimestamp, arrivalMs, payloadBytes, 'late', ext);
  }

  /** Records the arrival of a sender report from this source (its NTP middle 32 bits). */
  onSenderReport(ntpMiddle32: number, arrivalMs: number): void {
    this.lastSrMiddle32 = ntpMiddle32 >>> 0;
    this.lastSrArrivalMs = arrivalMs;
  }

  /**
   * A.3 + A.8 + LSR/DLSR: the report block for this source at `nowMs` (same clock as the arrival
   * times). Starts a new loss interval: call once per report sent.
   */
  makeReportBlock(nowMs: number): ReportBlock {
    const extendedMax = this.cycles + this.maxSeq;
    const expected = this.started && this.probation === 0 ? extendedMax - this.baseSeq + 1 : 0;
    const lost = clampCumulativeLost(expected - this.received);
    const expectedInterval = expected - this.expectedPrior;
    this.expectedPrior = expected;
    const receivedInterval = this.received - this.receivedPrior;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    const hasSr = this.lastSrArrivalMs !== undefined;
    return {
      ssrc: this.ssrc,
      fractionLost: Math.min(255, fractionLost),
      cumulativeLost: lost,
      extendedHighestSeq: this.probation === 0 && this.started ? extendedMax >>> 0 : 0,
      jitter: Math.floor(this.jitterValue) >>> 0,
      lsr: hasSr ? this.lastSrMiddle32 : 0,
      dlsr: hasSr ? msToCompactNtp(nowMs - (this.lastSrArrivalMs as number)) : 0,
    };
  }

  /** A.8 jitter in timestamp units (unrounded). */
  get jitter(): number {
    return this.jitterValue;
  }

  /** A.8 jitter converted to milliseconds. */
  get jitterMs(): number {
    return (this.jitterValue * 1000) / this.clockRate;
  }

  /** True once the source has passed probation. */
  get valid(): boolean {
    return this.started && this.probation === 0;
  }

  /** Read-only view of all counters (does not start a new interval). */
  snapshot(): ReceiverSourceSnapshot {
    const valid = this.valid;
    const extendedMax = this.cycles + this.maxSeq;
    const expected = valid ? extendedMax - this.baseSeq + 1 : 0;
    return {
      ssrc: this.ssrc,
      valid,
      received: this.received,
      expected,
      lost: expected - this.received,
      extendedHighestSeq: valid ? extendedMax : 0,
      baseSeq: this.baseSeq,
      cycles: this.cycles / RTP_SEQ_MOD,
      duplicates: this.duplicates,
      reordered: this.reordered,
      badSeqJumps: this.badSeqJumps,
      resyncs: this.resyncs,
      jitter: this.jitterValue,
      jitterMs: this.jitterMs,
      octets: this.octets,
      lastArrivalMs: this.lastArrivalMs,
    };
  }

  private initSeq(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = RTP_SEQ_MOD + 1; // so seq == bad_seq is false
    this.cycles = 0;
    this.received = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
    this.history.fill(0);
  }

  /** Marks a newly highest sequence `udelta` ahead; clears the slots skipped over. */
  private advanceHistory(udelta: number): void {
    const ext = this.cycles + this.maxSeq; // the previous highest, before this packet's update
    if (udelta >= SEQ_HISTORY_SIZE) {
      this.history.fill(0);
      return;
    }
    for (let i = 1; i <= udelta; i++) this.history[(ext + i) % SEQ_HISTORY_SIZE] = 0;
  }

  private count(seq: number, ts: number, arrivalMs: number, payloadBytes: number, outcome: SeqOutcome, ext?: number): SeqOutcome {
    this.received++;
    this.octets += payloadBytes;
    const e = ext ?? this.cycles + seq;
    this.history[((e % SEQ_HISTORY_SIZE) + SEQ_HISTORY_SIZE) % SEQ_HISTORY_SIZE] = 1;
    this.updateJitter(ts, arrivalMs);
    return outcome;
  }

  /** A.8: D = (Rj - Ri) - (Sj - Si) in timestamp units; J += (|D| - J) / 16. */
  private updateJitter(ts: number, arrivalMs: number): void {
    if (this.hasTransit) {
      const arrivalDelta = ((arrivalMs - this.prevArrivalMs) * this.clockRate) / 1000;
      const d = arrivalDelta - tsDiff(ts >>> 0, this.prevTimestamp);
      this.jitterValue += (Math.abs(d) - this.jitterValue) / 16;
    }
    this.hasTransit = true;
    this.prevArrivalMs = arrivalMs;
    this.prevTimestamp = ts >>> 0;
  }
}
