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
