/**
 * One track's jitter buffer: orders packets by extended sequence number, drops duplicates, holds
 * reordered packets and releases them by playout deadline (see playout-clock.ts for the mapping).
 * Pure: time comes in as `push(packet, arrivalMs)` / `poll(nowMs)`; `nextDeadline()` tells the
 * caller when to poll next.
 *
 * Release rule. Packets leave strictly in sequence order (decode order), and a packet leaves when
 * the EARLIEST deadline among it and every held packet after it has come: the head goes at
 * min(deadline of all held packets). This matters for video with B-frames, whose timestamps (RTP
 * carries presentation time) step backwards in decode order: in `I0 P3 B1 B2` the P frame must be
 * handed to the decoder before B1 is due, so it leaves at deadline(B1), not at its own later one.
 * Every access unit thus leaves no later than its own deadline; for audio and B-frame-free video
 * (monotonic timestamps) the rule is simply "each packet at its own deadline". B-frames arrive
 * later than their presentation time suggests (they are sent in decode order), so their relative
 * delay is higher; the adaptive target learns that reorder depth like any other delay.
 *
 * Access units and smoothness. All packets of one RTP timestamp share a deadline: the deadline of
 * the unit being released is frozen when its first packet leaves, until its last packet is out,
 * so a change of the playout offset only affects later units. The offset moves (at each arrival
 * and each access-unit release) by at most slewUp/slewDown x elapsed time, and never so far down
 * that a held packet becomes overdue: output neither jumps nor reorders. Updating at arrivals too
 * matters: when every packet is late (a lasting rise of the network delay), nothing is released,
 * and the offset must still rise to meet them.
 *
 * Loss. A missing sequence number is declared lost (a 'lost' event, then the packet after it with
 * `lostBefore`) when the packet after it is released, so a gap is never waited for longer than the
 * next packet's deadline. A packet arriving after its deadline, or behind the released sequence, is
 * dropped and counted as late (its number has been or will be reported lost).
 *
 * Restart. A packet with a new SSRC, a sequence jump beyond MAX_DROPOUT/MAX_MISORDER or a transit
 * jump beyond resyncThresholdMs (timestamp jump, PAUSE/PLAY) is held aside; `resyncPackets`
 * consistent such packets confirm a restart: the held packets are flushed (forced releases), a
 * 'resync' event follows, and the buffer re-syncs on the candidates. A non-candidate packet in
 * between discards them. Extended sequence numbers keep increasing across a resync or flush (the
 * new stream starts two 65536-cycles above the last one; within the first stream they equal the
 * 16-bit numbers of the first cycle, and a packet preceding the first one across 65535 -> 0 gets
 * a negative one); the delay histogram is kept (it describes the network).
 */

import { seqDiff, tsDiff } from '../../util/seq.ts';
import { DelayEstimator } from './delay-estimator.ts';
import { PlayoutClock } from './playout-clock.ts';
import {
  JB_DEFAULT_BASE_WINDOW_MS,
  JB_DEFAULT_BIN_MS,
  JB_DEFAULT_HALF_LIFE_MS,
  JB_DEFAULT_MAX_DELAY_MS,
  JB_DEFAULT_MAX_PACKETS,
  JB_DEFAULT_MIN_DELAY_MS,
  JB_DEFAULT_PERCENTILE,
  JB_DEFAULT_RESYNC_PACKETS,
  JB_DEFAULT_RESYNC_THRESHOLD_MS,
  JB_DEFAULT_SLEW_DOWN,
  JB_DEFAULT_SLEW_UP,
  JB_DEFAULT_START_DELAY_MS,
  JB_MAX_DROPOUT,
  JB_MAX_MISORDER,
  JB_MAX_PROBATION_PACKETS,
  JB_RELEASED_HISTORY,
  type JitterBufferOptions,
  type JitterBufferStats,
  type JitterEvent,
  type JitterPacketInput,
  type JitterPushOutcome,
  type JitterResyncReason,
} from './types.ts';
import { at } from '../../util/narrow.ts';

interface Held<P> {
  packet: P;
  ext: number;
  extTs: number;
  arrivalMs: number;
}

interface Candidate<P> {
  packet: P;
  arrivalMs: number;
  reason: JitterResyncReason;
}

const SEQ_CYCLE = 0x10000;
const RING_MASK = JB_RELEASED_HISTORY - 1;

