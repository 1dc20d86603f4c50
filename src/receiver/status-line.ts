/**
 * The refreshing status line of `streamlab play` in a terminal. It is redrawn in place with `\r`
 * and erase-line, which only works while it fits on one terminal row: the line is built at the
 * most detailed level that fits `columns - 1` (the last column would wrap on some terminals) and
 * cut as a last resort, so no refresh ever scrolls.
 */

/** The figures of one track the line shows. */
export interface StatusTrack {
  media: string;
  kbps: number;
  packets: number;
  lost: number;
  late: number;
  jitterMs: number;
  delayMs: number;
  targetMs: number;
  rttMs?: number;
}

export interface StatusInput {
  paused: boolean;
  positionSec: number;
  transport: string;
  tracks: StatusTrack[];
}

/** Columns assumed when the terminal does not say (a pipe, an old terminal). */
export const STATUS_DEFAULT_COLUMNS = 80;

type Level = (t: StatusTrack) => string;

const LEVELS: Level[] = [
  (t) =>
    `${t.media[0]}: ${t.kbps} kb/s ${t.packets} pkts lost ${t.lost} late ${t.late} jitter ${t.jitterMs.toFixed(1)} ms buf ${t.delayMs.toFixed(0)}/${t.targetMs.toFixed(0)} ms` +
    (t.rttMs !== undefined ? ` rtt ${t.rttMs.toFixed(1)} ms` : ''),
  (t) =>
    `${t.media[0]} ${t.kbps}kb/s lost ${t.lost} late ${t.late} jit ${t.jitterMs.toFixed(0)}ms buf ${t.delayMs.toFixed(0)}/${t.targetMs.toFixed(0)}ms` +
    (t.rttMs !== undefined ? ` rtt ${t.rttMs.toFixed(0)}ms` : ''),
  (t) => `${t.media[0]} ${t.kbps}k L${t.lost}/${t.late} j${t.jitterMs.toFixed(0)} b${t.delayMs.toFixed(0)}`,
];

/** The status line for a terminal `columns` wide: never longer than columns - 1. */
export function formatStatusLine(s: StatusInput, columns: number = STATUS_DEFAULT_COLUMNS): string {
  const width = Math.max(1, (Number.isFinite(columns) && columns > 0 ? Math.floor(columns) : STATUS_DEFAULT_COLUMNS) - 1);
  const head = `${s.paused ? 'PAUSED ' : ''}${s.positionSec.toFixed(1)} s ${s.transport}`;
  let line = '';
  for (const [i, level] of LEVELS.entries()) {
    const sep = i === 0 ? ' | ' : ' ';
    line = [i === 0 ? head : head.replace(' s ', 's '), ...s.tracks.map(level)].join(sep);
    if (line.length <= width) return line;
  }
  return line.slice(0, width);
}
