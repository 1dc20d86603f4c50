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

interface CachedChunk {
  samples: PacketizedSample[];
  bytes: number;
}

/**
 * Least-recently-used cache of packetized chunks for the whole process, bounded in bytes. A chunk is
 * read and packetized once however many sessions play it; sessions keep a reference to the chunk
 * they are sending from, so eviction never pulls data out from under them.
 */
export class ChunkCache {
  private readonly chunks = new Map<string, CachedChunk>();
  private readonly pending = new Map<string, Promise<PacketizedSample[]>>();
  private bytes = 0;
  readonly stats = { hits: 0, misses: 0, evictions: 0 };

  constructor(readonly maxBytes = DEFAULT_CHUNK_CACHE_BYTES) {}

  get(key: string): PacketizedSample[] | undefined {
    const c = this.chunks.get(key);
    if (!c) return undefined;
    this.chunks.delete(key);
    this.chunks.set(key, c);
    return c.samples;
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
    for (const [k, c] of this.chunks) {
      if (k.startsWith(prefix)) {
        this.chunks.delete(k);
        this.bytes -= c.bytes;
      }
    }
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  private put(key: string, samples: PacketizedSample[]): void {
    let bytes = 0;
    for (const s of samples) for (const p of s.payloads) bytes += p.payload.length + 32;
    this.chunks.set(key, { samples, bytes });
    this.bytes += bytes;
    for (const [k, c] of this.chunks) {
      if (this.bytes <= this.maxBytes || k === key) break;
      this.chunks.delete(k);
      this.bytes -= c.bytes;
      this.stats.evictions++;
    }
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
    return this.cache.get(`${this.key}#${chunk}`);
  }

  loadChunk(chunk: number): Promise<PacketizedSample[]> {
    if (!chunkIsFinal(chunk, this.sampleCount, this.growth?.growing ?? false)) return this.makeChunk(chunk);
    return this.cache.load(`${this.key}#${chunk}`, () => this.makeChunk(chunk));
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
