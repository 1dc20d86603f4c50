/**
 * parseMoov on hand-built box trees: sample table expansion (stsz/stz2, stsc, stco/co64, stts,
 * ctts v0/v1, stss), edit lists (v0/v1, empty edits, unsupported parts), sample entries, and the
 * typed errors for malformed or malicious tables. Expectations are worked out by hand.
 */

import { describe, expect, it } from 'vitest';
import { MAX_SAMPLES_PER_TRACK, MAX_TRACKS, keyframeAtOrBefore, parseMoov, sampleTimeSec, type Movie, type Track } from '../../src/media/index.ts';
import { audioEntry, box, elst, fullBox, hex, moovPayload, stsz, table, trak, u16, u32, u64, u8, visualEntry } from './box-fixture.ts';
import { at } from '../../src/util/narrow.ts';

const FILE = 10_000;

function ok(payload: Buffer, fileSize = FILE): Movie {
  const r = parseMoov(payload, { fileSize });
  if (!r.ok) throw r.error;
  return r.value;
}
function code(payload: Buffer, fileSize = FILE): string {
  const r = parseMoov(payload, { fileSize });
  return r.ok ? 'ok' : r.error.code;
}
function arrays(t: Track) {
  const s = t.samples;
  return { offsets: [...s.offsets], sizes: [...s.sizes], dts: [...s.dts], pts: [...s.pts], keyframe: [...s.keyframe] };
}

// 4 samples in 2 chunks: stsc [first_chunk 1: 2 samples/chunk], chunks at 1000 and 5000.
const STTS = table('stts', [[4, 100]]); // 4 samples of 100 ticks
const STSC = table('stsc', [[1, 2, 1]]); // first_chunk=1 samples_per_chunk=2 sdi=1
const STSZ = stsz([10, 20, 30, 40]);
const STCO = table('stco', [[1000], [5000]]);
const BASE = [STTS, STSC, STSZ, STCO];

describe('sample tables', () => {
  it('expands stsz/stsc/stco/stts/ctts/stss into per-sample arrays', () => {
    const ctts = table('ctts', [[1, 200], [1, 0], [2, 100]]); // v0: +200, +0, +100, +100
    const stss = table('stss', [[1], [3]]); // sync samples 1 and 3 (1-based)
    const m = ok(moovPayload(1000, trak({ stbl: [...BASE, ctts, stss] })));
    expect(arrays(at(m.tracks, 0))).toEqual({
      offsets: [1000, 1010, 5000, 5030], // chunk start, then + previous sizes in the chunk
      sizes: [10, 20, 30, 40],
      dts: [0, 100, 200, 300],
      pts: [200, 100, 300, 400],
      keyframe: [1, 0, 1, 0],
    });
    expect(at(m.tracks, 0).editShiftTicks).toBe(0);
  });

  it('ctts version 1 with negative offsets; no stss means every sample is sync', () => {
    const ctts = table('ctts', [[1, -100], [3, 0]], 1); // v1 rows: count=1 offset=0xffffff9c (-100)
    const m = ok(moovPayload(1000, trak({ stbl: [...BASE, ctts] })));
    expect(arrays(at(m.tracks, 0)).pts).toEqual([-100, 100, 200, 300]);
    expect(arrays(at(m.tracks, 0)).keyframe).toEqual([1, 1, 1, 1]);
  });

  it('stss entries out of range are ignored', () => {
    const m = ok(moovPayload(1000, trak({ stbl: [...BASE, table('stss', [[0], [2], [99]])] })));
    expect(arrays(at(m.tracks, 0)).keyframe).toEqual([0, 1, 0, 0]);
  });

  it('stz2 with 4-, 8- and 16-bit fields', () => {
    // reserved(24)=0 | field_size=4 | sample_count=4 | nibbles 1,15,7,0 (high nibble first)
    const stz2a = fullBox('stz2', 0, 0, hex('000000 04'), u32(4), hex('1f 70'));
    const a = ok(moovPayload(1000, trak({ stbl: [STTS, STSC, STCO, stz2a] })));
    expect(arrays(at(a.tracks, 0)).sizes).toEqual([1, 15, 7, 0]);
    expect(arrays(at(a.tracks, 0)).offsets).toEqual([1000, 1001, 5000, 5007]);
    const stz2b = fullBox('stz2', 0, 0, hex('000000 08'), u32(4), hex('01 02 ff 00'));
    expect(arrays(at(ok(moovPayload(1000, trak({ stbl: [STTS, STSC, STCO, stz2b] }))).tracks, 0)).sizes).toEqual([1, 2, 255, 0]);
    const stz2c = fullBox('stz2', 0, 0, hex('000000 10'), u32(4), hex('0102 0304 0000 0fff'));
    expect(arrays(at(ok(moovPayload(1000, trak({ stbl: [STTS, STSC, STCO, stz2c] }))).tracks, 0)).sizes).toEqual([0x102, 0x304, 0, 0xfff]);
  });

  it('co64 offsets past 2^32', () => {
    const co64 = fullBox('co64', 0, 0, u32(2), u64(2 ** 32 + 5), u64(2 ** 33)); // 2 chunks, 64-bit offsets
    const m = ok(moovPayload(1000, trak({ stbl: [STTS, STSC, STSZ, co64] })), 2 ** 34);
    expect(arrays(at(m.tracks, 0)).offsets).toEqual([2 ** 32 + 5, 2 ** 32 + 15, 2 ** 33, 2 ** 33 + 30]);
  });

  it('stts shorter than the sample count repeats its last delta', () => {
    const m = ok(moovPayload(1000, trak({ stbl: [table('stts', [[1, 50], [1, 70]]), STSC, STSZ, STCO] })));
    expect(arrays(at(m.tracks, 0)).dts).toEqual([0, 50, 120, 190]);
  });
});