export class JitterBuffer<P extends JitterPacketInput = JitterPacketInput> {
  readonly mode: 'fixed' | 'adaptive';
  readonly clockRate: number;
  private readonly fixedDelayMs: number;
  private readonly maxPackets: number;
  private readonly resyncThresholdMs: number;
  private readonly resyncPackets: number;
  private readonly maxDropout: number;
  private readonly maxMisorder: number;
  private readonly copyPayload: boolean;
  private readonly clock: PlayoutClock;
  private readonly estimator: DelayEstimator | undefined;

  /** Held packets sorted by ext; entries before `head` are released. */
  private pending: (Held<P> | undefined)[] = [];
  private head = 0;
  /** Events produced by push()/flush-on-resync, handed out by the next poll(). */
  private out: JitterEvent<P>[] = [];
  private outAtMs = 0;
  private probation: Candidate<P>[] = [];

  private synced = false;
  private ssrc = 0;
  private highestExt = 0;
  private cycleStart = 0;
  private nextSeq: number | undefined;
  private lastAuExtTs: number | undefined;
  private lastAuDeadline = 0;
  /** 1 = released, 0 = declared lost, indexed by ext & RING_MASK (valid below nextSeq). */
  private readonly releasedRing = new Uint8Array(JB_RELEASED_HISTORY);

  private readonly st = {
    received: 0,
    accepted: 0,
    released: 0,
    forced: 0,
    late: 0,
    lost: 0,
    duplicates: 0,
    reordered: 0,
    discarded: 0,
    resyncs: 0,
    playoutDelaySum: 0,
    lastPlayoutDelay: 0,
    targetSum: 0,
    targetSamples: 0,
  };

  constructor(options: JitterBufferOptions) {
    const o = options;
    if (!(o.clockRate > 0)) throw new RangeError(`clockRate must be > 0, got ${o.clockRate}`);
    this.clockRate = o.clockRate;
    let maxDelayMs: number;
    if (o.mode === 'fixed') {
      if (!(o.delayMs >= 0)) throw new RangeError(`delayMs must be >= 0, got ${o.delayMs}`);
      this.mode = 'fixed';
      this.fixedDelayMs = o.delayMs;
      maxDelayMs = Math.max(o.delayMs, o.maxDelayMs ?? JB_DEFAULT_MAX_DELAY_MS);
    } else {
      this.mode = 'adaptive';
      this.fixedDelayMs = 0;
      maxDelayMs = o.maxDelayMs ?? JB_DEFAULT_MAX_DELAY_MS;
      this.estimator = new DelayEstimator({
        minDelayMs: o.minDelayMs ?? Math.min(JB_DEFAULT_MIN_DELAY_MS, maxDelayMs),
        maxDelayMs,
        startDelayMs: o.startDelayMs ?? JB_DEFAULT_START_DELAY_MS,
        percentile: o.percentile ?? JB_DEFAULT_PERCENTILE,
        binMs: o.binMs ?? JB_DEFAULT_BIN_MS,
        halfLifeMs: o.halfLifeMs ?? JB_DEFAULT_HALF_LIFE_MS,
      });
    }
    this.maxPackets = o.maxPackets ?? JB_DEFAULT_MAX_PACKETS;
    this.resyncThresholdMs = o.resyncThresholdMs ?? JB_DEFAULT_RESYNC_THRESHOLD_MS;
    this.resyncPackets = o.resyncPackets ?? JB_DEFAULT_RESYNC_PACKETS;
    this.maxDropout = o.maxDropout ?? JB_MAX_DROPOUT;
    this.maxMisorder = o.maxMisorder ?? JB_MAX_MISORDER;
    this.copyPayload = o.copyPayload ?? true;
    if (!(this.maxPackets >= 1)) throw new RangeError('maxPackets must be >= 1');
    if (!(this.resyncPackets >= 1 && this.resyncPackets <= JB_MAX_PROBATION_PACKETS)) {
      throw new RangeError(`resyncPackets must be in 1..${JB_MAX_PROBATION_PACKETS}`);
    }
    this.clock = new PlayoutClock({
      clockRate: o.clockRate,
      baseWindowMs: o.baseWindowMs ?? JB_DEFAULT_BASE_WINDOW_MS,
      slewUp: o.slewUp ?? JB_DEFAULT_SLEW_UP,
      slewDown: o.slewDown ?? JB_DEFAULT_SLEW_DOWN,
      maxDelayMs,
    });
  }

