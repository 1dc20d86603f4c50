/**
 * The H.264 SPS reader: sample.mp4's SPS against ffmpeg's trace_headers bitstream filter
 * (`ffmpeg -loglevel trace -i media/sample.mp4 -c copy -bsf:v trace_headers -f null -`), an SPS
 * written field by field with the test's own Exp-Golomb writer (every optional part present,
 * emulation prevention applied), error codes, and random bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { h264ReorderInfo, parseH264Sps, unescapeRbsp } from '../../../src/receiver/dts/index.ts';
import { BitWriter } from './bit-writer.ts';

describe('parseH264Sps', () => {
  it("reads sample.mp4's SPS as ffmpeg's trace_headers does", () => {
    const sps = Buffer.from('674d401eeca05017fcb808800000030080000019078b16cb', 'hex');
    const r = parseH264Sps(sps);
    expect(r).toEqual({
      ok: true,
      value: {
        profileIdc: 77, // Main
        constraintFlags: 0x40, // constraint_set1_flag
        levelIdc: 30,
        spsId: 0,
        chromaFormatIdc: 1,
        picOrderCntType: 0,
        maxNumRefFrames: 4,
        frameMbsOnly: true,
        width: 640, // (39 + 1) * 16
        height: 360, // (22 + 1) * 16 - 2 * frame_crop_bottom_offset 4
        timing: { numUnitsInTick: 1, timeScale: 50, fixedFrameRate: false },
        maxNumReorderFrames: 2,
        maxDecFrameBuffering: 4,
      },
    });
    if (r.ok) expect(h264ReorderInfo(r.value)).toEqual({ reorderDepth: 2, frameDuration90k: 3600 });
  });

  it('reads an SPS with every optional part (High, scaling lists, POC type 1, fields, cropping, HRD)', () => {
    const w = new BitWriter()
      .u(8, 100) // profile_idc High
      .u(8, 0x0c) // constraint_set4, constraint_set5
      .u(8, 41)
      .ue(3) // seq_parameter_set_id
      .ue(1) // chroma_format_idc 4:2:0
      .ue(2) // bit_depth_luma_minus8
      .ue(2) // bit_depth_chroma_minus8
      .u(1, 0) // qpprime_y_zero_transform_bypass_flag
      .u(1, 1); // seq_scaling_matrix_present_flag
    for (let i = 0; i < 8; i++) {
      w.u(1, i === 0 || i === 6 ? 1 : 0);
      if (i === 0) for (let j = 0; j < 16; j++) w.se(j === 0 ? 5 : 1); // 16 deltas
      if (i === 6) w.se(-8); // nextScale 0 at once: the list stops being read
    }
    w.ue(0) // log2_max_frame_num_minus4
      .ue(1) // pic_order_cnt_type 1
      .u(1, 0)
      .se(-2) // offset_for_non_ref_pic
      .se(3) // offset_for_top_to_bottom_field
      .ue(2) // num_ref_frames_in_pic_order_cnt_cycle
      .se(4)
      .se(-4)
      .ue(3) // max_num_ref_frames
      .u(1, 0)
      .ue(119) // pic_width_in_mbs_minus1: 1920
      .ue(33) // pic_height_in_map_units_minus1: 34 map units = 68 MB rows (fields)
      .u(1, 0) // frame_mbs_only_flag 0
      .u(1, 1) // mb_adaptive_frame_field_flag
      .u(1, 1) // direct_8x8_inference_flag
      .u(1, 1) // frame_cropping_flag
      .ue(1)
      .ue(2)
      .ue(0)
      .ue(2) // left 1, right 2, top 0, bottom 2
      .u(1, 1) // vui_parameters_present_flag
      .u(1, 1)
      .u(8, 255)
      .u(16, 4)
      .u(16, 3) // Extended_SAR 4:3
      .u(1, 1)
      .u(1, 0) // overscan
      .u(1, 1)
      .u(3, 5)
      .u(1, 0)
      .u(1, 1)
      .u(8, 1)
      .u(8, 1)
      .u(8, 1) // video signal, colour description
      .u(1, 1)
      .ue(0)
      .ue(0) // chroma loc
      .u(1, 1)
      .u(32, 1001)
      .u(32, 60000)
      .u(1, 1) // timing: 1001/60000, fixed
      .u(1, 1) // nal_hrd_parameters_present_flag
      .ue(1) // cpb_cnt_minus1: 2 entries
      .u(4, 2)
      .u(4, 3);
    for (let i = 0; i < 2; i++)
      w.ue(1000 + i)
        .ue(2000 + i)
        .u(1, i);
    w.u(5, 23)
      .u(5, 23)
      .u(5, 23)
      .u(5, 24)
      .u(1, 0) // vcl_hrd_parameters_present_flag
      .u(1, 0) // low_delay_hrd_flag
      .u(1, 1) // pic_struct_present_flag
      .u(1, 1) // bitstream_restriction_flag
      .u(1, 1)
      .ue(2)
      .ue(1)
      .ue(16)
      .ue(16)
      .ue(3) // max_num_reorder_frames
      .ue(5); // max_dec_frame_buffering
    const nal = w.nal(0x67);
    const r = parseH264Sps(nal);
    expect(r).toEqual({
      ok: true,
      value: {
        profileIdc: 100,
        constraintFlags: 0x0c,
        levelIdc: 41,
        spsId: 3,
        chromaFormatIdc: 1,
        picOrderCntType: 1,
        maxNumRefFrames: 3,
        frameMbsOnly: false,
        width: 1920 - 2 * (1 + 2),
        height: 34 * 16 * 2 - 4 * (0 + 2), // crop unit 2 (4:2:0) x 2 (fields)
        timing: { numUnitsInTick: 1001, timeScale: 60000, fixedFrameRate: true },
        maxNumReorderFrames: 3,
        maxDecFrameBuffering: 5,
      },
    });
    if (r.ok) expect(h264ReorderInfo(r.value)).toEqual({ reorderDepth: 3, frameDuration90k: 3003 });
  });

  it('Baseline without VUI: depth 0, no duration; Main without VUI: unknown', () => {
    const base = (profile: number) =>
      new BitWriter()
        .u(8, profile)
        .u(8, 0xc0)
        .u(8, 30)
        .ue(0)
        .ue(0)
        .ue(2)
        .ue(1)
        .u(1, 0)
        .ue(19)
        .ue(14)
        .u(1, 1)
        .u(1, 1)
        .u(1, 0)
        .u(1, 0)
        .nal(0x67);
    const b = parseH264Sps(base(66));
    expect(b.ok && [b.value.width, b.value.height, b.value.timing, b.value.maxNumReorderFrames]).toEqual([320, 240, undefined, undefined]);
    if (b.ok) expect(h264ReorderInfo(b.value)).toEqual({ reorderDepth: 0 });
    const m = parseH264Sps(base(77));
    if (m.ok) expect(h264ReorderInfo(m.value)).toEqual({});
    expect(m.ok).toBe(true);
  });

  it('removes emulation prevention bytes (sample.mp4 SPS has 00 00 03 80)', () => {
    expect(Buffer.from(unescapeRbsp(Buffer.from('0000030000030100000300', 'hex'))).toString('hex')).toBe('00000000' + '01' + '0000' + '00'); // 00 00 [03] 00 00 [03] 01 00 00 [03] 00
    expect(Buffer.from(unescapeRbsp(Buffer.from('000003', 'hex'))).toString('hex')).toBe('0000');
    expect(Buffer.from(unescapeRbsp(Buffer.from('0003', 'hex'))).toString('hex')).toBe('0003');
  });

  it('returns codes for bad input', () => {
    expect(parseH264Sps(Buffer.alloc(0))).toMatchObject({ ok: false, code: 'DTS_ERR_SPS_NOT_SPS' });
    expect(parseH264Sps(Buffer.from('68ee3c80', 'hex'))).toMatchObject({ ok: false, code: 'DTS_ERR_SPS_NOT_SPS' });
    const full = Buffer.from('674d401eeca05017fcb808800000030080000019078b16cb', 'hex');
    for (let n = 1; n < full.length - 1; n++) {
      expect(parseH264Sps(full.subarray(0, n))).toMatchObject({ ok: false, code: 'DTS_ERR_SPS_TRUNCATED' });
    }
    // 40 zero bits where an Exp-Golomb code should be.
    expect(parseH264Sps(Buffer.from('674d401e0000000000ff', 'hex'))).toMatchObject({ ok: false, code: 'DTS_ERR_SPS_BAD_VALUE' });
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (body) => {
        const r = parseH264Sps(Buffer.from([0x67, ...body]));
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});
