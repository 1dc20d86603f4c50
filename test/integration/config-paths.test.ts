/**
 * Issues 12 and 13, config `paths:` rules with real peers. A server built from a config file's
 * rules: ffmpeg publishes on `studio/cam1` (not under live/) and ffprobe reads it; a path no rule
 * opens still answers ANNOUNCE 405. Per-path authentication on top of the users file (`--auth
 * none` elsewhere), credentials in the URL: ffmpeg publishing without them gets 401, ffprobe
 * without them 401, as a user the rule does not name 403, as alice the tracks. A file mounted at
 * `clip` with a per-path netem: our receiver's reports show the loss, in the session's end line
 * (src/server/session-log.ts) and not on the same file without the rule. Lines are captured from
 * the logger at serve's default level (info). The same per-path rules with GStreamer: rtspsrc
 * reading, rtspclientsink publishing.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { parseServeConfig } from '../../src/config/config-file.ts';
import { flagSpecsOf } from '../../src/cli/config-flags.ts';
import { serveCommand } from '../../src/cli/config.ts';
import { digestHa1 } from '../../src/rtsp/index.ts';
import { ffmpegPublish, ffprobeCodecs } from '../helpers/ffmpeg.ts';
import { describeWithGstreamer, expectRtspsrcPlayed, rtspclientsinkTestArgs, rtspsrcToFakesinks } from '../helpers/gstreamer.ts';
import { logLinesForSuite } from '../helpers/log-lines.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';
import { MEDIA_DIR, SAMPLE } from '../helpers/server.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { waitUntil } from '../helpers/wait.ts';
import { play } from '../receiver/helpers.ts';

const REALM = 'streamlab';
const PASSWORD = 'open-sesame.7';
const user = (name: string) => [name, new Map([['MD5', digestHa1('MD5', name, REALM, PASSWORD)] as const])] as const;
const users = new Map([user('alice'), user('bob')]);
const creds = (url: string, name: string) => url.replace('rtsp://', `rtsp://${name}:${PASSWORD}@`);

const CONFIG = `
paths:
  studio/cam1:
    publish: any
  secure/cam:
    publish: [alice]
    read: [alice]
  clip:
    source: { file: ${SAMPLE} }
    netem: loss 10%
  lobby:
    source: { loop: sample.mp4 }
  bars:
    source: { ffmpeg: "-re -f lavfi -i testsrc2=size=320x240:rate=25" }
  movies/**:
    source: { folder: ${MEDIA_DIR} }
    read: [alice]
`;

const logs = logLinesForSuite('info');

const lines = (msg: string, path?: string) => logs.filter((l) => l.msg === msg && (path === undefined || l.path === path));
/** The `request refused` lines (handlers.ts) of a status on a path. */
const refusals = (status: number, path: string) =>
  logs.filter((l) => l.msg === 'request refused' && l.status === status && typeof l.uri === 'string' && l.uri.includes(`/${path}`));

const ffprobe = (url: string) => ffprobeCodecs(url);

