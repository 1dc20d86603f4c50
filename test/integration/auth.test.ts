/**
 * Issue 13, RTSP authentication with real peers. Our server with `--auth all` (users with MD5 and
 * SHA-256 HA1): ffprobe over UDP and TCP and GStreamer's rtspsrc (user-id/user-pw and URL
 * credentials) get in with the right password, and fail with 401 with a wrong one or none, each
 * failure logged with user, address and reason and counted. rtspsrc retries a wrong password
 * without end; the per-address lockout stops it after five (503). `--auth publish`: ffmpeg publishes
 * with credentials in the URL and is refused with a wrong password. Our receiver (`streamlab
 * play`) against our server and against GStreamer's RTSP server with Digest and with Basic; the
 * password never appears in its logs.
 */
import { afterAll, expect, it } from 'vitest';
import { digestHa1 } from '../../src/rtsp/index.ts';
import { ffmpegPlay, ffmpegPublish, ffprobeCodecs } from '../helpers/ffmpeg.ts';
import type { RtspTransport } from '../helpers/ffmpeg.ts';
import { describeWithGstreamer, expectRtspsrcPlayed, rtspsrcToFakesinks } from '../helpers/gstreamer.ts';
import { logLinesForSuite } from '../helpers/log-lines.ts';
import { startGstRtspServer } from '../helpers/peer-servers.ts';
import type { PeerServer } from '../helpers/peer-servers.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { expectSuccess } from '../helpers/run-program.ts';
import { SAMPLE } from '../helpers/server.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { play } from '../receiver/helpers.ts';

const REALM = 'streamlab';
const PASSWORD = 'wonder-land.42';
const users = new Map([
  [
    'alice',
    new Map([
      ['SHA-256', digestHa1('SHA-256', 'alice', REALM, PASSWORD)] as const,
      ['MD5', digestHa1('MD5', 'alice', REALM, PASSWORD)] as const,
    ]),
  ],
]);

const withCreds = (url: string, user: string, password: string) => url.replace('rtsp://', `rtsp://${user}:${password}@`);

/** Log lines of the server and our client while a test runs. */
const logs = logLinesForSuite('debug', { perTest: true });

const failures = () => logs.filter((l) => l.msg === 'authentication failed');

const ffprobe = (url: string, transport: RtspTransport) => ffprobeCodecs(url, { transport });

describeWithPeers('RTSP authentication: ffprobe against our server (--auth all)', ['ffprobe'], () => {
  const { server, url } = serverForSuite({ auth: { users, rule: 'all' } });

  it.each(['udp', 'tcp'] as const)('over %s: the right password (Digest, MD5 as ffmpeg needs) sees both tracks', async (transport) => {
    const r = await ffprobe(withCreds(url(), 'alice', PASSWORD), transport);
    expectSuccess(r, `ffprobe ${transport}`);
    expect(r.stdout.trim().split('\n')).toEqual(['h264', 'aac']);
    expect(server.snapshot().auth?.accepted).toBeGreaterThan(0);
    expect(failures()).toEqual([]);
  });

  it('a wrong password: 401, ffprobe fails; logged with user, address and reason, and counted', async () => {
    const before = server.snapshot().auth!.failed;
    const r = await ffprobe(withCreds(url(), 'alice', 'wrong'), 'tcp');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/401/);
    expect(server.snapshot().auth!.failed).toBeGreaterThan(before);
    expect(failures()[0]).toMatchObject({
      level: 'warn',
      user: 'alice',
      client: '127.0.0.1',
      method: 'DESCRIBE',
      reason: 'wrong password',
    });
    // Unlocking the address for the next tests: a success resets its failure count.
    await ffprobe(withCreds(url(), 'alice', PASSWORD), 'tcp');
  });

  it('no credentials: 401 and ffprobe fails, counted as a challenge, not a failure', async () => {
    const before = server.snapshot().auth!;
    const r = await ffprobe(url(), 'tcp');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/401/);
    const after = server.snapshot().auth!;
    expect(after.challenged).toBeGreaterThan(before.challenged);
    expect(after.failed).toBe(before.failed);
  });
});

