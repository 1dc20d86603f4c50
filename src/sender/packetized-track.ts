import type { MediaFile, Track } from '../media/index.ts';
import type { RtpPayload } from '../codecs/index.ts';
import type { PayloadFormat } from './payload-formats.ts';

/** One sample made ready to send: payloads shared by every session that plays this track. */
export interface PacketizedSample {
  /** Decode time in seconds on the presentation timeline: the pacer sends at this time. */
  dtsSec: number;
  /** Presentation time in seconds (RTP timestamps carry this, RFC 6184 §5.1). */
  ptsSec: number;
  /** Presentation time in RTP clock units, before the session's random offset. */
  rtpTime: number;
  keyframe: boolean;
  payloads: RtpPayload[];
}

/** Samples per cached chunk: about two seconds of 25 fps video, a second of 48 kHz AAC. */
export const CHUNK_SAMPLES = 64;

/** Default memory for packetized chunks, shared by all files the server has open. */
export const DEFAULT_CHUNK_CACHE_BYTES = 256 * 1024 * 1024;

/** A chunk in the cache; a track holds on to it to find it again without building its key. */
export interface CachedChunk {
  readonly key: string;
  /** Undefined once evicted (the entry lets go of the samples; sessions sending them keep theirs). */
  samples: PacketizedSample[] | undefined;
  readonly bytes: number;
}

/**
 * Least-recently-used cache of packetized chunks for the whole process, bounded in bytes. A chunk is
 * read and packetized once however many sessions play it; sessions keep a reference to the chunk
 * they are sending from, so eviction never pulls data out from under them.
 */
export class ChunkCache {
  /** In order of use, least recent first. */
  private readonly chunks = new Map<string, CachedChunk>();
  private readonly pending = new Map<string, Promise<PacketizedSample[]>>();
  private bytes = 0;
  readonly stats = { hits: 0, misses: 0, evictions: 0 };

  constructor(readonly maxBytes = DEFAULT_CHUNK_CACHE_BYTES) {}

  get(key: string): PacketizedSample[] | undefined {
    return this.entry(key)?.samples;
  }

  /** The cached chunk under `key`, marked as used now. */
  entry(key: string): CachedChunk | undefined {
    const c = this.chunks.get(key);
    if (c) this.touch(c);
    return c;
  }

  /** Marks a chunk got from entry() as used now; false if it has been evicted since. */
  touch(c: CachedChunk): boolean {
    if (c.samples === undefined) return false;
    this.chunks.delete(c.key);
    this.chunks.set(c.key, c);
    return true;
  }

  load(key: string, make: () => Promise<PacketizedSample[]>): Promise<PacketizedSample[]> {
    const hit = this.get(key);
    if (hit) {
      this.stats.hits++;
      return Promise.resolve(hit);
    }
    let p = this.pending.get(key);
    if (p) return p;
    this.stats.misses++;
    p = make().then(
      (samples) => {
        this.pending.delete(key);
        this.put(key, samples);
        return samples;
      },
      (err: unknown) => {
        this.pending.delete(key);
        throw err;
      },
    );
    this.pending.set(key, p);
    return p;
  }

  dropPrefix(prefix: string): void {
    for (const [k, c] of this.chunks) if (k.startsWith(prefix)) this.drop(c);
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  private put(key: string, samples: PacketizedSample[]): void {
    let bytes = 0;
    for (const s of samples) for (const p of s.payloads) bytes += p.payload.length + 32;
    const old = this.chunks.get(key);
    if (old) this.drop(old);
    this.chunks.set(key, { key, samples, bytes });
    this.bytes += bytes;
    for (const [k, c] of this.chunks) {
      if (this.bytes <= this.maxBytes || k === key) break;
      this.drop(c);
      this.stats.evictions++;
    }
  }

  private drop(c: CachedChunk): void {
    this.chunks.delete(c.key);
    this.bytes -= c.bytes;
    c.samples = undefined;
  }
}

/**
 * A track still being written (a file being prepared): its sample table grows in place. Streams
 * wait at its end while `growing`, and end there once it is not.
 */
export interface TrackGrowth {
  readonly growing: boolean;
  /** Calls `cb` at every change (more samples, or growing ended); returns the unsubscribe function. */
  onChange(cb: () => void): () => void;
}

/**
 * The shared cache's rule for a growing track: a chunk goes into the cache only when it holds all
 * CHUNK_SAMPLES samples, or the track has stopped growing (its last chunk is then final). A chunk
 * cut short by the end of what is written now is made for the caller alone and never cached, so
 * it is never served later as if it were the whole chunk.
 */
export function chunkIsFinal(chunk: number, sampleCount: number, growing: boolean): boolean {
  return !growing || (chunk + 1) * CHUNK_SAMPLES <= sampleCount;
}

/** A track of an open file seen as a sequence of packetized samples, loaded chunk by chunk. */
export class PacketizedTrack {
  /**
   * The cache entry of each chunk last found, by chunk index: a stream moving to its next chunk
   * (twice a second or so per stream) finds it without building and hashing the chunk's key.
   */
  private readonly found = new Map<number, CachedChunk>();

  constructor(
    readonly file: MediaFile,
    readonly track: Track,
    readonly format: PayloadFormat,
    private readonly cache: ChunkCache,
    private readonly key: string,
    /** Set when the track is still being written. */
    readonly growth?: TrackGrowth,
  ) {}

  /** Samples there are now (a growing track's count rises). */
  get sampleCount(): number {
    return this.track.samples.count;
  }

  chunkOf(sample: number): number {
    return Math.floor(sample / CHUNK_SAMPLES);
  }

  /** The chunk if it is in memory now. */
  peekChunk(chunk: number): PacketizedSample[] | undefined {
    const known = this.found.get(chunk);
    if (known !== undefined && this.cache.touch(known)) return known.samples;
    const c = this.cache.entry(this.chunkKey(chunk));
    if (c) this.found.set(chunk, c);
    else this.found.delete(chunk);
    return c?.samples;
  }

  loadChunk(chunk: number): Promise<PacketizedSample[]> {
    if (!chunkIsFinal(chunk, this.sampleCount, this.growth?.growing ?? false)) return this.makeChunk(chunk);
    return this.cache.load(this.chunkKey(chunk), () => this.makeChunk(chunk));
  }

  private chunkKey(chunk: number): string {
    return `${this.key}#${chunk}`;
  }

  private async makeChunk(chunk: number): Promise<PacketizedSample[]> {
    const { samples, timescale } = this.track;
    const from = chunk * CHUNK_SAMPLES;
    const to = Math.min(this.sampleCount, from + CHUNK_SAMPLES);
    if (from >= to) return [];
    const data = await this.file.readSamples(this.track, from, to);
    const rate = this.format.clockRate / timescale;
    const out: PacketizedSample[] = [];
    for (let i = from; i < to; i++) {
      const keyframe = samples.keyframe[i] === 1;
      out.push({
        dtsSec: samples.dts[i]! / timescale,
        ptsSec: samples.pts[i]! / timescale,
        rtpTime: Math.round(samples.pts[i]! * rate),
        keyframe,
        payloads: this.format.packetize(data[i - from]!, keyframe),
      });
    }
    return out;
  }
}
