/**
 * A pulled origin as a config path rule (`paths: news: source: rtsp://ORIGIN/live/news`), parsed by
 * the config model as `serve --config` does, with real peers (our origin, ffmpeg viewers).
 *
 * - On demand (the default): nothing is pulled before the first viewer; ffmpeg's DESCRIBE starts
 *   the pull and waits for it, ffmpeg decodes the sample's frames; the pull stops (TEARDOWN at
 *   the origin) `sourceCloseAfter` after the last viewer left, and a later viewer starts it again.
 * - `sourceOnDemand: false` with `sourceTransport: udp`: pulled from the start, over UDP.
 * - `streamlab config check` describes such rules without the credentials of their URL.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { flagSpecsOf } from '../../src/cli/config-flags.ts';
import { serveCommand } from '../../src/cli/config.ts';
import { parseServeConfig } from '../../src/config/config-file.ts';
import type { RtspServer } from '../../src/server/index.ts';
import { captureRtsp, sampleReference } from '../helpers/framemd5.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { REPO_ROOT, SAMPLE, startServer } from '../helpers/server.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

function configOf(text: string) {
  const r = parseServeConfig(text, flagSpecsOf(serveCommand()), { file: 'edge.yml', baseDir: '/tmp' });
  if (!r.ok) throw new Error(r.mistakes.join('\n'));
  return r.config;
}

describeWithPeers('config: a pulled origin as a path rule', ['ffmpeg'], () => {
  let origin: RtspServer;
  let originUrl: string;
  const viewersAtOrigin = () => origin.sessionList().filter((s) => s.kind === 'live-viewer');

  beforeAll(async () => {
    ({ server: origin } = await startServer({ live: [{ name: 'news', file: SAMPLE }] }));
    originUrl = `rtsp://127.0.0.1:${origin.port}/live/news`;
  });
  afterAll(async () => {
    await origin?.close();
  });

  it('on demand: the first viewer starts the pull, it stops after the last one left, and starts again', async () => {
    const c = configOf(`paths:\n  news:\n    source: ${originUrl}\n    sourceCloseAfter: 1\n`);
    const { server: edge } = await startServer({ paths: c.paths, live: c.live, pull: { retryMinMs: 200 } });
    const pull = () => edge.snapshot().live.find((x) => x.path === 'news')!.pull!;
    try {
      await sleep(500);
      expect(pull()).toMatchObject({ onDemand: true, active: false, attempts: 0 });
      expect(viewersAtOrigin()).toHaveLength(0);

      const ref = await sampleReference();
      const got = await captureRtsp(`rtsp://127.0.0.1:${edge.port}/news`, 'tcp', 3);
      const video = new Set(ref.video.map((f) => f.hash));
      expect(got.video.length).toBeGreaterThan(40);
      expect(got.video.filter((f) => !video.has(f.hash))).toEqual([]);
      expect(pull().plays).toBe(1);

      // ffmpeg left: a second later (plus the watch's step) the edge leaves the origin.
      await waitUntil(() => !pull().active, 5000, 'the pull stopped');
      await waitUntil(() => viewersAtOrigin().length === 0, 3000, 'the edge gone from the origin');
      expect(pull().playing).toBe(false);

      const again = await captureRtsp(`rtsp://127.0.0.1:${edge.port}/news`, 'udp', 2);
      expect(again.video.length).toBeGreaterThan(20);
      expect(pull().plays).toBe(2);
    } finally {
      await edge.close();
    }
  }, 90_000);

  it('sourceOnDemand: false and sourceTransport: udp: pulled from the start, over UDP', async () => {
    // The last test's edge has left the origin.
    await waitUntil(() => viewersAtOrigin().length === 0, 5000, 'no edge at the origin');
    const c = configOf(`paths:\n  news:\n    source: ${originUrl}\n    sourceOnDemand: false\n    sourceTransport: udp\n`);
    const { server: edge } = await startServer({ paths: c.paths, live: c.live });
    try {
      await waitUntil(() => viewersAtOrigin().length === 1, 10_000, 'the edge at the origin, no viewer asked');
      expect(viewersAtOrigin()[0]!.transport).toMatch(/udp/i);
      const p = edge.snapshot().live.find((x) => x.path === 'news')!.pull!;
      expect(p).toMatchObject({ onDemand: false, transport: 'udp' });
      const got = await captureRtsp(`rtsp://127.0.0.1:${edge.port}/news`, 'tcp', 2);
      expect(got.video.length).toBeGreaterThan(20);
    } finally {
      await edge.close();
    }
  }, 60_000);
});

describeWithPeers('streamlab config check with a pulled origin', [], () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-config-pull-'));
    await writeFile(
      path.join(dir, 'edge.yml'),
      'paths:\n  news:\n    source: rtsp://edge:s3cret@127.0.0.1:8554/live/news\n  door:\n    source: rtsps://127.0.0.1:322/door\n    sourceOnDemand: false\n    sourceTransport: udp\n    sourceTlsInsecure: true\n',
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('describes each rule, without the credentials of its URL', () => {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'streamlab.js'), 'config', 'check', path.join(dir, 'edge.yml')], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      'news: pull rtsp://127.0.0.1:8554/live/news (on demand, closed 10 s after the last viewer, pull transport as --pull-transport)',
    );
    expect(r.stdout).toContain('door: pull rtsps://127.0.0.1:322/door (from start, udp, certificate NOT checked)');
    expect(r.stdout).not.toContain('s3cret');
  });
});
