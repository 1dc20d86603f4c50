/**
 * Playback of a preparation's output while ffmpeg still writes it (the MP2T route's TS, or a
 * transcode's intermediate TS; see media/prepare growingRoute). One growing entry per source file:
 * a MediaEntry with one MP2T track (control GROWING_CONTROL) over a GrowingTsFile whose index is
 * extended every pollMs while the job writes (only its stable part is served, see
 * TsIndexBuilder.stable). Streams wait at its end while it grows (RtpStream.waitForMore) and end
 * with BYE at the real end once the writing is done; when the writing fails, what was indexed is
 * played out and the streams end (BYE), with a log line. The entry is offered to DESCRIBE until
 * the prepared file itself is open, and kept for SETUPs of clients that described it (and their
 * sessions) until its last session released it and idleCloseMs passed.
 */
import type { GrowingOutput, PreparationJob } from '../media/prepare/index.ts';
import type { GrowingTsFile } from '../media/ts-file/index.ts';
import { createLogger } from '../util/log.ts';
import type { MediaEntry } from './media-entry.ts';
import type { ChunkCache, TrackGrowth } from '../sender/packetized-track.ts';
import { PacketizedTrack } from '../sender/packetized-track.ts';
import { payloadFormatFor } from '../sender/payload-formats.ts';

const log = createLogger('growing');
/** Numbers growing entries so each offer gets a chunk-cache key of its own (no clock needed). */
let growingOffers = 0;

/** The growing TS track's control: never a track of an opened file (those count from 1). */
export const GROWING_CONTROL = 'trackID=0';
/** How often a growing file's size is looked at while its job runs. */
export const DEFAULT_GROWING_POLL_MS = 200;
/** Media a growing file must hold before it is offered (a head start on the encoder). */
export const GROWING_READY_SEC = 1;

interface Slot {
  entry?: MediaEntry;
  file?: GrowingTsFile;
  /** The prepared file is open: DESCRIBE gets that one now. */
  superseded: boolean;
  waiters: Set<(e: MediaEntry) => void>;
  closeTimer?: NodeJS.Timeout;
}

export interface GrowingEntriesOptions {
  maxPayloadSize: number;
  cache: ChunkCache;
  pollMs?: number;
  idleCloseMs?: number;
}

export class GrowingEntries {
  private readonly slots = new Map<string, Slot>();
  private closed = false;

  constructor(private readonly opts: GrowingEntriesOptions) {}

  /** Follows a job's growing output, if it has one. */
  start(filePath: string, relPath: string, job: PreparationJob): void {
    if (!job.growing || this.slots.has(filePath)) return;
    const slot: Slot = { superseded: false, waiters: new Set() };
    this.slots.set(filePath, slot);
    void job.growing.then(async (g) => {
      if (!g || this.closed) return this.drop(filePath, slot);
      try {
        await this.follow(filePath, relPath, g, slot);
      } catch (err) {
        log.warn('cannot play the output while it is prepared', { path: relPath, error: String(err) });
        this.drop(filePath, slot);
      }
    });
  }

  /** The growing entry DESCRIBE may answer with now (ready, and the prepared file not open yet). */
  current(filePath: string): MediaEntry | undefined {
    const s = this.slots.get(filePath);
    return s && !s.superseded ? s.entry : undefined;
  }

  /** The growing entry, even superseded, while it lives (SETUP of its own track). */
  find(filePath: string, control: string | undefined): MediaEntry | undefined {
    return control === GROWING_CONTROL ? this.slots.get(filePath)?.entry : undefined;
  }

  /** Calls `cb` when a growing entry becomes ready for `filePath`; returns the cancel function. */
  whenReady(filePath: string, cb: (e: MediaEntry) => void): () => void {
    const s = this.slots.get(filePath);
    if (!s) return () => undefined;
    if (s.entry && !s.superseded) {
      cb(s.entry);
      return () => undefined;
    }
    s.waiters.add(cb);
    return () => s.waiters.delete(cb);
  }

  /** The prepared file is open: new DESCRIBEs get it; the growing entry lives on for its sessions. */
  supersede(filePath: string): void {
    const s = this.slots.get(filePath);
    if (!s) return;
    s.superseded = true;
    s.waiters.clear();
    if (!s.entry) this.drop(filePath, s);
    else if (s.entry.refs === 0) this.closeLater(filePath, s);
  }

  acquired(entry: MediaEntry): void {
    const s = this.slots.get(entry.filePath);
    if (s?.entry === entry && s.closeTimer) {
      clearTimeout(s.closeTimer);
      s.closeTimer = undefined;
    }
  }

