/** What a runner (real-time or simulated) hands back for the metrics: per track, in SDP order. */

import type { FateRecord } from '../impair/index.ts';
import type { TrackReceiver } from '../receiver/index.ts';
import type { ReceiverReportRecord } from '../server/index.ts';
import type { SeriesPoint } from './result-types.ts';
import type { TracePathOffset } from './impairment.ts';

export interface RunObservation {
  receivers: TrackReceiver[];
  /** Fate log of each track's RTP (index = track index; empty without impairment). */
  fates: (readonly FateRecord[])[];
  /** Fate logs of each track's RTCP paths, when the condition impairs them (server → receiver, receiver → server). */
  rtcpFates?: (readonly FateRecord[] | undefined)[];
  returnFates?: (readonly FateRecord[] | undefined)[];
  /** Sequence number of each stream's first RTP packet (undefined when unknown). */
  seq0: (number | undefined)[];
  /** RRs the server received about each track. */
  reports: ReceiverReportRecord[][];
  series: SeriesPoint[];
  end: string;
  /** The presentation span actually played (npt seconds). */
  startNpt: number;
  endNpt: number;
  eventLoop?: { meanMs: number; p99Ms: number; maxMs: number };
  /** Datagrams the kernel dropped on the receiver's UDP sockets (real time on Linux; else undefined). */
  kernelDrops?: number;
  /** Where each path's traces started (paths with a trace only). */
  traceOffsets?: TracePathOffset[];
}