describeWithPeers('RTSP authentication: nonces expiring under ffmpeg (stale=true)', ['ffmpeg'], () => {
  // Nonces live 1 s and ffmpeg's keep-alives come every 2.5 s (timeout 5 s): each one meets a
  // stale nonce, is answered 401 stale=true and signed again, and the playback goes on.
  const { server, url } = serverForSuite({ auth: { users, rule: 'all', nonceLifetimeSec: 1 }, sessionTimeoutSec: 5 });

  it('ffmpeg plays 7 s through stale nonces without a failure', async () => {
    const r = await ffmpegPlay(withCreds(url(), 'alice', PASSWORD), { transport: 'tcp', seconds: 7, timeoutMs: 40_000 });
    expectSuccess(r, 'ffmpeg through stale nonces');
    const auth = server.snapshot().auth!;
    expect(auth.stale).toBeGreaterThanOrEqual(1);
    expect(auth.failed).toBe(0);
  });
});

describeWithGstreamer('RTSP authentication: GStreamer rtspsrc against our server', ['rtspsrc', 'fakesink'], [], () => {
  const { server, url } = serverForSuite({ auth: { users, rule: 'read' } });

  it('user-id/user-pw and URL credentials play; a wrong password fails with 401', async () => {
    const props = await rtspsrcToFakesinks(url(), ['user-id=alice', `user-pw=${PASSWORD}`]);
    expectRtspsrcPlayed(props, 'rtspsrc user-id/user-pw');
    const inUrl = await rtspsrcToFakesinks(withCreds(url(), 'alice', PASSWORD), []);
    expectRtspsrcPlayed(inUrl, 'rtspsrc URL credentials');
    expect(failures()).toEqual([]);
    const wrong = await rtspsrcToFakesinks(url(), ['user-id=alice', 'user-pw=nope']);
    expect(wrong.code).not.toBe(0);
    // rtspsrc answers every 401 with the same wrong password again: the fifth failure locks the
    // address out and the 503 that follows ends it (without the lockout it would loop).
    expect(failures()).toHaveLength(5);
    expect(failures()[0]).toMatchObject({ user: 'alice', reason: 'wrong password' });
    expect(wrong.stderr).toMatch(/Service Unavailable \(503\)/);
    expect(server.snapshot().auth).toMatchObject({ lockouts: 1, lockedOut: 1 });
    expect(server.snapshot().auth!.accepted).toBeGreaterThan(0);
  });
});

/** ffmpeg publishing the sample for 2 s over TCP to `target`. */
const publish = (target: string) => ffmpegPublish(SAMPLE, target, { transport: 'tcp', seconds: 2, timeoutMs: 40_000 });

