/**
 * Packet stages: each decides one thing about a packet at the time it is submitted, in a chain.
 * netem's enqueue order (sch_netem.c `netem_enqueue`) gives the chain
 *
 *   duplicate? → loss → corrupt → limit (queue full?) → [the duplicate re-enters at the top]
 *             → reorder / delay + jitter / rate (time to send)
 *
 * Everything is decided at submit time, as netem does (it computes time_to_send on enqueue), so a
 * stage needs no timers: the last stage writes `deliverAtMs`, and the caller schedules delivery.
 * Mitigation stages (FEC, retransmission) can be added around or between these without touching
 * them: a stage only sees a `StagePacket` and returns a verdict.
 */

import type { DelayConfig, RateConfig } from './config.ts';
import { CorrelatedRandom } from './crandom.ts';
import { sampleDelayMs } from './delay-dist.ts';
import type { LossModel } from './loss-models.ts';
import type { Prng } from '../util/prng.ts';

/** 'loss' the loss model, 'queue' netem's `limit`, 'tail' a full bottleneck queue, 'aqm' CoDel. */
export type DropReason = 'loss' | 'queue' | 'tail' | 'aqm';

export interface StagePacket {
  /** The caller's packet id (the same for a duplicate). */
  readonly id: number;
  readonly bytes: number;
  readonly sentAtMs: number;
  /** 0 for the packet itself, 1 for the copy netem's `duplicate` makes. */
  readonly copy: number;
  /** Set by the duplicate stage; a loss cancels it; the limit stage turns it into the copy. */
  duplicatePending: boolean;
  /** A copy of this packet was made (and passed the limit). */
  duplicated: boolean;
  /** Set by the corrupt stage: the bit to flip (byte index into the datagram, bit 0..7). */
  corrupt?: { byteIndex: number; bit: number };
  /** netem's reorder action: sent at once, ahead of the delayed packets. */
  reorderDecision: boolean;
  /** When the packet leaves the emulator (set by the delay stage; absent = at submit time). */
  deliverAtMs?: number;
}

export type StageVerdict = { readonly kind: 'pass'; readonly spawn?: StagePacket } | { readonly kind: 'drop'; readonly reason: DropReason };

export interface PacketStage {
  readonly name: string;
  process(pkt: StagePacket, nowMs: number): StageVerdict;
}

export const PASS: StageVerdict = { kind: 'pass' };

/** Where a packet (or copy) ended: dropped by a stage, or left the chain. */
export type StageOutcome =
  | { readonly pkt: StagePacket; readonly dropped: true; readonly reason: DropReason; readonly stage: string }
  | { readonly pkt: StagePacket; readonly dropped: false };

/**
 * Runs a packet through the stages. A spawned packet (netem's duplicate) runs through the whole
 * chain from the top before the original continues, as netem re-enqueues it at the root qdisc.
 */
export function runStages(stages: readonly PacketStage[], pkt: StagePacket, nowMs: number, out: (o: StageOutcome) => void): void {
  for (const stage of stages) {
    const v = stage.process(pkt, nowMs);
    if (v.kind === 'drop') {
      out({ pkt, dropped: true, reason: v.reason, stage: stage.name });
      return;
    }
    if (v.spawn) runStages(stages, v.spawn, nowMs, out);
  }
  out({ pkt, dropped: false });
}

export function newStagePacket(p: { id: number; bytes: number; sentAtMs: number }, copy = 0): StagePacket {
  return { id: p.id, bytes: p.bytes, sentAtMs: p.sentAtMs, copy, duplicatePending: false, duplicated: false, reorderDecision: false };
}

/** `duplicate P [CORR]`: marks the packet; copies are never duplicated again (netem tc_depth). */
export class DuplicateStage implements PacketStage {
  readonly name = 'duplicate';
  private readonly rnd: CorrelatedRandom;
  constructor(
    prng: Prng,
    private readonly p: number,
    correlation: number,
  ) {
    this.rnd = new CorrelatedRandom(prng, correlation);
  }
  process(pkt: StagePacket): StageVerdict {
    if (pkt.copy === 0 && this.rnd.chance(this.p)) pkt.duplicatePending = true;
    return PASS;
  }
}

/**
 * Loss. As netem counts copies (count = 1 + duplicate, loss → count - 1), a loss on a packet that
 * was chosen for duplication only cancels the duplicate: the packet itself goes on.
 */
export class LossStage implements PacketStage {
  readonly name = 'loss';
  constructor(private readonly model: LossModel) {}
  process(pkt: StagePacket): StageVerdict {
    if (!this.model.lose()) return PASS;
    if (pkt.duplicatePending) {
      pkt.duplicatePending = false;
      return PASS;
    }
    return { kind: 'drop', reason: 'loss' };
  }
}

/** `corrupt P [CORR]`: picks one bit to flip; the caller flips it (we never touch payload bytes). */
export class CorruptStage implements PacketStage {
  readonly name = 'corrupt';
  private readonly rnd: CorrelatedRandom;
  constructor(
    private readonly prng: Prng,
    private readonly p: number,
    correlation: number,
  ) {
    this.rnd = new CorrelatedRandom(prng, correlation);
  }
  process(pkt: StagePacket): StageVerdict {
    if (this.rnd.chance(this.p) && pkt.bytes > 0) {
      pkt.corrupt = { byteIndex: this.prng.nextInt(pkt.bytes), bit: this.prng.nextInt(8) };
    }
    return PASS;
  }
}

