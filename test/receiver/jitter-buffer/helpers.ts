import type {
  JitterBuffer,
  JitterEvent,
  JitterPacketEvent,
  JitterPacketInput,
  JitterPushOutcome,
} from '../../../src/receiver/jitter-buffer/index.ts';

export const SSRC_A = 0x1111_1111;
export const SSRC_B = 0x2222_2222;

/** A packet whose one-byte payload is the low byte of its sequence number. */
export function pkt(sequence: number, timestamp: number, opts: { marker?: boolean; ssrc?: number } = {}): JitterPacketInput {
  return { sequence, timestamp, marker: opts.marker ?? true, payload: Buffer.from([sequence & 0xff]), ssrc: opts.ssrc ?? SSRC_A };
}

/** Compact, readable form of events: "p<ext>@<deadline>", "p<ext>@<deadline>!" (forced), "lost <from>+<n>", "resync <reason>". */
export function fmt(events: readonly JitterEvent[]): string[] {
  return events.map((e) => {
    if (e.type === 'packet') return `p${e.extendedSeq}@${e.deadlineMs}${e.forced ? '!' : ''}`;
    if (e.type === 'lost') return `lost ${e.fromSeq}+${e.count}`;
    return `resync ${e.reason}`;
  });
}

export interface Arrival {
  packet: JitterPacketInput;
  arrivalMs: number;
}

export interface DriveResult {
  /** Packet events with the time poll() handed them out. */
  released: (JitterPacketEvent & { releasedAtMs: number })[];
  events: JitterEvent[];
  outcomes: JitterPushOutcome[];
  /** stats().appliedDelayMs and targetDelayMs after each poll that released something. */
  samples: { t: number; applied: number; target: number }[];
}

/**
 * Drives a buffer like the receiver does: arrivals in time order, and a poll exactly at every
 * nextDeadline() that comes before the next arrival (a timer firing on time); drains at the end.
 */
export function drive(
  jb: JitterBuffer,
  arrivals: readonly Arrival[],
  afterPush?: (a: Arrival, outcome: JitterPushOutcome) => void,
): DriveResult {
  const sorted = [...arrivals].sort((a, b) => a.arrivalMs - b.arrivalMs);
  const r: DriveResult = { released: [], events: [], outcomes: [], samples: [] };
  const pollAt = (t: number) => {
    const ev = jb.poll(t);
    for (const e of ev) {
      r.events.push(e);
      if (e.type === 'packet') r.released.push({ ...e, releasedAtMs: t });
    }
    if (ev.length > 0) {
      const s = jb.stats();
      r.samples.push({ t, applied: s.appliedDelayMs, target: s.targetDelayMs });
    }
  };
  const runUntil = (t: number) => {
    for (;;) {
      const d = jb.nextDeadline();
      if (d === undefined || d > t) return;
      const before = r.events.length;
      pollAt(d);
      // nextDeadline() promised something due: a poll that hands out nothing is a defect
      if (r.events.length === before) throw new Error(`poll(${d}) at nextDeadline() returned nothing`);
    }
  };
  for (const a of sorted) {
    runUntil(a.arrivalMs);
    const outcome = jb.push(a.packet, a.arrivalMs);
    r.outcomes.push(outcome);
    afterPush?.(a, outcome);
  }
  runUntil(Infinity);
  return r;
}
