/**
 * Trick play with GStreamer's rtspsrc (1.22) as the client: test/peers/gst-trick.py plays the
 * sample, decodes the video with avdec_h264 and, after 10 decoded frames, seeks the pipeline to 10 s
 * with a rate. What rtspsrc does with a rate (seen in its PLAY requests, via `before-send`):
 *  - rate 2 with GST_SEEK_FLAG_TRICKMODE: `Scale: 2`, `Range: npt=10-20`;
 *  - rate 2 without it: `Speed: 2` (delivery speed, timestamps unchanged);
 *  - rate -2 with TRICKMODE: `Scale: -2` and a reversed `Range: npt=10-0`.
 *
 * Scale 2: our keyframes decode without errors. rtspsrc then gives its segment rate 2 and
 * applied_rate 1, i.e. it takes RTP timestamps as media time and lets the sink play them twice as
 * fast (what gst-rtsp-server sends). We stamp trick play in playback time instead (RFC 2326
 * Appendix B; RFC 7826 maps it back with RTP-Info and Scale), so GStreamer shows the keyframe at
 * 10 + k as position 10 + k / 2: checked here, as the known difference between the two readings.
 * Speed 2: every frame, positions right (10.00, 10.04, ...). Scale -2: our server accepts the
 * reversed Range and rewinds, but rtspsrc 1.22 decodes no more than one frame in reverse, against
 * gst-rtsp-server as well, so only the request and our 200 are checked.
 */

import { expect, it } from 'vitest';
import path from 'node:path';
import { describeWithGstreamer } from '../helpers/gstreamer.ts';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { REPO_ROOT } from '../helpers/server.ts';

interface GstReport {
  sent: { Scale?: string; Speed?: string; Range?: string }[];
  /** [phase, stream time in s]: phase 1 after the seek. */
  frames: [number, number | null][];
  segments: { rate: number; applied_rate: number; start: number; time: number }[];
  error: string | null;
  seek_ok: boolean | null;
}

const SCRIPT = path.join(REPO_ROOT, 'test/peers/gst-trick.py');

describeWithGstreamer('trick play with GStreamer rtspsrc', ['rtspsrc', 'rtph264depay', 'h264parse', 'avdec_h264', 'fakesink'], [], () => {
  const { url } = serverForSuite();

  async function gst(rate: number, extra: string[]): Promise<GstReport> {
    const r = await runProgram('/usr/bin/python3', [SCRIPT, url(), String(rate), '10', '--tcp', '--timeout', '15', ...extra], 60_000);
    expectSuccess(r, 'gst-trick.py');
    const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as GstReport;
    return report;
  }

  const after = (r: GstReport) => r.frames.filter((f) => f[0] === 1).map((f) => f[1]!);

  it.concurrent('rate 2 + TRICKMODE sends Scale 2: keyframes decode; GStreamer reads their timestamps as media time', async () => {
    const r = await gst(2, ['--trickmode', '--frames', '5']);
    expect(r.error).toBeNull();
    expect(r.sent.at(-1)).toEqual({ Scale: '2', Range: 'npt=10-20' });
    const pos = after(r);
    expect(pos.length).toBeGreaterThanOrEqual(5);
    // Keyframes 10, 11, 12, ... shown at 10 + k / Scale (see the comment at the top).
    pos.slice(0, 5).forEach((p, k) => expect(Math.abs(p - (10 + k / 2))).toBeLessThan(0.01));
  });

  it.concurrent('rate 2 without TRICKMODE sends Speed 2: every frame, twice as fast, positions right', async () => {
    const r = await gst(2, ['--frames', '20']);
    expect(r.error).toBeNull();
    expect(r.sent.at(-1)).toEqual({ Speed: '2', Range: 'npt=10-20' });
    const pos = after(r);
    expect(pos.length).toBeGreaterThanOrEqual(20);
    expect(pos[0]!).toBeGreaterThanOrEqual(9.99);
    // 20 decoded frames cover about 0.8 s of media (25 fps): every frame, not keyframes.
    expect(pos[19]! - pos[0]!).toBeGreaterThan(0.4);
    expect(pos[19]! - pos[0]!).toBeLessThan(1.2);
  });

  it.concurrent('rate -2 + TRICKMODE sends Scale -2 with a reversed Range, and we accept it', async () => {
    const r = await gst(-2, ['--trickmode', '--frames', '3', '--timeout', '5']);
    expect(r.sent.at(-1)).toEqual({ Scale: '-2', Range: 'npt=10-0' });
    expect(r.error).toBeNull(); // an error answer (457 before we read reversed ranges) shows here
    expect(r.seek_ok).toBe(true);
  });
});