describeWithPeers('RTSP authentication: ffmpeg publishing (--auth publish)', ['ffmpeg', 'ffprobe'], () => {
  const { server, url } = serverForSuite({ auth: { users, rule: 'publish' } });

  it('with credentials in the URL ffmpeg publishes; with a wrong password ANNOUNCE is refused; viewers need none', async () => {
    const good = publish(withCreds(url('live/auth'), 'alice', PASSWORD));
    // A viewer without credentials: reading is not protected under --auth publish.
    let viewed = false;
    for (let i = 0; i < 20 && !viewed; i++) {
      await new Promise((r) => setTimeout(r, 150));
      viewed = server.snapshot().live.some((c) => c.name === 'auth' && c.live);
    }
    expect(viewed).toBe(true);
    const probe = await ffprobe(url('live/auth'), 'tcp');
    expectSuccess(probe, 'ffprobe of the published channel');
    expect(probe.stdout).toMatch(/h264/);
    expectSuccess(await good, 'ffmpeg publishing with credentials');

    const bad = await publish(withCreds(url('live/auth2'), 'alice', 'wrong'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/401|Unauthorized|authorization failed/i);
    expect(failures().some((l) => l.method === 'ANNOUNCE' && l.user === 'alice')).toBe(true);
    expect(server.snapshot().live.some((c) => c.name === 'auth2' && c.live)).toBe(false);
  });
});

describeWithPeers("RTSP authentication: an ffmpeg: channel's own source (--auth all)", ['ffmpeg', 'ffprobe'], () => {
  const { server, url } = serverForSuite({
    auth: { users, rule: 'all' },
    live: [{ name: 'gen', ffmpegArgs: ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25'] }],
  });

  it('publishes without credentials; readers need them; a user with credentials may not take the channel over', async () => {
    // DESCRIBE waits for the source: the channel is up only if its ffmpeg got past --auth all.
    const probe = await ffprobe(withCreds(url('live/gen'), 'alice', PASSWORD), 'tcp');
    expectSuccess(probe, 'ffprobe of the ffmpeg-fed channel');
    expect(probe.stdout).toMatch(/h264/);
    expect(server.snapshot().live.find((c) => c.name === 'gen')).toMatchObject({ source: 'ffmpeg', live: true });
    expect(failures().filter((l) => l.method === 'ANNOUNCE')).toEqual([]);

    const anonymous = await ffprobe(url('live/gen'), 'tcp');
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(/401|Unauthorized/i);

    // Credentials are not the channel's source: ANNOUNCE is refused (403), the channel stays.
    const intruder = await publish(withCreds(url('live/gen'), 'alice', PASSWORD));
    expect(intruder.code).not.toBe(0);
    expect(intruder.stderr).toMatch(/403|Forbidden/i);
  }, 60_000);
});

describeWithPeers('RTSP authentication: our receiver against our server', [], () => {
  const { url } = serverForSuite({ auth: { users, rule: 'all' } });

  it.each(['udp', 'tcp'] as const)(
    'over %s: plays with the right password (SHA-256); the password is in no log line',
    async (transport) => {
      const r = await play(withCreds(url(), 'alice', PASSWORD), { transport, durationSec: 1 });
      expect(r.end).toEqual({ ok: true, reason: 'duration' });
      expect(Object.values(r.units).every((n) => n > 0)).toBe(true);
      // DESCRIBE was answered 401 once, then signed (the retry happens inside the connection).
      expect(logs.filter((l) => l.msg === 'credentials asked for' && l.method === 'DESCRIBE')).toHaveLength(1);
      expect(logs.some((l) => JSON.stringify(l).includes(PASSWORD))).toBe(false);
      expect(logs.some((l) => l.msg === 'authenticating' && l.algorithm === 'SHA-256')).toBe(true);
    },
  );

  it('a wrong password ends with the 401, retried once only', async () => {
    const r = await play(withCreds(url(), 'alice', 'wrong'), { transport: 'tcp' });
    expect(r.end.ok).toBe(false);
    expect(!r.end.ok && r.end.reason).toMatch(/401 Unauthorized: the server refused the credentials/);
    expect(r.session.requests.DESCRIBE).toBe(1);
    expect(failures()).toHaveLength(1);
  });
});

describeWithGstreamer(
  'RTSP authentication: our receiver against GStreamer’s RTSP server',
  ['rtph264pay', 'rtpmp4gpay', 'qtdemux'],
  [],
  () => {
    const servers: PeerServer[] = [];
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.stop()));
    });

    it.each([
      ['Digest', []],
      ['Basic', ['--auth-basic']],
    ] as const)('%s: plays with the right password, fails with a wrong one', async (_scheme, extra) => {
      const gst = await startGstRtspServer(SAMPLE, '/sample.mp4', ['--auth', `alice:${PASSWORD}`, ...extra]);
      servers.push(gst);
      const ok = await play(withCreds(gst.url, 'alice', PASSWORD), { transport: 'tcp', durationSec: 1 });
      expect(ok.end, gst.log()).toEqual({ ok: true, reason: 'duration' });
      expect(Object.values(ok.units).every((n) => n > 0)).toBe(true);
      const bad = await play(withCreds(gst.url, 'alice', 'wrong'), { transport: 'tcp' });
      expect(!bad.end.ok && bad.end.reason).toMatch(/401/);
      const none = await play(gst.url, { transport: 'tcp' });
      expect(!none.end.ok && none.end.reason).toMatch(/401 Unauthorized: the server requires credentials/);
    });
  },
);
