/**
 * A transport stream read while a writer (ffmpeg preparing it) still appends to it. The file is
 * served from its stable index (TsIndexBuilder.stable, taken incrementally with takeStableUnits:
 * units no later byte can change; `index` is only set once complete), so a unit
 * once served is the same unit, at the same time, in the finished file; the one Track object is
 * updated in place as the index grows, so everything holding it (packetized track, seek, trick
 * play) sees the new samples. refresh() indexes what was appended; complete() reads to the end
 * once the writer is done and indexes the whole file exactly as openTsFile would. The file handle
 * stays valid when the writer renames or removes the file afterwards (POSIX), so sessions playing
 * it continue to the end.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { MediaError } from '../errors.ts';
import { MP2T_TIMESCALE, READ_CHUNK, trackOf, TsFileImpl } from './open.ts';
import { TS_PACKET_SIZE, TsIndexBuilder } from './ts-index.ts';
import { at } from '../../util/narrow.ts';

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
    return at(this.tracks, 0).samples.count;
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
      .then(() => this.append(this.builder.takeStableUnits()))
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

  /** Sample table storage with room to grow (doubling); the track sees views of `count` entries. */
  private table = { offsets: new Float64Array(0), sizes: new Uint32Array(0), dts: new Float64Array(0), keyframe: new Uint8Array(0), count: 0 };

  /** Appends the new stable units to the track (cost proportional to what is new). */
  private append(u: ReturnType<TsIndexBuilder['takeStableUnits']>): boolean {
    const n = u.first.length;
    if (n === 0) return false;
    let t = this.table;
    if (t.count + n > t.offsets.length) {
      const cap = Math.max(1024, 2 * (t.count + n));
      const grow = <T extends Float64Array | Uint32Array | Uint8Array>(old: T, make: (len: number) => T): T => {
        const a = make(cap);
        a.set(old.subarray(0, t.count));
        return a;
      };
      t = this.table = {
        offsets: grow(t.offsets, (l) => new Float64Array(l)),
        sizes: grow(t.sizes, (l) => new Uint32Array(l)),
        dts: grow(t.dts, (l) => new Float64Array(l)),
        keyframe: grow(t.keyframe, (l) => new Uint8Array(l)),
        count: t.count,
      };
    }
    for (let i = 0; i < n; i++) {
      const c = t.count + i;
      t.offsets[c] = at(u.first, i) * TS_PACKET_SIZE;
      t.sizes[c] = at(u.packets, i) * TS_PACKET_SIZE;
      t.dts[c] = at(u.timeSec, i) * MP2T_TIMESCALE;
      t.keyframe[c] = at(u.rap, i);
    }
    t.count += n;
    const track = at(this.tracks, 0);
    const dts = t.dts.subarray(0, t.count);
    track.samples = { count: t.count, offsets: t.offsets.subarray(0, t.count), sizes: t.sizes.subarray(0, t.count), dts, pts: dts, keyframe: t.keyframe.subarray(0, t.count) };
    track.sampleCount = t.count;
    track.durationSec = u.endSec;
    this.durationSec = u.endSec;
    this.emit();
    return true;
  }

  private apply(index: ReturnType<TsIndexBuilder['stable']>): boolean {
    const track = at(this.tracks, 0);
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
