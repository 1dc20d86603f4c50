import path from 'node:path';
import { openMediaEntry } from '../media-catalog.ts';
import { ChunkCache } from '../../sender/packetized-track.ts';
import type { PayloadFormat } from '../../sender/payload-formats.ts';
import type { SampleSource } from '../../sender/rtp-stream.ts';
import { startIndexFor } from '../../sender/seek.ts';
import { PushError } from './errors.ts';
import { loopTracks } from '../../sender/looped-source.ts';

/** One track of what is pushed: its payload format (for the SDP) and where its samples come from. */
export interface PushTrackInput {
  control: string;
  format: PayloadFormat;
  source: SampleSource;
}

/** What a push sends: a file's tracks, or a live source. */
export interface PushInput {
  /** s= of the SDP. */
  name: string;
  tracks: PushTrackInput[];
  /** Where each track starts for --start, in decode order, and the npt actually started at. */
  startPositions(npt: number): { startNpt: number; indices: number[] };
  /** Called once when sending starts (a live input starts its source then). */
  begin?(nowMs: number): void;
  /**
   * For sources that grow while sending (live): `wake` when samples were added or the source
   * ended, `fail` when it failed.
   */
  subscribe?(wake: () => void, fail: (reason: string) => void): void;
  close(): Promise<void>;
}

export interface FileInputOptions {
  mtu: number;
  loop: boolean;
  startNpt?: number;
  durationSec?: number;
}

/** A file's streamable tracks, packetized as the server does, optionally looped. */
export async function openFileInput(file: string, o: FileInputOptions): Promise<PushInput> {
  const entry = await openMediaEntry(path.resolve(file), path.basename(file), o.mtu - 40, new ChunkCache()).catch((err: unknown) => {
    throw new PushError('PUSH_ERR_MEDIA', `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  });
  const fail = async (err: PushError): Promise<never> => {
    await entry.file.close();
    throw err;
  };
  if (entry.tracks.length === 0) {
    return fail(
      new PushError(
        'PUSH_ERR_NO_TRACKS',
        `${file} has no track we can stream (${entry.skipped.map((s) => `${s.codec}: ${s.reason}`).join('; ')})`,
      ),
    );
  }
  if (o.startNpt !== undefined && !(o.startNpt >= 0 && o.startNpt < entry.durationSec)) {
    return fail(new PushError('PUSH_ERR_RANGE', `--start ${o.startNpt} is outside the file (0-${entry.durationSec.toFixed(3)} s)`));
  }
  if (o.durationSec !== undefined && !(o.durationSec > 0))
    return fail(new PushError('PUSH_ERR_RANGE', `--duration ${o.durationSec} must be positive`));
  const bases = entry.tracks.map((t) => t.source);
  const mediaTracks = bases.map((b) => b.track);
  const looped = o.loop ? loopTracks(entry.durationSec, bases).sources : bases;
  return {
    name: entry.relPath,
    tracks: entry.tracks.map((t, i) => ({
      control: t.control,
      format: t.source.format,
      source: looped[i] ?? t.source,
    })),
    startPositions: (npt) => startIndexFor(mediaTracks, npt),
    close: () => entry.file.close(),
  };
}
