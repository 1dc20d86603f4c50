/**
 * Opens an MP4/MOV file: scans the top-level boxes with small header reads (moov may be anywhere,
 * also after a 64-bit mdat), reads only the moov into memory (up to MAX_MOOV_BYTES), parses it,
 * and then reads samples by offset through one file handle.
 */

import { open, type FileHandle } from 'node:fs/promises';
import { MediaError } from '../errors.ts';
import { MAX_MOOV_BYTES, MAX_TOP_LEVEL_BOXES } from '../limits.ts';
import { readSampleRuns } from '../read-runs.ts';
import type { MediaFile, Track } from '../types.ts';
import { parseMoov } from './moov.ts';
import { at } from '../../util/narrow.ts';

/** Box types accepted as the first box of a file (ISO BMFF and QuickTime). */
const FIRST_BOX_TYPES = new Set(['ftyp', 'styp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot', 'pdin', 'uuid', 'sidx', 'junk', 'meta']);

interface TopLevel {
  brand?: string;
  moov?: { payloadAt: number; payloadSize: number };
}

export async function openMp4(path: string): Promise<MediaFile> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw ioError(e, path);
  }
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) throw new MediaError('MEDIA_ERR_IO', `${path} is not a regular file`);
    const fileSize = stat.size;
    if (fileSize < 8) throw new MediaError('MEDIA_ERR_NOT_MP4', `${path}: ${fileSize} bytes, shorter than a box header`);
    const top = await scanTopLevel(fh, fileSize);
    if (!top.moov) throw new MediaError('MEDIA_ERR_NO_MOOV', `${path}: no moov box`);
    const { payloadAt, payloadSize } = top.moov;
    if (payloadSize > MAX_MOOV_BYTES) {
      throw new MediaError('MEDIA_ERR_TOO_LARGE', `moov of ${payloadSize} bytes exceeds MAX_MOOV_BYTES`, payloadAt);
    }
    const payload = await readExactly(fh, payloadAt, payloadSize);
    const movie = parseMoov(payload, { fileSize, at: payloadAt - 8 });
    if (!movie.ok) throw movie.error;
    return new Mp4File(path, fh, movie.value.durationSec, movie.value.tracks, top.brand);
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e instanceof MediaError ? e : ioError(e, path);
  }
}

function ioError(e: unknown, path: string): MediaError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new MediaError('MEDIA_ERR_NOT_FOUND', `${path} not found`);
  return new MediaError('MEDIA_ERR_IO', `${path}: ${(e as Error)?.message ?? String(e)}`);
}

function printable(type: Buffer): boolean {
  return type.every((b) => b >= 0x20 && b <= 0x7e);
}

async function scanTopLevel(fh: FileHandle, fileSize: number): Promise<TopLevel> {
  const out: TopLevel = {};
  const head = Buffer.alloc(16);
  let pos = 0;
  for (let n = 0; pos < fileSize; n++) {
    if (n >= MAX_TOP_LEVEL_BOXES) throw new MediaError('MEDIA_ERR_TOO_LARGE', 'too many top-level boxes', pos);
    const first = n === 0;
    const avail = Math.min(16, fileSize - pos);
    if (avail < 8) {
      throw new MediaError(first ? 'MEDIA_ERR_NOT_MP4' : 'MEDIA_ERR_TRUNCATED', 'box header cut by the end of the file', pos);
    }
    await readInto(fh, head, avail, pos);
    const type = head.toString('latin1', 4, 8);
    if (first && !FIRST_BOX_TYPES.has(type)) throw new MediaError('MEDIA_ERR_NOT_MP4', 'not an MP4/MOV file', 0);
    if (!printable(head.subarray(4, 8))) throw new MediaError('MEDIA_ERR_BAD_BOX', 'top-level box type is not text', pos);
    let size = head.readUInt32BE(0);
    let header = 8;
    if (size === 1) {
      if (avail < 16) throw new MediaError('MEDIA_ERR_TRUNCATED', `${type}: largesize cut by the end of the file`, pos);
      const big = head.readBigUInt64BE(8);
      size = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
      header = 16;
    } else if (size === 0) {
      size = fileSize - pos;
    }
    if (size < header) throw new MediaError(first ? 'MEDIA_ERR_NOT_MP4' : 'MEDIA_ERR_BAD_BOX', `${type}: size ${size} smaller than its header`, pos);
    if (size > fileSize - pos) throw new MediaError('MEDIA_ERR_TRUNCATED', `${type} box ends past the end of the file`, pos);
    if (type === 'ftyp' && first && size >= 12) out.brand = head.toString('latin1', 8, 12);
    if (type === 'moof') throw new MediaError('MEDIA_ERR_FRAGMENTED', 'fragmented MP4 (moof) is not supported', pos);
    if (type === 'moov' && !out.moov) out.moov = { payloadAt: pos + header, payloadSize: size - header };
    pos += size;
  }
  return out;
}

/** Reads exactly `len` bytes at `pos` into buf[0..len); a short read means the file shrank. */
async function readInto(fh: FileHandle, buf: Buffer, len: number, pos: number): Promise<void> {
  let done = 0;
  while (done < len) {
    const { bytesRead } = await fh.read(buf, done, len - done, pos + done);
    if (bytesRead === 0) throw new MediaError('MEDIA_ERR_TRUNCATED', 'unexpected end of file', pos + done);
    done += bytesRead;
  }
}

/** A buffer of its own (not a slice of Node's shared pool), so views never pin unrelated memory. */
async function readExactly(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafeSlow(len);
  await readInto(fh, buf, len, pos);
  return buf;
}

class Mp4File implements MediaFile {
  private closed = false;

  constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly durationSec: number,
    readonly tracks: Track[],
    readonly brand?: string,
  ) {}

  private check(track: Track, from: number, to: number): void {
    if (this.closed) throw new MediaError('MEDIA_ERR_CLOSED', `${this.path} is closed`);
    if (!this.tracks.includes(track)) throw new MediaError('MEDIA_ERR_BAD_INDEX', 'track is not from this file');
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from || to > track.samples.count) {
      throw new MediaError('MEDIA_ERR_BAD_INDEX', `samples [${from}, ${to}) out of range 0..${track.samples.count}`);
    }
  }

  private async read(pos: number, len: number): Promise<Buffer> {
    try {
      return await readExactly(this.fh, pos, len);
    } catch (e) {
      if (e instanceof MediaError) throw e;
      throw this.closed ? new MediaError('MEDIA_ERR_CLOSED', `${this.path} is closed`) : ioError(e, this.path);
    }
  }

  async readSample(track: Track, index: number): Promise<Buffer> {
    this.check(track, index, index + 1);
    return this.read(at(track.samples.offsets, index), at(track.samples.sizes, index));
  }

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