describe('edit lists', () => {
  const withEdit = (edts: Buffer, movieTs = 1000, trackTs = 1000) => ok(moovPayload(movieTs, trak({ timescale: trackTs, stbl: BASE, edts }))).tracks[0];

  it('one edit with media_time M shifts so that M plays at 0', () => {
    const t = withEdit(elst(0, [[400, 200, 1, 0]])); // 400 ms from media_time 200, rate 1.0
    expect(t!.editShiftTicks).toBe(-200);
    expect(arrays(t!).dts).toEqual([-200, -100, 0, 100]);
    expect(t!.durationSec).toBe(0.4);
    expect(t!.editListNote).toBeUndefined();
  });

  it('an initial empty edit delays the track (movie ticks converted to track ticks)', () => {
    // empty 500 ms (movie 1000 Hz) = 45000 ticks at 90 kHz; then media from 0
    const t = withEdit(elst(0, [[500, -1, 1, 0], [1000, 0, 1, 0]]), 1000, 90000);
    expect(t!.editShiftTicks).toBe(45000);
    expect(sampleTimeSec(t!, 0)).toBe(0.5);
    expect(t!.durationSec).toBe(1); // the delay is not part of the track's own duration
  });

  it('elst version 1 (64-bit duration and media_time)', () => {
    // v1 rows: duration(64) media_time(64) rate(16.16): empty 6 s at movie 600 Hz = 3600, then media_time 2^32 + 10
    const t = withEdit(elst(1, [[3600, -1, 1, 0], [600, 2 ** 32 + 10, 1, 0]]), 600, 1000);
    expect(t!.editShiftTicks).toBe(6000 - (2 ** 32 + 10));
  });

  it('applies only the first non-empty edit and says what it did not honour', () => {
    const two = withEdit(elst(0, [[200, 0, 1, 0], [200, 300, 1, 0]]));
    expect(two!.editShiftTicks).toBe(0);
    expect(two!.editListNote).toMatch(/1 further non-empty edit/);
    const fast = withEdit(elst(0, [[200, 100, 2, 0]])); // media_rate 2.0
    expect(fast!.editShiftTicks).toBe(-100);
    expect(fast!.editListNote).toMatch(/media_rate 2/);
    const dwell = withEdit(elst(0, [[200, 0, 1, 0], [100, -1, 1, 0]]));
    expect(dwell!.editListNote).toMatch(/empty edit\(s\) after media/);
  });
});

