/**
 * Opens an MPEG-TS file as a MediaFile with one track, codec 'mp2t', whose "samples" are the
 * index's payload units (up to 7 packets each): offsets and sizes in the file, dts = pts = the PCR
 * clock at the unit in 90 kHz ticks, keyframe = random access point. The server packetizes each
 * unit as one RTP MP2T payload and seeks to the random access point at or before the time asked.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { MediaError } from '../errors.ts';
import { readSampleRuns } from '../read-runs.ts';
import type { MediaFile, Track } from '../types.ts';
import { TS_PACKET_SIZE, TsIndexBuilder } from './ts-index.ts';
import type { TsIndex } from './ts-index.ts';
import { at } from '../../util/narrow.ts';

export const READ_CHUNK = TS_PACKET_SIZE * 5000;
export const MP2T_TIMESCALE = 90000;

export interface TsFile extends MediaFile {
  index: TsIndex;
}

export async function openTsFile(path: string): Promise<TsFile> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new MediaError((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'MEDIA_ERR_NOT_FOUND' : 'MEDIA_ERR_IO', `${path}: ${String(e)}`);
  }
  try {
    const builder = new TsIndexBuilder();
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    for (let pos = 0; ; ) {
      const { bytesRead } = await fh.read(buf, 0, READ_CHUNK, pos);
      if (bytesRead === 0) break;
      builder.push(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    const index = builder.finish();
    const fatal = index.problems.find((p) => p.code === 'TS_ERR_NO_PCR');
    if (fatal || index.unitFirstPacket.length === 0) {
      throw new MediaError('MEDIA_ERR_BAD_SAMPLE_TABLE', `${path}: ${fatal?.message ?? 'no TS packets'}`);
    }
    return new TsFileImpl(path, fh, index, trackOf(index));
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
}

/** The index as a Track's sample table. */
export function trackOf(index: TsIndex): Track {
  const n = index.unitFirstPacket.length;
  const offsets = new Float64Array(n);
  const sizes = new Uint32Array(n);
  const dts = new Float64Array(n);
  for (let u = 0; u < n; u++) {
    offsets[u] = at(index.unitFirstPacket, u) * TS_PACKET_SIZE;
    sizes[u] = at(index.unitPackets, u) * TS_PACKET_SIZE;
    dts[u] = at(index.unitTimeSec, u) * MP2T_TIMESCALE;
  }
  return {
    id: 1,
    kind: 'video',
    codec: 'mp2t',
    fourcc: 'mp2t',
    timescale: MP2T_TIMESCALE,
    durationSec: index.durationSec,
    sampleCount: n,
    samples: { count: n, offsets, sizes, dts, pts: dts, keyframe: index.unitRap },
    editShiftTicks: 0,
  };
}

export class TsFileImpl implements TsFile {
  protected closed = false;
  readonly tracks: Track[];
  durationSec: number;

  constructor(
    readonly path: string,
    protected readonly fh: FileHandle,
    public index: TsIndex,
    track: Track,
  ) {
    this.tracks = [track];
    this.durationSec = index.durationSec;
  }

  private check(track: Track, from: number, to: number): void {
    if (this.closed) throw new MediaError('MEDIA_ERR_CLOSED', `${this.path} is closed`);
    if (track !== this.tracks[0]) throw new MediaError('MEDIA_ERR_BAD_INDEX', 'track is not from this file');
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from || to > track.samples.count) {
      throw new MediaError('MEDIA_ERR_BAD_INDEX', `samples [${from}, ${to}) out of range 0..${track.samples.count}`);
    }
  }

  private async read(pos: number, len: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafeSlow(len);
    let done = 0;
    while (done < len) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.fh.read(buf, done, len - done, pos + done));
      } catch (e) {
        throw new MediaError(this.closed ? 'MEDIA_ERR_CLOSED' : 'MEDIA_ERR_IO', `${this.path}: ${String(e)}`);
      }
      if (bytesRead === 0) throw new MediaError('MEDIA_ERR_TRUNCATED', `${this.path} ended early`, pos + done);
      done += bytesRead;
    }
    return buf;
  }

  async readSample(track: Track, index: number): Promise<Buffer> {
    this.check(track, index, index + 1);
    return this.read(at(track.samples.offsets, index), at(track.samples.sizes, index));
  }

  /** Units are contiguous in the file: one read per run of up to MAX_READ_RUN_BYTES. */
  async readSamples(track: Track, from: number, to: number): Promise<Buffer[]> {
    this.check(track, from, to);
    return readSampleRuns(track.samples, from, to, (pos, len) => this.read(pos, len));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}