  released(entry: MediaEntry): void {
    const s = this.slots.get(entry.filePath);
    if (s?.entry !== entry) {
      if (entry.refs === 0) void entry.file.close().catch(() => undefined); // a slot already dropped
      return;
    }
    if (entry.refs === 0 && s.superseded) this.closeLater(entry.filePath, s);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [f, s] of this.slots) this.drop(f, s);
  }

  private async follow(filePath: string, relPath: string, g: GrowingOutput, slot: Slot): Promise<void> {
    const pollMs = this.opts.pollMs ?? DEFAULT_GROWING_POLL_MS;
    let writing = true;
    let failed: unknown;
    const writtenP = g.written.then(
      () => {
        writing = false;
      },
      (err: unknown) => {
        writing = false;
        failed = err ?? new Error('preparation failed');
      },
    );
    // Each look costs what was appended since the last one (GrowingTsFile.refresh).
    const sleep = () => new Promise<void>((r) => setTimeout(r, pollMs).unref());
    // ffmpeg creates the file once it has read the input's headers.
    // The MPEG-TS reader is loaded by the first preparation played while it is written.
    const { GrowingTsFile } = await import('../media/ts-file/index.ts');
    let file: GrowingTsFile | undefined;
    while (!file) {
      try {
        file = await GrowingTsFile.open(g.path);
      } catch {
        if (!writing || this.closed || slot.superseded) return this.drop(filePath, slot);
        await sleep();
      }
    }
    slot.file = file;
    if (this.closed || slot.superseded) return this.drop(filePath, slot);
    const growth: TrackGrowth = {
      get growing() {
        return file.state === 'growing';
      },
      onChange: (cb) => file.onChange(cb),
    };
    let entry: MediaEntry | undefined;
    const offer = () => {
      if (entry || slot.superseded || this.closed) return;
      if (file.sampleCount === 0 || (file.state === 'growing' && file.durationSec < GROWING_READY_SEC)) return;
      const track = file.tracks[0]!;
      const f = payloadFormatFor(track, 96, this.opts.maxPayloadSize);
      if (!f.ok) throw new Error(`growing TS: ${f.reason}`);
      const key = `${g.path}@growing-${++growingOffers}/1/${this.opts.maxPayloadSize}`;
      entry = {
        relPath,
        filePath,
        file,
        durationSec: file.durationSec,
        tracks: [{ control: GROWING_CONTROL, source: new PacketizedTrack(file, track, f.format, this.opts.cache, key, growth) }],
        skipped: [],
        refs: 0,
        growth,
      };
      slot.entry = entry;
      log.info('playing the output while it is prepared', {
        path: relPath,
        output: g.path,
        indexedSec: Number(file.durationSec.toFixed(3)),
      });
      for (const w of slot.waiters) w(entry);
      slot.waiters.clear();
    };
    file.onChange(() => {
      if (entry) entry.durationSec = file.durationSec;
      offer();
    });
    while (writing && !this.closed && file.state === 'growing') {
      await file.refresh();
      if (writing) await Promise.race([sleep(), writtenP]);
    }
    if (this.closed) return;
    if (failed !== undefined) {
      file.fail();
      log.warn('preparation failed: sessions playing its partial output end', {
        path: relPath,
        indexedSec: Number(file.durationSec.toFixed(3)),
        error: String(failed),
      });
      this.supersede(filePath);
      if (!entry) this.drop(filePath, slot);
      return;
    }
    await file.complete();
    log.info('output written: sessions playing it go on to its end', {
      path: relPath,
      durationSec: Number(file.durationSec.toFixed(3)),
      state: file.state,
    });
    if (!entry) this.drop(filePath, slot);
  }

  private closeLater(filePath: string, s: Slot): void {
    if (s.closeTimer) return;
    s.closeTimer = setTimeout(() => {
      s.closeTimer = undefined;
      if (s.entry && s.entry.refs > 0) return;
      this.drop(filePath, s);
    }, this.opts.idleCloseMs ?? 30_000);
    s.closeTimer.unref();
  }

  private drop(filePath: string, s: Slot): void {
    if (this.slots.get(filePath) === s) this.slots.delete(filePath);
    if (s.closeTimer) clearTimeout(s.closeTimer);
    s.waiters.clear();
    // A session still holding the entry closes the file when it releases it (released()).
    if (!s.entry || s.entry.refs === 0) void s.file?.close().catch(() => undefined);
  }
}
