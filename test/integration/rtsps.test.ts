/**
 * Issue 13: RTSPS, the RTSP control connection over TLS (`rtsps://`), with real peers. Our server
 * with a self-signed certificate for 127.0.0.1 made for the run (test/helpers/tls.ts): ffprobe over
 * TCP (media inside TLS) and UDP (control in TLS, RTP plain), GStreamer's rtspsrc (certificate not
 * validated), our receiver trusting the certificate as its CA, and refusing it without (one line
 * that says what to do). Basic authentication needs no --auth-basic-insecure over TLS. A client
 * speaking plain RTSP to the TLS port is dropped at the handshake and counted.
 */
import net from 'node:net';
import path from 'node:path';
import { expect, it } from 'vitest';
import { authFromFlags } from '../../src/cli/serve-auth.ts';
import { digestHa1 } from '../../src/rtsp/index.ts';
import { ffprobeCodecs } from '../helpers/ffmpeg.ts';
import { describeWithGstreamer, expectRtspsrcPlayed, rtspsrcToFakesinks } from '../helpers/gstreamer.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { expectSuccess } from '../helpers/run-program.ts';
import { REPO_ROOT } from '../helpers/server.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { selfSignedCertificate } from '../helpers/tls.ts';
import { waitUntil } from '../helpers/wait.ts';
import { play } from '../receiver/helpers.ts';

const { cert, key } = selfSignedCertificate();
const PASSWORD = 'tls-only.7';
const users = new Map([['bob', new Map([['MD5', digestHa1('MD5', 'bob', 'streamlab', PASSWORD)] as const])]]);

describeWithPeers('RTSPS: ffprobe and our receiver over TLS', ['ffprobe'], () => {
  const { server } = serverForSuite({ tls: { cert, key } });
  const url = (p = 'sample.mp4') => `rtsps://127.0.0.1:${server.port}/${p}`;

  it.each(['tcp', 'udp'] as const)('ffprobe over %s sees both tracks', async (transport) => {
    const r = await ffprobeCodecs(url(), { transport });
    expectSuccess(r, `ffprobe rtsps ${transport}`);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['aac', 'h264']);
  });

  it('our receiver plays with the certificate as its CA, over TCP and UDP', async () => {
    for (const transport of ['tcp', 'udp'] as const) {
      const r = await play(url(), { transport, durationSec: 2, tls: { ca: cert } });
      expect(r.end, transport).toEqual({ ok: true, reason: 'duration' });
      expect(r.units[0], transport).toBeGreaterThan(20);
      expect(r.units[1], transport).toBeGreaterThan(20);
    }
  });

  it('our receiver refuses a certificate it cannot trust, in one line that says what to do', async () => {
    const r = await play(url(), { transport: 'tcp', durationSec: 2 });
    expect(r.end.ok).toBe(false);
    expect(!r.end.ok && r.end.reason).toMatch(/self-signed certificate.*--tls-ca FILE, or --tls-insecure/);
  });

  it('plain RTSP to the TLS port fails the handshake: dropped and counted, the server goes on', async () => {
    const before = server.snapshot().counters.tlsHandshakeFailures;
    const s = net.connect(server.port, '127.0.0.1');
    s.on('error', () => undefined);
    s.write(`OPTIONS rtsp://127.0.0.1:${server.port}/ RTSP/1.0\r\nCSeq: 1\r\n\r\n`);
    await new Promise((resolve) => s.on('close', resolve));
    await waitUntil(() => server.snapshot().counters.tlsHandshakeFailures > before, 5000, 'handshake failure counted');
    const r = await play(url(), { transport: 'tcp', durationSec: 1, tls: { insecure: true } });
    expect(r.end).toEqual({ ok: true, reason: 'duration' });
  });
});

describeWithPeers('RTSPS: Basic authentication inside TLS', ['ffprobe'], () => {
  const { server } = serverForSuite({ tls: { cert, key }, auth: { users, rule: 'all', realm: 'streamlab', basic: true } });

  it('serve accepts --auth-basic without --auth-basic-insecure when it speaks RTSPS, and refuses it otherwise', async () => {
    const flags = { authFile: path.join(REPO_ROOT, 'missing-on-purpose'), authBasic: true };
    // Without TLS the refusal comes before the users file is read.
    await expect(authFromFlags(flags, () => undefined, false)).rejects.toThrow(/--tls-cert\/--tls-key/);
    await expect(authFromFlags(flags, () => undefined, true)).rejects.toThrow(/ENOENT|no such file/);
  });

  it('our receiver authenticates over TLS; a wrong password is refused', async () => {
    const ok = await play(`rtsps://bob:${PASSWORD}@127.0.0.1:${server.port}/sample.mp4`, {
      transport: 'tcp',
      durationSec: 1,
      tls: { ca: cert },
    });
    expect(ok.end).toEqual({ ok: true, reason: 'duration' });
    const wrong = await play(`rtsps://bob:nope@127.0.0.1:${server.port}/sample.mp4`, {
      transport: 'tcp',
      durationSec: 1,
      tls: { ca: cert },
    });
    expect(wrong.end.ok).toBe(false);
    expect(!wrong.end.ok && wrong.end.reason).toMatch(/401/);
  });
});

describeWithGstreamer('RTSPS: GStreamer rtspsrc', ['rtspsrc', 'fakesink'], [], () => {
  const { server } = serverForSuite({ tls: { cert, key } });

  it('rtspsrc plays both tracks over TLS (certificate not validated: tls-validation-flags=0)', async () => {
    const r = await rtspsrcToFakesinks(`rtsps://127.0.0.1:${server.port}/sample.mp4`, ['tls-validation-flags=0']);
    expectRtspsrcPlayed(r, 'rtspsrc rtsps');
    expect(server.snapshot().counters.sessionsCreated).toBeGreaterThanOrEqual(1);
  });
});