/** ffmpeg publishing the sample, looped, over TCP until killed (by its pid). */
function publish(url: string): ChildProcess {
  return spawn(
    'ffmpeg',
    ['-v', 'error', '-re', '-stream_loop', '-1', '-i', SAMPLE, '-c', 'copy', '-f', 'rtsp', '-rtsp_transport', 'tcp', url],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
}

describeWithPeers('config paths: publishing on any path a rule opens, per-path auth, the log lines', ['ffmpeg', 'ffprobe'], () => {
  const parsed = parseServeConfig(CONFIG, flagSpecsOf(serveCommand()), { file: 'test.yml', baseDir: MEDIA_DIR });
  if (!parsed.ok) throw new Error(parsed.mistakes.join('\n'));
  const { server, url } = serverForSuite({ paths: parsed.config.paths, live: parsed.config.live, auth: { users, rule: 'none' } });
  const publishers: ChildProcess[] = [];

  afterAll(async () => {
    for (const p of publishers) if (p.exitCode === null) p.kill('SIGKILL');
  });

  const channelLive = (path: string) => server.snapshot().live.some((c) => c.path === path && c.live && c.publisher !== undefined);

  it('ffmpeg publishes on studio/cam1 (not under live/), ffprobe reads both tracks; one line per start and end', async () => {
    publishers.push(publish(url('studio/cam1')));
    await waitUntil(() => channelLive('studio/cam1'), 15_000, 'the publisher on studio/cam1');
    const r = await ffprobe(url('studio/cam1'));
    expectSuccess(r, 'ffprobe studio/cam1');
    expect(r.stdout.trim().split('\n')).toEqual(['h264', 'aac']);
    expect(lines('publisher started', 'studio/cam1')).toEqual([
      expect.objectContaining({ level: 'info', client: '127.0.0.1', transport: 'tcp', kind: 'publisher' }),
    ]);
    await waitUntil(() => lines('session ended', 'studio/cam1').length === 1, 5000, 'the reader end line');
    expect(lines('session started', 'studio/cam1')).toEqual([
      expect.objectContaining({ client: '127.0.0.1', transport: 'udp', kind: 'live-viewer' }),
    ]);
    const end = lines('session ended', 'studio/cam1')[0]!;
    expect(end).toMatchObject({ client: '127.0.0.1', reason: 'teardown', transport: 'udp' });
    expect(end.packetsSent).toBeGreaterThan(0);
  });

  it('a path no rule opens still refuses publishing: 405, with the reason in the refusal line', async () => {
    const r = await ffmpegPublish(SAMPLE, url('other/x'), { seconds: 1, timeoutMs: 30_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/405/);
    expect(refusals(405, 'other/x')[0]).toMatchObject({ method: 'ANNOUNCE', reason: expect.stringMatching(/config rule opens/) });
  });

  it('per-path auth: publish needs alice; ffprobe without credentials 401, as bob 403, as alice the tracks', async () => {
    const anonymous = await ffmpegPublish(SAMPLE, url('secure/cam'), { seconds: 1, timeoutMs: 30_000 });
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(/401/);
    const asBob = await ffmpegPublish(SAMPLE, creds(url('secure/cam'), 'bob'), { seconds: 1, timeoutMs: 30_000 });
    expect(asBob.code).not.toBe(0);
    expect(asBob.stderr).toMatch(/403/);
    publishers.push(publish(creds(url('secure/cam'), 'alice')));
    await waitUntil(() => channelLive('secure/cam'), 15_000, 'the publisher on secure/cam');

    const none = await ffprobe(url('secure/cam'));
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/401/);
    const wrong = await ffprobe(url('secure/cam').replace('rtsp://', 'rtsp://alice:wrong@'));
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/401/);
    const bob = await ffprobe(creds(url('secure/cam'), 'bob'));
    expect(bob.code).not.toBe(0);
    expect(bob.stderr).toMatch(/403/);
    const alice = await ffprobe(creds(url('secure/cam'), 'alice'));
    expectSuccess(alice, 'ffprobe as alice');
    expect(alice.stdout.trim().split('\n')).toEqual(['h264', 'aac']);

    expect(refusals(401, 'secure/cam').map((l) => l.reason)).toContain('credentials required');
    expect(refusals(401, 'secure/cam').map((l) => l.reason)).toContain('authentication failed: wrong password');
    expect(refusals(403, 'secure/cam')).toEqual([
      expect.objectContaining({ client: '127.0.0.1', method: 'ANNOUNCE', reason: 'user bob may not publish secure/cam' }),
      expect.objectContaining({ client: '127.0.0.1', method: 'DESCRIBE', reason: 'user bob may not read secure/cam' }),
    ]);
    // Other paths need no credentials (--auth none).
    expectSuccess(await ffprobe(url('sample.mp4')), 'ffprobe sample.mp4');
  });

  it('a looped file at lobby and an ffmpeg source at bars (rule paths, not live/NAME) are read by ffprobe', async () => {
    const lobby = await ffprobe(url('lobby'));
    expectSuccess(lobby, 'ffprobe lobby');
    expect(lobby.stdout.trim().split('\n')).toEqual(['h264', 'aac']);
    await waitUntil(() => server.snapshot().live.some((c) => c.path === 'bars' && c.live), 20_000, 'the ffmpeg source of bars');
    const bars = await ffprobe(url('bars'));
    expectSuccess(bars, 'ffprobe bars');
    expect(bars.stdout.trim().split('\n')).toEqual(['h264']);
  });

  it('a folder under movies/** for alice: 401 without credentials, the file with them; no way out of the folder', async () => {
    const none = await ffprobe(url('movies/sample.mp4'));
    expect(none.stderr).toMatch(/401/);
    // No spelling of the path escapes the rule.
    const encoded = await ffprobe(url('%6dovies/sample.mp4'));
    expect(encoded.stderr).toMatch(/401/);
    const alice = await ffprobe(creds(url('movies/sample.mp4'), 'alice'));
    expectSuccess(alice, 'ffprobe movies/sample.mp4');
    expect(alice.stdout.trim().split('\n')).toEqual(['h264', 'aac']);
    const out = await ffprobe(creds(url('movies/%2e%2e/package.json'), 'alice'));
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/404/);
  });

  it("a file mounted at clip with a per-path netem: the receiver's reports show its loss; the same file elsewhere has none", async () => {
    const r = await play(url('clip'), { durationSec: 6 });
    expect(r.end).toMatchObject({ ok: true });
    await waitUntil(() => lines('session ended', 'clip').length === 1, 5000, 'the clip end line');
    const end = lines('session ended', 'clip')[0]!;
    expect(end).toMatchObject({ client: '127.0.0.1', transport: 'udp', kind: 'file' });
    expect(end.packetsSent).toBeGreaterThan(300);
    // 10 % loss on the server's egress, as our receiver reported it (the last second is not yet reported).
    // A share of the packets the last reports cover (about 600 at 10 %: 10 ± 4 %).
    expect(end.lossPercent).toBeGreaterThan(6);
    expect(end.lossPercent).toBeLessThan(14);

    const plain = await play(url('sample.mp4'), { durationSec: 3 });
    expect(plain.end).toMatchObject({ ok: true });
    await waitUntil(() => lines('session ended', 'sample.mp4').length >= 1, 5000, 'the sample end line');
    expect(lines('session ended', 'sample.mp4').at(-1)).toMatchObject({ lossPercent: 0 });
  });
});