  /** The delay the buffer aims for over the fastest packet's path (ms). */
  get targetDelayMs(): number {
    return this.estimator ? this.estimator.targetMs : this.fixedDelayMs;
  }

  /** Takes one received packet. Throws only on out-of-range fields (a programmer error). */
  push(packet: P, arrivalMs: number): JitterPushOutcome {
    checkPacket(packet, arrivalMs);
    this.st.received++;
    if (!this.synced) {
      this.startStream(packet, arrivalMs);
      return this.accept(packet, arrivalMs);
    }
    const reason = this.suspect(packet, arrivalMs);
    if (reason) return this.onCandidate({ packet, arrivalMs, reason });
    if (this.probation.length > 0) this.discardProbation();
    return this.accept(packet, arrivalMs);
  }

  /** Events due at `nowMs`, in order: queued forced releases first, then due packets and gaps. */
  poll(nowMs: number): JitterEvent<P>[] {
    const events = this.out;
    this.out = [];
    let suffix: Float64Array | undefined;
    while (this.head < this.pending.length) {
      suffix ??= this.suffixMinDeadlines();
      if (at(suffix, 0) > nowMs) break;
      const newAu = this.releaseHead(nowMs, false, events);
      if (newAu) suffix = undefined;
      else suffix = suffix.subarray(1);
    }
    return events;
  }

  /** When poll() has something: a time <= now when events are queued, undefined when empty. */
  nextDeadline(): number | undefined {
    if (this.out.length > 0) return this.outAtMs;
    let min: number | undefined;
    for (let i = this.head; i < this.pending.length; i++) {
      const d = this.deadlineOf(this.pending[i]!.extTs);
      if (min === undefined || d < min) min = d;
    }
    return min;
  }

  /**
   * Releases everything held now (forced), after any queued events, and forgets the stream: the
   * next packet starts a new one (end of stream, seek, PAUSE/PLAY). Statistics are kept.
   */
  flush(nowMs: number): JitterEvent<P>[] {
    const events = this.out;
    this.out = [];
    if (this.probation.length > 0) this.discardProbation();
    this.releaseAll(nowMs, events);
    this.endStream();
    return events;
  }

