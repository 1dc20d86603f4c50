/**
 * Time-based traces, in the manner of Mahimahi (Netravali et al., USENIX ATC 2015):
 *
 * Delivery-opportunity trace (`link FILE`, Mahimahi's `mm-link` format): one line per delivery
 * opportunity, the time in whole milliseconds (a non-negative integer) at which one MTU-sized
 * packet (DELIVERY_OPPORTUNITY_BYTES) may leave the link. Times are non-decreasing; a time written
 * n times is n opportunities in that millisecond. The trace loops: its period is its last time
 * (which must be above 0), so opportunity k is at ⌊k / n⌋ · period + times[k mod n], as Mahimahi
 * replays it (`base_timestamp += schedule.back()`). A line of `1` alone is 12 Mbit/s.
 *
 * Delay trace (`delaytrace FILE`, ours): one-way delay as a step function of time. Lines
 * `TIME_MS DELAY_MS` (times strictly increasing, the first 0, delays ≥ 0, decimals allowed) set
 * the delay from that time on; a last line with a time alone gives the period after which the trace
 * loops (required). A packet leaving the link at trace time t is delayed by the step in force at
 * t mod period.
 *
 * In both, `#` starts a comment, blank lines are skipped. Path time 0 is when the path (or the
 * shared link) saw its first packet; it is trace time 0 unless a start offset is given (the lab
 * draws one per run from the path's seed: see traceStartFraction), then trace time = path time +
 * offset, looping as above.
 */

import { impairError, type ImpairResult } from './errors.ts';

/** Bytes one delivery opportunity carries: one 1500-byte IP packet (Mahimahi: 1504 with its TUN header). */
export const DELIVERY_OPPORTUNITY_BYTES = 1500;
/** Cap on the lines of one time-based trace. */
export const TIME_TRACE_MAX_LINES = 10_000_000;

export interface DeliveryTrace {
  /** Opportunity times in ms, non-decreasing; the last is the period. */
  readonly times: Float64Array;
}

export interface DelayTrace {
  /** Step start times in ms, strictly increasing from 0. */
  readonly times: Float64Array;
  readonly delaysMs: Float64Array;
  readonly periodMs: number;
}

function contentLines(text: string): { n: number; line: string }[] {
  const out: { n: number; line: string }[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/#.*$/, '').trim();
    if (line !== '') out.push({ n: i + 1, line });
  }
  return out;
}

/** Reads a Mahimahi delivery-opportunity trace (see the module comment). */
export function parseDeliveryTrace(text: string): ImpairResult<DeliveryTrace> {
  const lines = contentLines(text);
  if (lines.length === 0) return impairError('IMPAIR_ERR_BAD_TRACE', 'delivery trace has no opportunities', '');
  if (lines.length > TIME_TRACE_MAX_LINES) {
    return impairError('IMPAIR_ERR_BAD_TRACE', `delivery trace longer than ${TIME_TRACE_MAX_LINES} lines`, '');
  }
  const times = new Float64Array(lines.length);
  let prev = 0;
  for (const [i, { n, line }] of lines.entries()) {
    if (!/^\d+$/.test(line)) {
      return impairError('IMPAIR_ERR_BAD_TRACE', `delivery trace line ${n}: "${line}" is not a whole number of ms`, line);
    }
    const t = Number(line);
    if (!Number.isSafeInteger(t)) return impairError('IMPAIR_ERR_BAD_TRACE', `delivery trace line ${n}: ${line} is too large`, line);
    if (t < prev) return impairError('IMPAIR_ERR_BAD_TRACE', `delivery trace line ${n}: ${t} ms is before ${prev} ms`, line);
    times[i] = t;
    prev = t;
  }
  if (prev <= 0) return impairError('IMPAIR_ERR_BAD_TRACE', 'delivery trace must last more than 0 ms (its last time is its period)', '');
  return { ok: true, value: { times } };
}

