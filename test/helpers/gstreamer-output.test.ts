/**
 * withoutRtspsrcPadRace removes exactly gst-launch's "Delayed linking failed" warning of rtspsrc's
 * no-more-pads race (text as GStreamer 1.22 printed it in test/integration/gstreamer.test.ts) and
 * nothing else.
 */
import { expect, it } from 'vitest';
import { withoutRtspsrcPadRace } from './gstreamer.ts';

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