describeWithGstreamer(
  'config paths: per-path auth with GStreamer reading (rtspsrc) and publishing (rtspclientsink)',
  ['rtspsrc', 'fakesink', 'rtspclientsink', 'videotestsrc', 'x264enc', 'h264parse'],
  ['ffprobe'],
  () => {
    const parsed = parseServeConfig(CONFIG, flagSpecsOf(serveCommand()), { file: 'test.yml', baseDir: MEDIA_DIR });
    if (!parsed.ok) throw new Error(parsed.mistakes.join('\n'));
    const { server, url } = serverForSuite({ paths: parsed.config.paths, auth: { users, rule: 'none' } });
    const asUser = (name: string) => [`user-id=${name}`, `user-pw=${PASSWORD}`];

    it('rtspsrc reads movies/** as alice; without credentials 401, as bob 403', async () => {
      const before = logs.length;
      expectRtspsrcPlayed(await rtspsrcToFakesinks(url('movies/sample.mp4'), asUser('alice')), 'rtspsrc as alice');
      const none = await rtspsrcToFakesinks(url('movies/sample.mp4'));
      expect(none.code).not.toBe(0);
      expect(none.stderr).toMatch(/Unauthorized \(401\)/);
      const bob = await rtspsrcToFakesinks(url('movies/sample.mp4'), asUser('bob'));
      expect(bob.code).not.toBe(0);
      expect(bob.stderr).toMatch(/Forbidden \(403\)/);
      const refused = logs.slice(before).filter((l) => l.msg === 'request refused');
      // Every rtspsrc is challenged first (401, then it answers with its credentials, if it has any).
      expect(refused.filter((l) => l.status === 401).map((l) => l.reason)).toEqual(Array(3).fill('credentials required'));
      expect(refused.filter((l) => l.status === 403).map((l) => l.reason)).toEqual(['user bob may not read movies/**']);
    });

    it('rtspclientsink publishes on secure/cam as alice (bob: 403); ffprobe reads it as alice', async () => {
      const publisher = (name: string, buffers: number) =>
        runProgram('gst-launch-1.0', rtspclientsinkTestArgs(url('secure/cam'), buffers, ['protocols=tcp', ...asUser(name)]), 30_000);
      const bob = await publisher('bob', 25);
      expect(bob.code).not.toBe(0);
      expect(bob.stderr).toMatch(/Forbidden|403/);
      const alice = publisher('alice', 250);
      await waitUntil(() => server.snapshot().live.some((c) => c.path === 'secure/cam' && c.live), 15_000, 'alice publishing');
      const probe = await ffprobe(creds(url('secure/cam'), 'alice'));
      expectSuccess(probe, 'ffprobe of secure/cam as alice');
      expect(probe.stdout.trim()).toBe('h264');
      expect((await ffprobe(url('secure/cam'))).stderr).toMatch(/401/);
      await alice;
    }, 60_000);
  },
);
