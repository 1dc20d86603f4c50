/**
 * withoutRtspsrcPadRace removes exactly gst-launch's "Delayed linking failed" warning of rtspsrc's
 * no-more-pads race, and withoutRtspsrcShutdownRace exactly the two errors of rtspsrc's PAUSE cut
 * short by its own CLOSE after EOS (texts as GStreamer 1.22 printed them in
 * test/integration/gstreamer.test.ts), nothing else.
 */
import { expect, it } from 'vitest';
import { expectRtspsrcPlayed, withoutRtspsrcPadRace, withoutRtspsrcShutdownRace } from './gstreamer.ts';
import type { ProgramResult } from './run-program.ts';

const RACE = (depay: string) =>
  'WARNING: from element /GstPipeline:pipeline0/GstRTSPSrc:src: Delayed linking failed.\n' +
  'Additional debug info:\n' +
  'gst/parse/grammar.y(853): gst_parse_no_more_pads (): /GstPipeline:pipeline0/GstRTSPSrc:src:\n' +
  `failed delayed linking some pad of GstRTSPSrc named src to some pad of ${depay}\n`;

it('drops the rtspsrc no-more-pads race warning, for either depayloader', () => {
  const out = `Progress: (request) Sent PLAY request\n${RACE('GstRtpMP4GDepay named rtpmp4gdepay0')}Redistribute latency...\n`;
  expect(withoutRtspsrcPadRace(out)).toBe('Progress: (request) Sent PLAY request\nRedistribute latency...\n');
  expect(withoutRtspsrcPadRace(RACE('GstRtpH264Depay named rtph264depay0'))).toBe('');
});

it('keeps every other warning and error', () => {
  const other = [
    'WARNING: from element /GstPipeline:pipeline0/GstRTSPSrc:src: Could not read from resource.\n',
    'ERROR: from element /GstPipeline:pipeline0/GstRTSPSrc:src: Could not write to resource.\n',
    // The same words from another element are not the rtspsrc race.
    RACE('GstRtpH264Depay named rtph264depay0').replaceAll('GstRTSPSrc:src', 'GstDecodeBin:d'),
  ];
  for (const o of other) expect(withoutRtspsrcPadRace(o)).toMatch(/ERROR|WARNING/);
});

const EOF_ERROR = (fn: string, line: number) =>
  'ERROR: from element /GstPipeline:pipeline0/GstRTSPSrc:src: Could not write to resource.\n' +
  'Additional debug info:\n' +
  `../gst/rtsp/gstrtspsrc.c(${line}): ${fn} (): /GstPipeline:pipeline0/GstRTSPSrc:src:\n` +
  'Could not send message. (Received end-of-file)\n';
const SHUTDOWN = EOF_ERROR('gst_rtspsrc_try_send', 6766) + EOF_ERROR('gst_rtspsrc_pause', 9240);
const EOS = 'Got EOS from element "pipeline0".\nExecution ended after 0:00:20.511252011\n';

it('drops the shutdown race after EOS and says it was there', () => {
  expect(withoutRtspsrcShutdownRace(`${EOS}${SHUTDOWN}`)).toEqual({ output: EOS, afterEos: true });
  expect(withoutRtspsrcShutdownRace(EOS)).toEqual({ output: EOS, afterEos: false });
});

it('keeps the shutdown race without EOS, and any other write error', () => {
  // Without EOS the errors are dropped but do not excuse the exit code; the test needs EOS anyway.
  expect(withoutRtspsrcShutdownRace(SHUTDOWN).afterEos).toBe(false);
  const others = [
    // A send that failed outside the PAUSE (e.g. the server closed the connection mid-stream).
    EOF_ERROR('gst_rtspsrc_try_send', 6766),
    EOF_ERROR('gst_rtspsrc_pause', 9240),
    EOF_ERROR('gst_rtspsrc_try_send', 6766) + EOF_ERROR('gst_rtspsrc_play', 9000),
    // Any other reason than end-of-file.
    SHUTDOWN.replaceAll('(Received end-of-file)', '(Connection reset)'),
  ];
  for (const o of others) expect(withoutRtspsrcShutdownRace(`${EOS}${o}`).output).toMatch(/ERROR/);
});

it('expectRtspsrcPlayed passes exit 0, or exit 1 with only the shutdown race after EOS', () => {
  const run = (code: number, stdout: string, stderr: string, timedOut = false): ProgramResult => ({
    code,
    signal: null,
    stdout,
    stderr,
    timedOut,
    wallMs: 1,
  });
  expect(() => expectRtspsrcPlayed(run(0, EOS, ''), 'x')).not.toThrow();
  expect(() => expectRtspsrcPlayed(run(1, EOS, SHUTDOWN), 'x')).not.toThrow();
  expect(() => expectRtspsrcPlayed(run(1, '', SHUTDOWN), 'x')).toThrow(/x failed \(code 1/);
  expect(() => expectRtspsrcPlayed(run(1, EOS, SHUTDOWN + EOF_ERROR('gst_rtspsrc_play', 9000)), 'x')).toThrow();
  expect(() => expectRtspsrcPlayed(run(1, EOS, ''), 'x')).toThrow();
  expect(() => expectRtspsrcPlayed(run(1, EOS, SHUTDOWN, true), 'x')).toThrow(/timedOut true/);
});
