import { defineConfig } from 'vitest/config';

/**
 * Two tiers (`npm run test:unit`, `npm run test:integration`; `npm test` runs both):
 * - unit: pure and manual-clock tests. No programs, no sockets (test/helpers/unit-guard.ts makes
 *   any attempt fail), under a minute.
 * - integration: real peers (ffmpeg, GStreamer, VLC), real sockets and real time; test/integration
 *   and the files listed here that live beside the unit tests of their folder. The files in
 *   REALTIME run after all others, one at a time (project `realtime`): they decode or encode in
 *   real time with peers that need a core each (VLC's transcoder, x264 in rtspclientsink, two
 *   rtspsrc decoding pipelines) and judge the timing of what they receive, so on two shared cores
 *   they starved beside other suites (VLC giving up its audio chain, RTCP intervals not fitting).
 */
const INTEGRATION = [
  'test/integration/**/*.test.ts',
  'test/operator/**/*.test.ts',
  'test/cli/**/*.test.ts',
  'test/cluster/serve-workers*.test.ts',
  'test/lab/lab-e2e.test.ts',
  'test/lab/pcap-tshark.test.ts',
  'test/lab/report-browser.test.ts',
  'test/lab/video-quality-ffmpeg.test.ts',
  'test/codecs/h265-hvcc-fmtp.test.ts',
  'test/impair/pipeline.test.ts',
  'test/live/file-loop.test.ts',
  'test/live/keyframe-sdp.test.ts',
  'test/live/live-bad-input.test.ts',
  'test/media/ffmpeg-sink-args.test.ts',
  'test/media/mp4-sample.test.ts',
  'test/media/mp4-variants.test.ts',
  'test/media/mpegts/ffmpeg-roundtrip.test.ts',
  'test/prepare/cache.test.ts',
  'test/prepare/catalog-wait.test.ts',
  'test/prepare/concurrency.test.ts',
  'test/push/**/*.test.ts',
  'test/receiver/behaviour.test.ts',
  'test/receiver/cli.test.ts',
  'test/receiver/end-to-end.test.ts',
  'test/receiver/gst-codecs.test.ts',
  'test/receiver/impair-ingress.test.ts',
  'test/receiver/interop.test.ts',
  'test/receiver/keyboard.test.ts',
  'test/receiver/mp2t-decode-count.test.ts',
  'test/receiver/xr-rtt.test.ts',
  'test/server/**/*.test.ts',
  'test/transport/kernel-drops.test.ts',
  'test/transport/netem-relay.test.ts',
];

const REALTIME = [
  'test/integration/gstreamer.test.ts',
  'test/integration/publish-gstreamer.test.ts',
  'test/integration/publish-rtcp-gstreamer.test.ts',
  'test/integration/push-vlc.test.ts',
  'test/integration/trick-play-gstreamer.test.ts',
  'test/operator/feed-timing.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    // Tests read captured log lines as JSON, whatever the terminal.
    env: { STREAMLAB_LOG_FORMAT: 'json' },
    hookTimeout: 60_000,
    // Integration tests start servers and real peers; two cores, so keep parallelism modest.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: INTEGRATION,
          setupFiles: ['test/helpers/unit-guard.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: INTEGRATION,
          exclude: REALTIME,
          // The CLI tests run bin/streamlab.js, which runs the compiled dist/.
          globalSetup: ['test/helpers/build-dist.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'realtime',
          include: REALTIME,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
