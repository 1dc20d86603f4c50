/**
 * Gating for GStreamer tests, with the same rules as describeWithPeers (run when present, skip
 * when missing, FAIL when missing and STREAMLAB_REQUIRE_PEERS=1). A separate helper because
 * `gst-launch-1.0 -version` (what hasPeer runs) is an error: GStreamer wants `--version`; and
 * because a GStreamer test also needs its elements (plugins), checked with gst-inspect-1.0.
 */

import { spawnSync } from 'node:child_process';
import { describe, it } from 'vitest';
import { hasPeer, peersRequired } from './peers.ts';
import { expectSuccess, runProgram } from './run-program.ts';
import type { ProgramResult } from './run-program.ts';

const cache = new Map<string, boolean>();

function runs(bin: string, args: string[]): boolean {
  const key = `${bin} ${args.join(' ')}`;
  let ok = cache.get(key);
  if (ok === undefined) {
    const r = spawnSync(bin, args, { stdio: 'ignore' });
    ok = !r.error && r.status === 0;
    cache.set(key, ok);
  }
  return ok;
}

/** What is missing to run gst-launch-1.0 with `elements` (and the `-version` programs in `bins`). */
export function missingForGstreamer(elements: readonly string[], bins: readonly string[] = []): string[] {
  const missing = bins.filter((b) => !hasPeer(b));
  if (!runs('gst-launch-1.0', ['--version'])) return [...missing, 'gst-launch-1.0'];
  if (!runs('gst-inspect-1.0', ['--version'])) return [...missing, 'gst-inspect-1.0'];
  return [...missing, ...elements.filter((e) => !runs('gst-inspect-1.0', ['--exists', e]))];
}

export function describeWithGstreamer(title: string, elements: readonly string[], bins: readonly string[], fn: () => void): void {
  const missing = missingForGstreamer(elements, bins);
  if (missing.length === 0) {
    describe(title, fn);
  } else if (peersRequired()) {
    describe(title, () => {
      it(`requires ${missing.join(', ')} (STREAMLAB_REQUIRE_PEERS=1)`, () => {
        throw new Error(`missing peer program(s)/GStreamer element(s): ${missing.join(', ')}`);
      });
    });
  } else {
    describe.skip(`${title} (missing ${missing.join(', ')})`, fn);
  }
}

/**
 * rtspsrc playing both tracks of `location` over `protocols` (TCP by default) into fakesinks that
 * stop after `buffers` RTP packets each (30 by default), so the pipeline ends by itself; `extra`
 * are more rtspsrc properties. Not `-q`: expectRtspsrcPlayed needs gst-launch's "Got EOS".
 */
export function rtspsrcToFakesinks(
  location: string,
  extra: readonly string[] = [],
  { protocols = 'tcp', buffers = 30, timeoutMs = 40_000 }: { protocols?: 'tcp' | 'udp'; buffers?: number; timeoutMs?: number } = {},
): Promise<ProgramResult> {
  const branch = ['src.', '!', 'queue', '!', 'fakesink', `num-buffers=${buffers}`];
  return runProgram(
    'gst-launch-1.0',
    ['rtspsrc', 'name=src', `location=${location}`, `protocols=${protocols}`, ...extra, ...branch, ...branch],
    timeoutMs,
  );
}

/**
 * gst-launch-1.0 arguments that publish a live test picture to `location` with rtspclientsink:
 * videotestsrc, 320x240 at 25 fps, `buffers` frames long, encoded by x264enc (zerolatency,
 * veryfast, a keyframe a second). `sinkProps` are more rtspclientsink properties
 * (`protocols=tcp`, `user-id=...`).
 */
export function rtspclientsinkTestArgs(location: string, buffers: number, sinkProps: readonly string[] = []): string[] {
  return [
    '-q',
    'videotestsrc',
    'is-live=true',
    `num-buffers=${buffers}`,
    '!',
    'video/x-raw,width=320,height=240,framerate=25/1',
    '!',
    'x264enc',
    'tune=zerolatency',
    'speed-preset=veryfast',
    'key-int-max=25',
    '!',
    'h264parse',
    '!',
    'rtspclientsink',
    `location=${location}`,
    ...sinkProps,
  ];
}