/**
 * The packets held in the emulator: their times to send, for netem's `limit` (count held) and for
 * `rate` (the last time to send). A min-heap bounded by the limit.
 */
export class HeldQueue {
  private heap: number[] = [];
  private maxTts = -Infinity;

  /** Forgets packets that have left by `nowMs` (time to send <= now). */
  purge(nowMs: number): void {
    const h = this.heap;
    while (h.length > 0 && (h[0] as number) <= nowMs) {
      const last = h.pop() as number;
      if (h.length === 0) break;
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && (h[l] as number) < (h[m] as number)) m = l;
        if (r < h.length && (h[r] as number) < (h[m] as number)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as number, h[i] as number];
        i = m;
      }
    }
  }

  get size(): number {
    return this.heap.length;
  }

  /** The latest time to send among held packets, or undefined when none is held. */
  get lastTimeToSend(): number | undefined {
    return this.heap.length > 0 ? this.maxTts : undefined;
  }

  push(tts: number): void {
    const h = this.heap;
    h.push(tts);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as number) <= (h[i] as number)) break;
      [h[i], h[parent]] = [h[parent] as number, h[i] as number];
      i = parent;
    }
    // The max of pushes since the heap was last empty bounds every held packet (see purge).
    this.maxTts = h.length === 1 ? tts : Math.max(this.maxTts, tts);
  }
}

/**
 * netem's `limit`: drops a packet when `limit` packets are already held (delayed or queued); the
 * duplicate chosen for it is made here, after the check, as netem clones it.
 */
export class LimitStage implements PacketStage {
  readonly name = 'limit';
  constructor(
    private readonly queue: HeldQueue,
    private readonly limit: number,
  ) {}
  process(pkt: StagePacket, nowMs: number): StageVerdict {
    this.queue.purge(nowMs);
    if (this.queue.size >= this.limit) return { kind: 'drop', reason: 'queue' };
    if (!pkt.duplicatePending) return PASS;
    pkt.duplicatePending = false;
    pkt.duplicated = true;
    return { kind: 'pass', spawn: newStagePacket(pkt, pkt.copy + 1) };
  }
}

/** Serialization time of a packet on the rate-limited link (netem `packet_time_ns`), in ms. */
export function packetTimeMs(bytes: number, rate: RateConfig): number {
  let len = bytes + rate.packetOverhead;
  if (rate.cellSize > 0) {
    const cells = Math.ceil(len / rate.cellSize);
    len = cells * (rate.cellSize + rate.cellOverhead);
  }
  return (Math.max(0, len) * 8 * 1000) / rate.bitsPerSecond;
}

/**
 * Time to send, as the end of `netem_enqueue`: every `gap`-th packet (counting from the last
 * reordered one) is, with the reorder probability, sent at once; the others get delay + jitter and,
 * with a rate, wait behind the last held packet: tts = max(now + delay, last) + packet time.
 */
export class DelayStage implements PacketStage {
  readonly name = 'delay';
  private counter = 0;
  private readonly delayRnd: CorrelatedRandom;
  private readonly reorderRnd: CorrelatedRandom | undefined;

  constructor(
    private readonly queue: HeldQueue,
    private readonly delay: DelayConfig | undefined,
    delayPrng: Prng,
    private readonly reorder: { p: number; correlation: number; gap: number } | undefined,
    reorderPrng: Prng,
    private readonly rate: RateConfig | undefined,
  ) {
    this.delayRnd = new CorrelatedRandom(delayPrng, delay?.correlation ?? 0);
    this.reorderRnd = reorder ? new CorrelatedRandom(reorderPrng, reorder.correlation) : undefined;
  }

  process(pkt: StagePacket, nowMs: number): StageVerdict {
    const gap = this.reorder?.gap ?? 0;
    const reorderNow = gap > 0 && this.counter >= gap - 1 && this.reorderRnd !== undefined && this.reorderRnd.chance(this.reorder!.p);
    if (reorderNow) {
      pkt.reorderDecision = true;
      pkt.deliverAtMs = nowMs;
      this.counter = 0;
      return PASS;
    }
    let delay = 0;
    const d = this.delay;
    if (d) {
      // netem draws only when there is jitter (tabledist returns mu when sigma is 0).
      const u = d.jitterMs === 0 ? 0 : this.delayRnd.nextUint32() / 0x1_0000_0000;
      delay = sampleDelayMs(d.delayMs, d.jitterMs, d.distribution, u);
    }
    let ref = nowMs;
    if (this.rate && this.rate.bitsPerSecond > 0) {
      const last = this.queue.lastTimeToSend;
      if (last !== undefined) {
        delay = Math.max(0, delay - (last - nowMs));
        ref = last;
      }
      delay += packetTimeMs(pkt.bytes, this.rate);
    }
    const tts = Math.max(nowMs, ref + delay);
    pkt.deliverAtMs = tts;
    this.counter++;
    if (tts > nowMs) this.queue.push(tts);
    return PASS;
  }
}