/** Reads a delay trace (see the module comment). */
export function parseDelayTrace(text: string): ImpairResult<DelayTrace> {
  const lines = contentLines(text);
  if (lines.length > TIME_TRACE_MAX_LINES) {
    return impairError('IMPAIR_ERR_BAD_TRACE', `delay trace longer than ${TIME_TRACE_MAX_LINES} lines`, '');
  }
  const times: number[] = [];
  const delays: number[] = [];
  let period: number | undefined;
  const num = /^\d+(?:\.\d+)?$/;
  for (const { n, line } of lines) {
    if (period !== undefined) return impairError('IMPAIR_ERR_BAD_TRACE', `delay trace line ${n}: nothing may follow the period line`, line);
    const parts = line.split(/[\s,;]+/);
    if (parts.length > 2 || !parts.every((p) => num.test(p))) {
      return impairError('IMPAIR_ERR_BAD_TRACE', `delay trace line ${n}: expected "TIME_MS DELAY_MS" or a final "PERIOD_MS"`, line);
    }
    const t = Number(parts[0]);
    const last = times[times.length - 1];
    if (times.length === 0 && t !== 0)
      return impairError('IMPAIR_ERR_BAD_TRACE', `delay trace line ${n}: the first step starts at 0 ms`, line);
    if (last !== undefined && t <= last) {
      return impairError('IMPAIR_ERR_BAD_TRACE', `delay trace line ${n}: ${t} ms is not after ${last} ms`, line);
    }
    if (parts.length === 1) {
      if (times.length === 0) return impairError('IMPAIR_ERR_BAD_TRACE', `delay trace line ${n}: a period before any step`, line);
      period = t;
      continue;
    }
    times.push(t);
    delays.push(Number(parts[1]));
  }
  if (times.length === 0) return impairError('IMPAIR_ERR_BAD_TRACE', 'delay trace has no steps', '');
  if (period === undefined) {
    return impairError('IMPAIR_ERR_BAD_TRACE', 'delay trace has no period (a last line with a time alone, after which it loops)', '');
  }
  return { ok: true, value: { times: Float64Array.from(times), delaysMs: Float64Array.from(delays), periodMs: period } };
}

/** The first index i in a sorted array with a[i] >= x (a.length when none). */
function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index i in a sorted array with a[i] > x (a.length when none). */
function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((a[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A delivery trace replayed from trace time `offsetMs` (0 ≤ offset < period), looping: path time
 * t is trace time t + offset, so opportunity 0 is the first one at or after the offset.
 */
export class DeliverySchedule {
  readonly periodMs: number;
  private readonly n: number;
  /** The raw index (from the trace's time 0) of path opportunity 0. */
  private readonly first: number;

  constructor(
    readonly trace: DeliveryTrace,
    readonly offsetMs = 0,
  ) {
    this.n = trace.times.length;
    this.periodMs = trace.times[this.n - 1] as number;
    if (!(offsetMs >= 0 && offsetMs < this.periodMs)) throw new RangeError(`delivery trace offset ${offsetMs} ms outside its period`);
    this.first = this.rawFirstAtOrAfter(offsetMs);
  }

  /** Path time of opportunity k (k = 0, 1, 2, ... across loops). */
  timeOf(k: number): number {
    const r = k + this.first;
    const loop = Math.floor(r / this.n);
    return loop * this.periodMs + (this.trace.times[r - loop * this.n] as number) - this.offsetMs;
  }

  /** The first opportunity at or after path time t (t ≥ 0). */
  firstAtOrAfter(t: number): number {
    return this.rawFirstAtOrAfter(t + this.offsetMs) - this.first;
  }

  private rawFirstAtOrAfter(t: number): number {
    const P = this.periodMs;
    for (let loop = Math.max(0, Math.floor(t / P) - 1); ; loop++) {
      const j = lowerBound(this.trace.times, t - loop * P);
      if (j < this.n) return loop * this.n + j;
    }
  }

  /** Opportunities per second over one period (× DELIVERY_OPPORTUNITY_BYTES × 8 = the mean bit rate). */
  get opportunitiesPerSecond(): number {
    return (this.n * 1000) / this.periodMs;
  }
}

/** A delay trace replayed from trace time `offsetMs` (0 ≤ offset < period), looping. */
export class DelaySchedule {
  constructor(
    readonly trace: DelayTrace,
    readonly offsetMs = 0,
  ) {
    if (!(offsetMs >= 0 && offsetMs < trace.periodMs)) throw new RangeError(`delay trace offset ${offsetMs} ms outside its period`);
  }

  /** The one-way delay in force at path time t (trace time t + offset). */
  delayAt(t: number): number {
    const P = this.trace.periodMs;
    const x = t + this.offsetMs;
    const u = x - Math.floor(x / P) * P;
    const i = upperBound(this.trace.times, u) - 1;
    return this.trace.delaysMs[Math.max(0, i)] as number;
  }
}