  stats(): JitterBufferStats {
    const s = this.st;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = this.head; i < this.pending.length; i++) {
      const t = this.pending[i]!.extTs;
      if (t < lo) lo = t;
      if (t > hi) hi = t;
    }
    const depthPackets = this.pending.length - this.head;
    return {
      mode: this.mode,
      targetDelayMs: this.targetDelayMs,
      meanTargetDelayMs: s.targetSamples > 0 ? s.targetSum / s.targetSamples : 0,
      appliedDelayMs: this.synced ? this.clock.appliedDelayMs : 0,
      playoutDelayMs: s.lastPlayoutDelay,
      meanPlayoutDelayMs: s.released > 0 ? s.playoutDelaySum / s.released : 0,
      depthPackets,
      depthMs: depthPackets > 0 ? ((hi - lo) * 1000) / this.clockRate : 0,
      received: s.received,
      accepted: s.accepted,
      released: s.released,
      forced: s.forced,
      late: s.late,
      lost: s.lost,
      duplicates: s.duplicates,
      reordered: s.reordered,
      discarded: s.discarded,
      resyncs: s.resyncs,
    };
  }

  // --- stream state -------------------------------------------------------------------------

  private startStream(packet: P, arrivalMs: number): void {
    this.synced = true;
    this.ssrc = packet.ssrc;
    this.highestExt = this.cycleStart + packet.sequence;
    this.nextSeq = undefined;
    this.lastAuExtTs = undefined;
    this.releasedRing.fill(0);
    this.clock.sync(packet.timestamp, arrivalMs, this.targetDelayMs);
  }

  private endStream(): void {
    this.synced = false;
    this.clock.reset();
    this.pending = [];
    this.head = 0;
    // Two cycles up: the next stream's first packet lands above everything released so far, and
    // so do its packets that precede it (by up to maxMisorder < 2^15).
    this.cycleStart = (Math.floor(this.highestExt / SEQ_CYCLE) + 2) * SEQ_CYCLE;
  }

  /** Why a packet would restart the stream, or undefined when it belongs to it. */
  private suspect(packet: P, arrivalMs: number): JitterResyncReason | undefined {
    if (packet.ssrc !== this.ssrc) return 'ssrc';
    const d = seqDiff(packet.sequence, this.highestExt & 0xffff);
    if (d > this.maxDropout || d < -this.maxMisorder) return 'sequence';
    const rel = this.clock.relativeTransit(this.clock.unwrap(packet.timestamp), arrivalMs);
    if (Math.abs(rel) > this.resyncThresholdMs) return 'timestamp';
    return undefined;
  }

  private onCandidate(c: Candidate<P>): JitterPushOutcome {
    const first = this.probation[0];
    if (this.probation.some((x) => x.packet.ssrc === c.packet.ssrc && x.packet.sequence === c.packet.sequence)) {
      this.st.duplicates++;
      return 'duplicate';
    }
    if (first && !this.consistent(first, c)) this.discardProbation();
    if (this.probation.length >= JB_MAX_PROBATION_PACKETS) {
      this.probation.shift();
      this.st.discarded++;
    }
    this.probation.push({ ...c, packet: this.keep(c.packet) });
    if (this.probation.length < this.resyncPackets) return 'probation';
    // Confirmed: flush the old stream, re-sync on the candidates in arrival order.
    const cands = this.probation;
    this.probation = [];
    if (this.out.length === 0) this.outAtMs = c.arrivalMs;
    this.releaseAll(c.arrivalMs, this.out);
    this.endStream();
    this.st.resyncs++;
    const lead = at(cands, 0);
    this.out.push({ type: 'resync', reason: lead.reason, ssrc: lead.packet.ssrc });
    this.startStream(lead.packet, lead.arrivalMs);
    for (const k of cands) this.accept(k.packet, k.arrivalMs, false);
    return 'resync';
  }

  /** Same SSRC, nearby sequence number and a transit within the threshold of the first candidate. */
  private consistent(a: Candidate<P>, b: Candidate<P>): boolean {
    if (a.packet.ssrc !== b.packet.ssrc) return false;
    if (Math.abs(seqDiff(b.packet.sequence, a.packet.sequence)) > this.maxMisorder) return false;
    const mediaMs = (tsDiff(b.packet.timestamp, a.packet.timestamp) * 1000) / this.clockRate;
    return Math.abs(b.arrivalMs - a.arrivalMs - mediaMs) <= this.resyncThresholdMs;
  }

  private discardProbation(): void {
    this.st.discarded += this.probation.length;
    this.probation = [];
  }

  // --- accepting ------------------------------------------------------------------------------

  private accept(packet: P, arrivalMs: number, copy = true): JitterPushOutcome {
    const ext = this.highestExt + seqDiff(packet.sequence, this.highestExt & 0xffff);
    const idx = this.findIndex(ext);
    if (idx < this.pending.length && this.pending[idx]!.ext === ext) {
      this.st.duplicates++;
      return 'duplicate';
    }
    const behindReleased = this.nextSeq !== undefined && ext < this.nextSeq;
    if (behindReleased && this.nextSeq! - ext <= JB_RELEASED_HISTORY && this.releasedRing[ext & RING_MASK] === 1) {
      this.st.duplicates++;
      return 'duplicate';
    }
    if (ext < this.highestExt) this.st.reordered++;
    else this.highestExt = ext;
    const extTs = this.clock.unwrap(packet.timestamp);
    this.clock.commit(extTs);
    const rel = this.clock.observe(extTs, arrivalMs);
    this.estimator?.add(rel, arrivalMs);
    this.clock.update(arrivalMs, this.targetDelayMs, this.floorFn(arrivalMs));
    if (behindReleased || arrivalMs > this.deadlineOf(extTs)) {
      this.st.late++;
      return 'late';
    }
    this.pending.splice(idx, 0, { packet: copy ? this.keep(packet) : packet, ext, extTs, arrivalMs });
    this.st.accepted++;
    if (this.pending.length - this.head > this.maxPackets) {
      if (this.out.length === 0) this.outAtMs = arrivalMs;
      this.releaseHead(arrivalMs, true, this.out);
    }
    return 'accepted';
  }

  private keep(packet: P): P {
    return this.copyPayload ? { ...packet, payload: Buffer.from(packet.payload) } : packet;
  }

  /** First index at or after head whose ext is >= `ext` (binary search; most land at the end). */
  private findIndex(ext: number): number {
    const p = this.pending;
    let lo = this.head;
    let hi = p.length;
    if (hi > lo && p[hi - 1]!.ext < ext) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (p[mid]!.ext < ext) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // --- releasing ------------------------------------------------------------------------------

  private deadlineOf(extTs: number): number {
    return extTs === this.lastAuExtTs ? this.lastAuDeadline : this.clock.deadline(extTs);
  }

  /** For each held packet from head on, the earliest deadline among it and all after it. */
  private suffixMinDeadlines(): Float64Array {
    const n = this.pending.length - this.head;
    const out = new Float64Array(n);
    let min = Infinity;
    for (let i = n - 1; i >= 0; i--) {
      const d = this.deadlineOf(this.pending[this.head + i]!.extTs);
      if (d < min) min = d;
      out[i] = min;
    }
    return out;
  }

  /** Releases the head packet (with a 'lost' event before it for a gap); true at a new access unit. */
  private releaseHead(nowMs: number, forced: boolean, events: JitterEvent<P>[]): boolean {
    const h = this.pending[this.head]!;
    this.pending[this.head] = undefined;
    this.head++;
    if (this.head === this.pending.length) {
      this.pending = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
    let lostBefore = 0;
    if (this.nextSeq !== undefined && h.ext > this.nextSeq) {
      lostBefore = h.ext - this.nextSeq;
      events.push({ type: 'lost', fromSeq: this.nextSeq, count: lostBefore });
      this.st.lost += lostBefore;
      for (let e = Math.max(this.nextSeq, h.ext - JB_RELEASED_HISTORY); e < h.ext; e++) this.releasedRing[e & RING_MASK] = 0;
    }
    const deadlineMs = this.deadlineOf(h.extTs);
    const newAu = h.extTs !== this.lastAuExtTs;
    if (newAu) {
      this.lastAuExtTs = h.extTs;
      this.lastAuDeadline = deadlineMs;
    }
    const playoutDelayMs = nowMs - h.arrivalMs;
    events.push({
      type: 'packet',
      packet: h.packet,
      extendedSeq: h.ext,
      extendedTimestamp: h.extTs,
      deadlineMs,
      arrivalMs: h.arrivalMs,
      playoutDelayMs,
      lostBefore,
      forced,
    });
    this.releasedRing[h.ext & RING_MASK] = 1;
    this.nextSeq = h.ext + 1;
    this.st.released++;
    this.st.playoutDelaySum += playoutDelayMs;
    this.st.lastPlayoutDelay = playoutDelayMs;
    if (forced) this.st.forced++;
    if (newAu && !forced) {
      const target = this.targetDelayMs;
      this.st.targetSum += target;
      this.st.targetSamples++;
      this.clock.update(nowMs, target, this.floorFn(nowMs));
    }
    return newAu;
  }

  /** Lowest offset keeping every held packet (outside the frozen access unit) due at or after now. */
  private floorFn(nowMs: number): () => number {
    return () => {
      let minTs = Infinity;
      for (let i = this.head; i < this.pending.length; i++) {
        const t = this.pending[i]!.extTs;
        if (t !== this.lastAuExtTs && t < minTs) minTs = t;
      }
      return minTs === Infinity ? -Infinity : nowMs - this.clock.mediaMs(minTs);
    };
  }

  private releaseAll(nowMs: number, events: JitterEvent<P>[]): void {
    while (this.head < this.pending.length) this.releaseHead(nowMs, true, events);
  }
}

function checkPacket(p: JitterPacketInput, arrivalMs: number): void {
  if (!Number.isInteger(p.sequence) || p.sequence < 0 || p.sequence > 0xffff) {
    throw new RangeError(`sequence must be a 16-bit integer, got ${p.sequence}`);
  }
  if (!Number.isInteger(p.timestamp) || p.timestamp < 0 || p.timestamp > 0xffffffff) {
    throw new RangeError(`timestamp must be a 32-bit integer, got ${p.timestamp}`);
  }
  if (!Number.isFinite(arrivalMs)) throw new RangeError(`arrivalMs must be finite, got ${arrivalMs}`);
}
