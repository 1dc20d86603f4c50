/**
 * Robustness: truncated copies of media/sample.mp4, random bytes, and random mutations of its
 * moov must give a MediaError (or a well-formed result), never another exception, a hang or a
 * huge allocation.
 */

import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MOOV_BYTES, MediaError, openMp4, parseMoov } from '../../src/media/index.ts';
import { box, listBoxes, u32 } from './box-fixture.ts';
import { at } from '../../src/util/narrow.ts';

const SAMPLE = new URL('../../media/sample.mp4', import.meta.url).pathname;

let dir: string;
let whole: Buffer;
let moov: { start: number; size: number };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'streamlab-media-robust-'));
  whole = await readFile(SAMPLE);
  moov = listBoxes(whole).find((b) => b.type === 'moov')!;
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Resolves to the error code, or 'ok' (closing the file). Anything but a MediaError fails. */
async function openCode(path: string): Promise<string> {
  try {
    const f = await openMp4(path);
    await f.close();
    return 'ok';
  } catch (e) {
    if (!(e instanceof MediaError)) throw e;
    return e.code;
  }
}

/** A parse result must be a MediaError or tables whose samples all lie inside the file. */
function checkParse(payload: Buffer, fileSize: number): void {
  const r = parseMoov(payload, { fileSize });
  if (!r.ok) {
    expect(r.error).toBeInstanceOf(MediaError);
    return;
  }
  for (const t of r.value.tracks) {
    const s = t.samples;
    expect([s.offsets.length, s.sizes.length, s.dts.length, s.pts.length, s.keyframe.length]).toEqual(Array(5).fill(s.count));
    let outside = 0;
    for (let i = 0; i < s.count; i++) if (at(s.offsets, i) + at(s.sizes, i) > fileSize) outside++;
    expect(outside).toBe(0);
  }
}

describe('truncated copies of sample.mp4', () => {
  it('every cut errors with a typed code', async () => {
    // ftyp 0..32, moov 32..15700 (traks at 148 and 7810), free 15700, mdat 15708..end
    const cuts = [0, 1, 4, 7, 8, 12, 31, 32, 33, 39, 40, 148, 300, 1000, 3778, 7810, 9797, 15585, 15639, 15699, 15700, 15707, 15708, 15716, 15717, 20000];
    for (let i = 1; i <= 24; i++) cuts.push(Math.floor((whole.length * i) / 25));
    cuts.push(whole.length - 1);
    const path = join(dir, 'cut.mp4');
    const seen = new Map<number, string>();
    for (const cut of cuts) {
      await writeFile(path, whole.subarray(0, cut));
      seen.set(cut, await openCode(path));
    }
    for (const [cut, c] of seen) {
      // < 8 bytes: not even a box header; 32: a complete ftyp and nothing else (no moov).
      const expected = cut < 8 ? 'MEDIA_ERR_NOT_MP4' : cut === 32 ? 'MEDIA_ERR_NO_MOOV' : 'MEDIA_ERR_TRUNCATED';
      expect([cut, c]).toEqual([cut, expected]);
    }
    await writeFile(path, whole);
    expect(await openCode(path)).toBe('ok'); // and the full copy is fine
  });
});

describe('fuzz', () => {
  it('random bytes as a moov payload never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => checkParse(Buffer.from(bytes), 1 << 20)),
      { numRuns: 2000 },
    );
  });

  it('random box trees (valid sizes, random types from the moov vocabulary) never throw', () => {
    const types = ['mvhd', 'trak', 'tkhd', 'mdia', 'mdhd', 'hdlr', 'minf', 'stbl', 'stsd', 'stts', 'stsc', 'stsz', 'stz2', 'stco', 'co64', 'ctts', 'stss', 'edts', 'elst', 'mvex', 'avc1', 'mp4a', 'esds'];
    const leaf = fc.tuple(fc.constantFrom(...types), fc.uint8Array({ maxLength: 48 })).map(([t, b]) => box(t, Buffer.from(b)));
    const tree = fc.letrec<{ node: Buffer }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.tuple(fc.constantFrom(...types), fc.array(tie('node'), { maxLength: 4 })).map(([t, kids]) => box(t, ...kids)),
      ),
    })).node;
    fc.assert(
      fc.property(fc.array(tree, { maxLength: 4 }), (kids) => checkParse(Buffer.concat(kids), 1 << 20)),
      { numRuns: 1000 },
    );
  });

  it('random mutations of the real moov never throw', () => {
    const payload = whole.subarray(moov.start + 8, moov.start + moov.size);
    const interesting = fc.constantFrom(0, 1, 7, 8, 0x7fffffff, 0x80000000, 0xffffffff, 0x00010000);
    const mutation = fc.tuple(fc.nat(payload.length - 4), fc.oneof(interesting, fc.nat({ max: 0xffffffff })), fc.boolean());
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), (muts) => {
        const copy = Buffer.from(payload);
        for (const [pos, value, word] of muts) {
          if (word) copy.writeUInt32BE(value >>> 0, pos & ~3);
          else copy[pos] = value & 0xff;
        }
        checkParse(copy, whole.length);
      }),
      { numRuns: 1500 },
    );
  });

  it('mutated files on disk open or fail with a MediaError', async () => {
    // ftyp + mutated moov + free + mdat (the mdat stays a hole: sparse, no 2 MB write per run)
    const path = join(dir, 'mutated.mp4');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(moov.size - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }), async (muts) => {
        const head = Buffer.from(whole.subarray(0, moov.start + moov.size + 16));
        for (const [pos, v] of muts) head[moov.start + pos] = v;
        const fh = await open(path, 'w');
        try {
          await fh.write(head, 0, head.length, 0);
          await fh.truncate(whole.length);
        } finally {
          await fh.close();
        }
        await openCode(path);
      }),
      { numRuns: 150 },
    );
  });

  it('random files open or fail with a MediaError', async () => {
    const path = join(dir, 'random.mp4');
    const ftyp = box('ftyp', Buffer.from('isom'), u32(0), Buffer.from('isom'));
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.uint8Array({ maxLength: 256 }), async (withFtyp, bytes) => {
        await writeFile(path, withFtyp ? Buffer.concat([ftyp, box('moov', Buffer.from(bytes))]) : Buffer.from(bytes));
        await openCode(path);
      }),
      { numRuns: 150 },
    );
  });
});

it('a moov larger than MAX_MOOV_BYTES is refused without reading it', async () => {
  const path = join(dir, 'big-moov.mp4');
  const fh = await open(path, 'w');
  try {
    const ftyp = box('ftyp', Buffer.from('isom'), u32(0), Buffer.from('isom'));
    await fh.write(Buffer.concat([ftyp, u32(MAX_MOOV_BYTES + 16), Buffer.from('moov')]), 0, ftyp.length + 8, 0);
    await fh.truncate(ftyp.length + MAX_MOOV_BYTES + 16); // sparse
  } finally {
    await fh.close();
  }
  expect(await openCode(path)).toBe('MEDIA_ERR_TOO_LARGE');
});
