/**
 * A file's send grid: the finest time step that every sample's decoding time is a multiple of,
 * over all its tracks (25 fps video and 48 kHz AAC, 1024 samples a frame: gcd(40, 21.33) = 2.67
 * ms). A session whose timeline starts on that grid (alignedStartMs) sends every packet at a
 * multiple of it, so sessions of one file, started whenever, have their packets due at the same
 * instants: one scheduler wake-up serves them all and hands the kernel one batch, where sessions
 * with timelines of their own would each need wake-ups of their own, almost every millisecond
 * once there are a hundred of them. The price is a PLAY's first packet up to one grid step later.
 */
import type { Track } from '../media/index.ts';

/** Below this a grid saves nothing: the scheduler's own resolution is 1 ms. */
export const MIN_SEND_GRID_MS = 1;
/**
 * A coarser grid is divided down to at most this (a divisor of a grid is a grid too): what a PLAY
 * may wait for its first packet.
 */
export const MAX_SEND_GRID_MS = 5;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * The grid of `tracks` in ms, or undefined when there is none of at least MIN_SEND_GRID_MS
 * (variable frame rates, 44.1 kHz audio with 25 fps video, non-integer tables).
 */
export function sendGridMs(tracks: readonly Track[]): number | undefined {
  // Every decoding time in units of 1/unit s, unit = lcm of the timescales: the grid is their gcd.
  let unit = 1;
  for (const t of tracks) {
    if (!Number.isSafeInteger(t.timescale) || t.timescale <= 0) return undefined;
    unit = (unit / gcd(unit, t.timescale)) * t.timescale;
    if (!Number.isSafeInteger(unit)) return undefined;
  }
  /** The largest step that could still be at least MIN_SEND_GRID_MS, in units. */
  const minUnits = (MIN_SEND_GRID_MS / 1000) * unit;
  let g = 0;
  for (const t of tracks) {
    const factor = unit / t.timescale;
    const { dts, count } = t.samples;
    for (let i = 0; i < count; i++) {
      const v = Math.abs(dts[i]!) * factor;
      if (!Number.isSafeInteger(v)) return undefined;
      g = gcd(v, g);
      if (g !== 0 && g < minUnits) return undefined;
    }
  }
  if (g === 0) return undefined;
  const ms = (g * 1000) / unit;
  return ms / Math.ceil(ms / MAX_SEND_GRID_MS);
}

/**
 * The first clock time from `nowMs` at which a timeline starting at media time `startNpt` (s) puts
 * every decoding time on the grid: (start - startNpt) is a whole number of steps from clock 0, so
 * sessions of one file line up whatever their start and position.
 */
export function alignedStartMs(nowMs: number, startNpt: number, gridMs: number): number {
  const origin = startNpt * 1000;
  return origin + Math.ceil((nowMs - origin) / gridMs) * gridMs;
}

/**
 * A file's send lattice: the instants at which one of its tracks (an audio track with a constant
 * sample duration, the shortest if several: AAC's 21.33 ms at 48 kHz; else the video track with
 * the shortest: 40 ms for 25 fps) has its samples due, `phaseSec + k * periodSec` in media time.
 * Sessions whose timelines start a whole number of periods from clock 0 (latticeStartMs) share
 * those instants, whatever their start and position. The video tracks' samples go at the midpoint
 * between two lattice instants at or before their decoding time (betweenLattice: up to one period
 * early, never late); audio is never moved, its jitter is what a listener hears. The midpoints
 * are wake-ups of their own, so that a video frame's burst never delays the audio (sent at the
 * lattice instants themselves, audio jitter at 100 clients read 0.60 ms, against 0.48 ms at the
 * midpoints). All
 * sessions of the file then send at ~94 instants a second (48 kHz AAC), where the send grid's gcd
 * gives 375 (2.67 ms): at 100 clients those wake-ups, and the receivers the kernel wakes at each,
 * were a third of the CPU of file sessions.
 */
export interface SendLattice extends LatticeTimes {
  /** The track whose samples define the lattice (its own samples are never moved). */
  track: number;
}

/** Instants `phaseSec + k * periodSec` of media time: a lattice's, or its midpoints'. */
export interface LatticeTimes {
  periodSec: number;
  phaseSec: number;
}

/** A lattice coarser than this would send other tracks too early: none then. */
export const MAX_LATTICE_MS = 50;

/**
 * The lattice of `tracks` (index into it), or undefined when no track has a constant sample
 * duration of 1-50 ms. An audio track's is preferred to any video track's.
 */
export function sendLattice(tracks: readonly Track[]): SendLattice | undefined {
  let best: SendLattice | undefined;
  let bestIsAudio = false;
  for (const [i, t] of tracks.entries()) {
    const { dts, count } = t.samples;
    if (count < 2 || !(t.timescale > 0)) continue;
    const step = dts[1]! - dts[0]!;
    if (!(step > 0)) continue;
    let constant = true;
    for (let k = 2; k < count && constant; k++) constant = dts[k]! - dts[k - 1]! === step;
    const periodSec = step / t.timescale;
    if (!constant || periodSec * 1000 < MIN_SEND_GRID_MS || periodSec * 1000 > MAX_LATTICE_MS) continue;
    const audio = t.kind === 'audio';
    if (best && ((bestIsAudio && !audio) || (bestIsAudio === audio && best.periodSec <= periodSec))) continue;
    const first = dts[0]! / t.timescale;
    best = { track: i, periodSec, phaseSec: first - Math.floor(first / periodSec) * periodSec };
    bestIsAudio = audio;
  }
  return best;
}

/**
 * The latest clock time at or before `nowMs` at which a timeline starting at media time
 * `startNpt` (s) is a whole number of lattice periods from clock 0: a PLAY starts at most one
 * period in the past (what fell due meanwhile goes at once), so it waits for nothing.
 */
export function latticeStartMs(nowMs: number, startNpt: number, periodSec: number): number {
  const origin = startNpt * 1000;
  const period = periodSec * 1000;
  return origin + Math.floor((nowMs - origin) / period) * period;
}

/** The media time (s) at which a sample decoded at `dtsSec` is sent on `lattice`: the instant at or before it. */
export function latticeTimeOf(dtsSec: number, lattice: LatticeTimes): number {
  const { periodSec, phaseSec } = lattice;
  // A tolerance: a due time on the lattice, computed another way, must not fall a period back.
  return phaseSec + Math.floor((dtsSec - phaseSec) / periodSec + 1e-9) * periodSec;
}

/** The midpoints between `lattice`'s instants: where the video tracks are sent. */
export function betweenLattice(lattice: LatticeTimes): LatticeTimes {
  return { periodSec: lattice.periodSec, phaseSec: lattice.phaseSec + lattice.periodSec / 2 };
}
