/**
 * A transport stream read while a writer (ffmpeg preparing it) still appends to it. The file is
 * served from its stable index (TsIndexBuilder.stable: units no later byte can change), so a unit
 * once served is the same unit, at the same time, in the finished file; the one Track object is
 * updated in place as the index grows, so everything holding it (packetized track, seek, trick
 * play) sees the new samples. refresh() indexes what was appended; complete() reads to the end
 * once the writer is done and indexes the whole file exactly as openTsFile would. The file handle
 * stays valid when the writer renames or removes the file afterwards (POSIX), so sessions playing
 * it continue to the end.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { MediaError } from '../errors.ts';
import { READ_CHUNK, trackOf, TsFileImpl } from './open.ts';
import { TsIndexBuilder } from './ts-index.ts';

export type GrowingState = 'growing' | 'complete' | 'failed';

export class GrowingTsFile extends TsFileImpl {
  private readonly builder = new TsIndexBuilder();
  /** Bytes of the file pushed into the builder. */
  private pos = 0;
  private busy: Promise<boolean> | undefined;
  private readonly listeners = new Set<() => void>();
  state: GrowingState = 'growing';

  private constructor(path: string, fh: FileHandle) {
    const builder = new TsIndexBuilder();
    const index = builder.stable();
    super(path, fh, index, trackOf(index));
  }

  static async open(path: string): Promise<GrowingTsFile> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      throw new MediaError((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'MEDIA_ERR_NOT_FOUND' : 'MEDIA_ERR_IO', `${path}: ${String(e)}`);
    }
    return new GrowingTsFile(path, fh);
  }

  /** Samples (units) served now. */
  get sampleCount(): number {
    return this.tracks[0]!.samples.count;
  }

  /** Called after every growth and when the state changes; returns the unsubscribe function. */
  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Indexes what the writer appended since the last call; true when more units can be served. */
  refresh(): Promise<boolean> {
    if (this.state !== 'growing' || this.closed) return Promise.resolve(false);
    this.busy ??= this.readMore()
      .then(() => this.apply(this.builder.stable()))
      .finally(() => {
        this.busy = undefined;
      });
    return this.busy;
  }

  /** The writer finished: index the whole file (its last units too) and serve all of it. */
  async complete(): Promise<void> {
    if (this.state !== 'growing' || this.closed) return;
    await this.busy?.catch(() => undefined);
    await this.readMore();
    const index = this.builder.finish();
    this.state = 'complete';
    if (index.problems.some((p) => p.code === 'TS_ERR_NO_PCR') || index.unitFirstPacket.length === 0) {
      this.state = 'failed';
      this.emit();
      return;
    }
    this.apply(index);
  }

  /** The writer failed: what is indexed stays served, nothing more comes. */
  fail(): void {
    if (this.state !== 'growing') return;
    this.state = 'failed';
    this.emit();
  }

  private async readMore(): Promise<void> {
    const { size } = await this.fh.stat();
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    while (this.pos < size) {
      const { bytesRead } = await this.fh.read(buf, 0, Math.min(READ_CHUNK, size - this.pos), this.pos);
      if (bytesRead === 0) break;
      this.builder.push(buf.subarray(0, bytesRead));
      this.pos += bytesRead;
    }
  }

  private apply(index: ReturnType<TsIndexBuilder['stable']>): boolean {
    const track = this.tracks[0]!;
    const grew = index.unitFirstPacket.length > track.samples.count;
    if (grew || this.state !== 'growing') {
      const t = trackOf(index);
      track.samples = t.samples;
      track.sampleCount = t.sampleCount;
      track.durationSec = t.durationSec;
      this.index = index;
      this.durationSec = index.durationSec;
      this.emit();
    }
    return grew;
  }

  private emit(): void {
    for (const cb of [...this.listeners]) {
      try {
        cb();
      } catch {
        // a listener's failure is its own; the others still hear about it
      }
    }
  }

  override async close(): Promise<void> {
    this.listeners.clear();
    await super.close();
  }
}
