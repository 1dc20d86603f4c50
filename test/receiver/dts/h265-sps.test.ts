/**
 * The H.265 SPS reader: SPSs written by x265 (with and without B-frames) against ffmpeg's
 * trace_headers bitstream filter (`ffmpeg -i x.hevc -c copy -bsf:v trace_headers -f null -`), an
 * SPS with three sub-layers written field by field with the test's own Exp-Golomb writer, error
 * codes, and random bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { h265ReorderInfo, parseH265Sps, reorderInfoFromFmtp } from '../../../src/receiver/dts/index.ts';
import { BitWriter } from './bit-writer.ts';

// x265 (testsrc2 320x240, Main, level 2: general_level_idc 60), `-x265-params bframes=3`:
// trace_headers: sps_max_dec_pic_buffering_minus1[0] = 4, sps_max_num_reorder_pics[0] = 2.
const X265_BFRAMES3 = '42010101600000030090000003000003003ca00a080f16595964932bc05a020000030002000003003210';
// The same with bframes=0: sps_max_dec_pic_buffering_minus1[0] = 3, sps_max_num_reorder_pics[0] = 0.
const X265_BFRAMES0 = '42010101600000030090000003000003003ca00a080f16592a4932bc05a02000000300200000030321';

/** An SPS with `subLayers` sub-layers, each with sub-layer profile and level present (88 + 8 bits). */
function spsWithSubLayers(subLayers: number, orderingForAll: boolean, reorder: number[], dpbMinus1: number[]): Buffer {
  const w = new BitWriter()
    .u(4, 0)
    .u(3, subLayers - 1)
    .u(1, 1);
  w.u(2, 0).u(1, 0).u(5, 1).u(32, 0x60000000).u(4, 0b1001).u(32, 0).u(12, 0).u(8, 93); // general PTL, level 3.1
  for (let i = 0; i < subLayers - 1; i++) w.u(1, 1).u(1, 1);
  if (subLayers > 1) for (let i = subLayers - 1; i < 8; i++) w.u(2, 0);
  for (let i = 0; i < subLayers - 1; i++) w.u(32, 0xffffffff).u(32, 0xffffffff).u(24, 0xffffff).u(8, 90);
  w.ue(0).ue(1).ue(1920).ue(1080).u(1, 1).ue(0).ue(4).ue(0).ue(0); // id, 4:2:0, size, conformance window
  w.ue(0)
    .ue(0)
    .ue(4)
    .u(1, orderingForAll ? 1 : 0);
  const sets = orderingForAll ? subLayers : 1;
  for (let i = 0; i < sets; i++) w.ue(dpbMinus1[i]!).ue(reorder[i]!).ue(0);
  w.ue(0).ue(0); // log2_min_luma_coding_block_size_minus3 ... (not read)
  return w.nal(0x42, 0x01);
}

describe('parseH265Sps', () => {
  it("reads x265's SPS as ffmpeg's trace_headers does", () => {
    const b3 = parseH265Sps(Buffer.from(X265_BFRAMES3, 'hex'));
    expect(b3).toEqual({
      ok: true,
      value: {
        profileIdc: 1,
        levelIdc: 60,
        maxSubLayers: 1,
        spsId: 0,
        chromaFormatIdc: 1,
        width: 320,
        height: 240,
        maxNumReorderPics: 2,
        maxDecPicBuffering: 5,
      },
    });
    const b0 = parseH265Sps(Buffer.from(X265_BFRAMES0, 'hex'));
    expect(b0.ok && [b0.value.maxNumReorderPics, b0.value.maxDecPicBuffering]).toEqual([0, 4]);
    expect(b3.ok && h265ReorderInfo(b3.value)).toEqual({ reorderDepth: 2 });
  });

  it('skips sub-layer profile/level data and takes the highest sub-layer ordering info', () => {
    const all = parseH265Sps(spsWithSubLayers(3, true, [0, 1, 3], [1, 2, 4]));
    expect(all.ok && all.value).toMatchObject({
      maxSubLayers: 3,
      levelIdc: 93,
      width: 1920,
      height: 1080,
      maxNumReorderPics: 3,
      maxDecPicBuffering: 5,
    });
    const one = parseH265Sps(spsWithSubLayers(3, false, [2], [3]));
    expect(one.ok && one.value).toMatchObject({ maxSubLayers: 3, maxNumReorderPics: 2, maxDecPicBuffering: 4 });
  });

  it('returns codes for what is not an SPS, a truncated one, and an inconsistent one', () => {
    expect(parseH265Sps(Buffer.from('4001', 'hex'))).toMatchObject({ ok: false, code: 'DTS_ERR_SPS_NOT_SPS' }); // VPS
    expect(parseH265Sps(Buffer.from('42', 'hex'))).toMatchObject({ ok: false, code: 'DTS_ERR_SPS_NOT_SPS' });
    expect(parseH265Sps(Buffer.from(X265_BFRAMES3, 'hex').subarray(0, 20))).toMatchObject({ ok: false, code: 'DTS_ERR_SPS_TRUNCATED' });
    expect(parseH265Sps(spsWithSubLayers(1, true, [5], [2]))).toMatchObject({ ok: false, code: 'DTS_ERR_SPS_BAD_VALUE' });
  });

  it('never throws on random bytes after an SPS header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const r = parseH265Sps(Buffer.concat([Buffer.from([0x42, 0x01]), bytes]));
        if (r.ok) expect(r.value.maxNumReorderPics).toBeLessThan(r.value.maxDecPicBuffering);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('reorderInfoFromFmtp', () => {
  it('reads the reorder depth from the SDP parameter sets of H.265 and H.264', () => {
    const sps = Buffer.from(X265_BFRAMES3, 'hex').toString('base64');
    // The VPS, SPS and PPS x265 wrote for X265_BFRAMES3.
    const h265 = `profile-id=1;sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwA8lZQJ;sprop-sps=${sps};sprop-pps=RAHBcrRiQA==`;
    expect(reorderInfoFromFmtp('h265', h265)).toEqual({ reorderDepth: 2 });
    // sample.mp4's SPS (Main, VUI with max_num_reorder_frames 2 and 25 fps timing).
    const h264 = 'packetization-mode=1;profile-level-id=4d401e;sprop-parameter-sets=Z01AHuygUBf8uAiAAAADAIAAABkHixbL,aOvjyyLA';
    expect(reorderInfoFromFmtp('h264', h264)).toEqual({ reorderDepth: 2, frameDuration90k: 3600 });
    expect(reorderInfoFromFmtp('h265', 'profile-id=1')).toEqual({});
    expect(reorderInfoFromFmtp('mpa', '')).toEqual({});
  });
});