/**
 * The warning gst-launch prints when rtspsrc (GStreamer 1.22) emits no-more-pads while its other
 * stream's pad is still being added and linked, a race in rtspsrc itself, with any server: each
 * stream's first packet leaves its own jitterbuffer thread, new_manager_pad marks the stream
 * added and checks "all streams added" under its lock BEFORE adding the pad, then adds it
 * unlocked; the second thread can find both marked, add its pad and emit no-more-pads while the
 * first thread's pad-added handler is still linking. gst-parse then warns for that link, keeps
 * its handler, and the link completes a few ms later (seen in GST_DEBUG=GST_PIPELINE:5 logs:
 * "We added all streams" before "delayed linking ... worked"). Newer rtspsrc sets `added` after
 * gst_element_add_pad for exactly this reason. Measured here with per-session pairs as with the
 * shared pair, over UDP as over TCP.
 *
 * The same two threads made runs HANG when the pipeline linked through caps filters
 * (`src. ! application/x-rtp,media=audio ! rtpmp4gdepay`): gst-parse links such a delayed link
 * through a capsfilter it makes (gst_element_link_pads_filtered: src -> capsfilter, then
 * capsfilter -> depayloader), with no lock between the two pad-added handlers. The video thread's
 * audio handler linked its own capsfilter to rtpmp4gdepay's sink for a moment (its src side had no
 * pad to take), so the audio thread's own capsfilter found that sink taken and was removed; the
 * audio thread then pushed its first buffer into an unlinked pad, rtpjitterbuffer paused its task
 * with not-linked for good and refused every later event, EOS included (GST_DEBUG log:
 * "Could not find a compatible pad to link to capsfilter3:src", "pausing task, reason
 * not-linked"). Stress runs of 4 rtspsrc at once (load 10-13): 8 of 320 clients hung with caps
 * filters (per-session pairs 7, shared 1), 0 of 240 without them. Pipelines here link the
 * depayloaders directly: their sink caps choose the pad, and a direct link is made at once.
 */
const RTSPSRC_NO_MORE_PADS_RACE =
  /WARNING: from element \/GstPipeline:pipeline0\/GstRTSPSrc:src: Delayed linking failed\.\nAdditional debug info:\n\S*grammar\.y\(\d+\): gst_parse_no_more_pads \(\): \/GstPipeline:pipeline0\/GstRTSPSrc:src:\nfailed delayed linking some pad of GstRTSPSrc named src to some pad of \w+ named \w+\n/g;

/**
 * gst-launch's output without that one warning (everything else kept, including every ERROR), so
 * `not.toMatch(/ERROR|WARNING/)` keeps failing on anything but GStreamer's own pad race. The test
 * must still check what was decoded: a link that never completed shows there (or as a timeout).
 */
export function withoutRtspsrcPadRace(output: string): string {
  return output.replace(RTSPSRC_NO_MORE_PADS_RACE, '');
}

/**
 * The errors rtspsrc (GStreamer 1.22) posts when gst-launch takes the pipeline down after EOS and
 * rtspsrc's own CLOSE interrupts its PAUSE before a byte of it was written: PLAYING -> PAUSED
 * queues PAUSE for rtspsrc's thread, PAUSED -> READY queues CLOSE a fraction of a millisecond
 * later and flushes the connection while PAUSE is still busy; the cancelled write has written 0
 * bytes, which libgstrtsp's writev_bytes reports as GST_RTSP_EEOF ("Received end-of-file", not
 * the EINTR rtspsrc would ignore). The PAUSE never reaches the server; the TEARDOWN that follows
 * is answered on the same connection. gst-launch then exits 1. Seen 1 run in 30 (load ~9), with
 * the TCP client; the server has no part in it.
 */
const RTSPSRC_SHUTDOWN_RACE =
  /ERROR: from element \/GstPipeline:pipeline0\/GstRTSPSrc:src: Could not write to resource\.\nAdditional debug info:\n\S*gstrtspsrc\.c\(\d+\): gst_rtspsrc_try_send \(\): \/GstPipeline:pipeline0\/GstRTSPSrc:src:\nCould not send message\. \(Received end-of-file\)\nERROR: from element \/GstPipeline:pipeline0\/GstRTSPSrc:src: Could not write to resource\.\nAdditional debug info:\n\S*gstrtspsrc\.c\(\d+\): gst_rtspsrc_pause \(\): \/GstPipeline:pipeline0\/GstRTSPSrc:src:\nCould not send message\. \(Received end-of-file\)\n/g;

/**
 * gst-launch's output without rtspsrc's shutdown race (the two errors of a PAUSE cut short by its
 * own CLOSE, in that order), and whether it was there: such a run exits 1 though it played to EOS.
 * Only after EOS does it count: `afterEos` is false when the output has no "Got EOS".
 */
export function withoutRtspsrcShutdownRace(output: string): { output: string; afterEos: boolean } {
  const rest = output.replace(RTSPSRC_SHUTDOWN_RACE, '');
  return { output: rest, afterEos: rest !== output && /Got EOS from element "pipeline0"/.test(output) };
}

/**
 * Throws unless gst-launch played to EOS: exit 0, or exit 1 with nothing in its output but
 * rtspsrc's shutdown race after "Got EOS" (the server saw a whole session; the client's PAUSE was
 * cut short by its own CLOSE). The same message as expectSuccess otherwise.
 */
export function expectRtspsrcPlayed(r: ProgramResult, what: string): void {
  const shutdown = withoutRtspsrcShutdownRace(`${r.stdout}\n${r.stderr}`);
  if (r.code === 1 && !r.timedOut && shutdown.afterEos && !/ERROR/.test(shutdown.output)) return;
  expectSuccess(r, what);
}