describe('sample entries', () => {
  const entryTrack = (entry: Buffer, handler = 'soun') => ok(moovPayload(1000, trak({ handler, entry, stbl: BASE }))).tracks[0];

  it('mp4a + esds: objectTypeIndication and AudioSpecificConfig', () => {
    const esds = fullBox(
      'esds', 0, 0,
      hex('03 808080 25'), // ES_Descriptor, length 37
      hex('0002 00'), //       ES_ID=2, flags=0
      hex('04 808080 17'), //  DecoderConfigDescriptor, length 23
      hex('40 15 000000'), //  OTI=0x40 (MPEG-4 audio), streamType=5 (audio), bufferSizeDB=0
      hex('0177bd00 0177bd00'), // maxBitrate, avgBitrate = 96000
      hex('05 808080 05'), //  DecoderSpecificInfo, length 5
      hex('119056e500'), //    AudioSpecificConfig: AOT 2, 48 kHz, 2 channels
      hex('06 808080 01 02'), // SLConfigDescriptor predefined=2
    );
    const t = entryTrack(audioEntry('mp4a', 2, 48000, esds));
    expect([t!.kind, t!.codec, t!.fourcc, t!.objectTypeIndication, t!.sampleRate, t!.channels]).toEqual(['audio', 'aac', 'mp4a', 0x40, 48000, 2]);
    expect(t!.codecConfig?.toString('hex')).toBe('119056e500');
  });

  it('AudioSpecificConfig overrides the entry: 0x1208 = AOT 2, 44.1 kHz (idx 4), mono', () => {
    const esds = fullBox('esds', 0, 0, hex('03 16 0001 00'), hex('04 11 40 15 000000 00000000 00000000'), hex('05 02 1208'));
    const t = entryTrack(audioEntry('mp4a', 2, 48000, esds));
    expect([t!.sampleRate, t!.channels, t!.codecConfig?.toString('hex')]).toEqual([44100, 1, '1208']);
  });

  it('Opus/dOps, .mp3, ulaw and alaw by name', () => {
    // dOps: Version 0 | OutputChannelCount 2 | PreSkip 312 | InputSampleRate 44100 | OutputGain 0 | family 0
    const dops = box('dOps', hex('00 02 0138 0000ac44 0000 00'));
    const opus = entryTrack(audioEntry('Opus', 2, 48000, dops));
    expect([opus!.codec, opus!.channels, opus!.sampleRate, opus!.codecConfig?.toString('hex')]).toEqual(['opus', 2, 48000, '00020138' + '0000ac44' + '000000']);
    expect(entryTrack(audioEntry('.mp3', 2, 44100))!.codec).toBe('mp3');
    expect([entryTrack(audioEntry('ulaw', 1, 8000))!.codec, entryTrack(audioEntry('alaw', 1, 8000))!.codec]).toEqual(['pcmu', 'pcma']);
  });

  it('avc1/avcC and hvc1/hvcC payloads; width and height from the entry', () => {
    const avcC = box('avcC', hex('01 64001f ff e1 0004 67640 01f 01 0002 68ee'));
    const h264 = entryTrack(visualEntry('avc1', 320, 240, avcC), 'vide');
    expect([h264!.kind, h264!.codec, h264!.width, h264!.height]).toEqual(['video', 'h264', 320, 240]);
    expect(h264!.codecConfig?.toString('hex')).toBe('0164001fffe100046764001f01000268ee');
    const hvcC = box('hvcC', hex('01 01 60000000 900000000000 1e f000 fc fd f8 f8 0000 0f 00'));
    const h265 = entryTrack(visualEntry('hev1', 64, 64, hvcC), 'vide');
    expect([h265!.codec, h265!.fourcc, h265!.codecConfig?.length]).toEqual(['h265', 'hev1', 23]);
  });

  it('other handlers are listed with kind other and the entry fourcc as codec', () => {
    const t = entryTrack(box('tx3g', Buffer.alloc(8)), 'sbtl');
    expect([t!.kind, t!.codec, t!.fourcc, t!.sampleCount]).toEqual(['other', 'tx3g', 'tx3g', 4]);
  });
});

describe('typed errors on malformed and malicious moov', () => {
  it('stsc chains beyond the sample count / placing too few / first_chunk 0', () => {
    expect(code(moovPayload(1000, trak({ stbl: [STTS, table('stsc', [[1, 3, 1]]), STSZ, STCO] })))).toBe('MEDIA_ERR_BAD_SAMPLE_TABLE');
    expect(code(moovPayload(1000, trak({ stbl: [STTS, table('stsc', [[1, 1, 1]]), STSZ, STCO] })))).toBe('MEDIA_ERR_BAD_SAMPLE_TABLE');
    expect(code(moovPayload(1000, trak({ stbl: [STTS, table('stsc', [[0, 2, 1]]), STSZ, STCO] })))).toBe('MEDIA_ERR_BAD_SAMPLE_TABLE');
    expect(code(moovPayload(1000, trak({ stbl: [STTS, table('stsc', [[1, 0xffffffff, 1]]), STSZ, STCO] })))).toBe('MEDIA_ERR_BAD_SAMPLE_TABLE');
    expect(code(moovPayload(1000, trak({ stbl: [STSC, STSZ, STCO] })))).toBe('MEDIA_ERR_BAD_SAMPLE_TABLE'); // no stts
  });

  it('zero timescales', () => {
    expect(code(moovPayload(0, trak({ stbl: BASE })))).toBe('MEDIA_ERR_BAD_TIMESCALE');
    expect(code(moovPayload(1000, trak({ timescale: 0, stbl: BASE })))).toBe('MEDIA_ERR_BAD_TIMESCALE');
  });

  it('absurd sample counts fail before allocating', () => {
    const huge = fullBox('stsz', 0, 0, u32(0), u32(0xffffffff)); // sample_size 0, count 2^32-1, no table
    expect(code(moovPayload(1000, trak({ stbl: [STTS, STSC, huge, STCO] })))).toBe('MEDIA_ERR_TOO_LARGE');
    const atCap = fullBox('stsz', 0, 0, u32(0), u32(MAX_SAMPLES_PER_TRACK)); // allowed count, table missing
    expect(code(moovPayload(1000, trak({ stbl: [STTS, STSC, atCap, STCO] })))).toBe('MEDIA_ERR_BAD_BOX');
    const constant = fullBox('stsz', 0, 0, u32(1000), u32(1_000_000)); // 1e6 samples of 1000 bytes in a 10 kB file
    expect(code(moovPayload(1000, trak({ stbl: [STTS, STSC, constant, STCO] })))).toBe('MEDIA_ERR_TRUNCATED');
    const manyChunks = fullBox('stco', 0, 0, u32(0x40000000), u32(1)); // entry count past the payload
    expect(code(moovPayload(1000, trak({ stbl: [STTS, STSC, STSZ, manyChunks] })))).toBe('MEDIA_ERR_BAD_BOX');
    const traks = Array.from({ length: MAX_TRACKS + 1 }, (_, i) => trak({ id: i + 1, stbl: BASE }));
    expect(code(moovPayload(1000, ...traks))).toBe('MEDIA_ERR_TOO_LARGE');
  });

  it('samples past the end of the file', () => {
    expect(code(moovPayload(1000, trak({ stbl: BASE })), 5069)).toBe('MEDIA_ERR_TRUNCATED'); // last ends at 5070
    expect(code(moovPayload(1000, trak({ stbl: BASE })), 5070)).toBe('ok');
  });

  it('box sizes smaller than the header or past the parent; missing boxes; mvex', () => {
    const tiny = Buffer.concat([u32(4), Buffer.from('free')]); // size 4 < 8
    expect(code(moovPayload(1000, trak({ stbl: [...BASE, tiny] })))).toBe('MEDIA_ERR_BAD_BOX');
    const past = Buffer.concat([u32(64), Buffer.from('free'), u8(0)]); // claims 64, has 9
    expect(code(Buffer.concat([moovPayload(1000, trak({ stbl: BASE })), past]))).toBe('MEDIA_ERR_BAD_BOX');
    expect(code(box('trak', box('tkhd')))).toBe('MEDIA_ERR_BAD_BOX'); // no mvhd
    expect(code(moovPayload(1000, box('trak', box('mdia'))))).toBe('MEDIA_ERR_BAD_BOX'); // no tkhd
    expect(code(Buffer.concat([moovPayload(1000, trak({ stbl: BASE })), box('mvex', fullBox('trex', 0, 0, Buffer.alloc(20)))]))).toBe('MEDIA_ERR_FRAGMENTED');
    expect(code(moovPayload(1000, trak({ stbl: [...BASE.slice(0, 3)] })))).toBe('MEDIA_ERR_BAD_SAMPLE_TABLE'); // no stco
    expect(code(Buffer.concat([moovPayload(1000), u16(7)]))).toBe('MEDIA_ERR_BAD_BOX'); // 2 trailing bytes
  });
});

describe('keyframeAtOrBefore and sampleTimeSec', () => {
  // pts 200, 100, 300, 400 (ticks of 1 ms); sync samples 0 (pts 200) and 2 (pts 300)
  const t = at(ok(moovPayload(1000, trak({ stbl: [...BASE, table('ctts', [[1, 200], [1, 0], [2, 100]]), table('stss', [[1], [3]])] }))).tracks, 0);

  it('picks the latest sync sample at or before the time, else the first one', () => {
    expect(keyframeAtOrBefore(t, 0.25)).toBe(0);
    expect(keyframeAtOrBefore(t, 0.3)).toBe(2); // exactly at pts 300
    expect(keyframeAtOrBefore(t, 0.29999)).toBe(0);
    expect(keyframeAtOrBefore(t, 9)).toBe(2);
    expect(keyframeAtOrBefore(t, 0.1)).toBe(0); // before every sync sample: the first one
    expect(sampleTimeSec(t, 1)).toBe(0.1);
  });

  it('no sync samples gives 0; no samples gives -1', () => {
    const none = at(ok(moovPayload(1000, trak({ stbl: [...BASE, table('stss', [])] }))).tracks, 0);
    expect(keyframeAtOrBefore(none, 1)).toBe(0);
    const empty = at(ok(moovPayload(1000, trak({ stbl: [table('stts', []), table('stsc', []), stsz([]), table('stco', [])] }))).tracks, 0);
    expect(empty.sampleCount).toBe(0);
    expect(keyframeAtOrBefore(empty, 1)).toBe(-1);
  });
});
