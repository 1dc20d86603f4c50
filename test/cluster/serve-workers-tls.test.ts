/**
 * `serve --workers 2` over RTSPS, as shipped: the primary hands raw TCP sockets to the least
 * loaded worker, which terminates TLS; a connection for a live channel of the other worker is
 * relayed to it decrypted. ffprobe (TCP and UDP) and our receiver play files and a live channel
 * through either worker; plain RTSP to the TLS port fails the handshake, counted, and nothing else.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ownerOf } from '../../src/cluster/affinity.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';
import { Serve } from '../helpers/serve-cli.ts';
import { REPO_ROOT, SAMPLE } from '../helpers/server.ts';
import { selfSignedCertificate } from '../helpers/tls.ts';
import { sleep } from '../helpers/wait.ts';
import { play } from '../receiver/helpers.ts';

const { cert, key } = selfSignedCertificate();

/** A live channel name worker `w` of 2 owns. */
function channelOwnedBy(w: number): string {
  for (let i = 0; ; i++) if (ownerOf(`live/ch${i}`, 2) === w) return `ch${i}`;
}

describeWithPeers('serve --workers 2 over RTSPS', ['ffprobe'], () => {
  let dir: string;
  let serve: Serve;
  // Idle workers: the least loaded is worker 0, so a channel of worker 1 is reached through a relay.
  const channel = channelOwnedBy(1);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-workers-tls-'));
    await writeFile(path.join(dir, 'cert.pem'), cert);
    await writeFile(path.join(dir, 'key.pem'), key);
    serve = await Serve.start(path.join(REPO_ROOT, 'media'), [
      '--workers',
      '2',
      '--http',
      '0',
      '--tls-cert',
      path.join(dir, 'cert.pem'),
      '--tls-key',
      path.join(dir, 'key.pem'),
      '--live',
      `${channel}=${SAMPLE}`,
    ]);
    await serve.waitLog('worker started', {}, 2);
    expect(serve.out).toMatch(/on rtsps:\/\/127\.0\.0\.1:\d+\//);
  }, 60_000);

  afterAll(async () => {
    serve.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  const ffprobe = (url: string, transport: 'tcp' | 'udp') =>
    runProgram(
      'ffprobe',
      ['-v', 'error', '-rtsp_transport', transport, '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', url],
      30_000,
    );

  it('ffprobe over TCP and UDP sees both tracks of a file and of a live channel of the other worker (relayed)', async () => {
    for (const p of ['sample.mp4', `live/${channel}`])
      for (const transport of ['tcp', 'udp'] as const) {
        const r = await ffprobe(serve.url(p), transport);
        expectSuccess(r, `ffprobe rtsps ${transport} ${p}`);
        expect(r.stdout.trim().split('\n').sort()).toEqual(['aac', 'h264']);
      }
    // The channel's viewers were served by its owner.
    const viewers = serve.find('session started', { path: `live/${channel}` });
    expect(viewers.length).toBe(2);
    for (const v of viewers) expect(v.worker).toBe(1);
  });

  it('our receiver plays a file and the relayed live channel over TCP and UDP, trusting the certificate as its CA', async () => {
    // Two at once: the second connection goes to the other worker (the least loaded).
    for (const transport of ['tcp', 'udp'] as const) {
      const [file, live] = await Promise.all([
        play(serve.url('sample.mp4'), { transport, durationSec: 2, tls: { ca: cert } }),
        play(serve.url(`live/${channel}`), { transport, durationSec: 2, tls: { ca: cert } }),
      ]);
      for (const [what, r] of [
        ['file', file],
        ['live', live],
      ] as const) {
        expect(r.end, `${what} ${transport}`).toEqual({ ok: true, reason: 'duration' });
        expect(r.units[0], `${what} ${transport}`).toBeGreaterThan(20);
        expect(r.units[1], `${what} ${transport}`).toBeGreaterThan(20);
      }
    }
    const viewers = serve.find('session started', { path: `live/${channel}` });
    expect(viewers.length).toBe(4);
    for (const v of viewers) expect(v.worker).toBe(1);
  });

  it('plain RTSP to the TLS port fails the handshake in a worker: dropped, counted in /metrics; the server goes on; no connection is left counted', async () => {
    const refusals = async () =>
      Number(
        /^streamlab_connection_refusals_total\{reason="tls_handshake"\} (\d+)$/m.exec(
          await (await fetch(`${serve.http}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    const before = await refusals();
    const s = net.connect(serve.port, '127.0.0.1');
    s.on('error', () => undefined);
    s.write(`OPTIONS rtsp://127.0.0.1:${serve.port}/ RTSP/1.0\r\nCSeq: 1\r\n\r\n`);
    await new Promise((resolve) => s.on('close', resolve));
    let after = before;
    for (let i = 0; i < 50 && after === before; i++) {
      await sleep(100);
      after = await refusals();
    }
    expect(after).toBe(before + 1);
    const r = await ffprobe(serve.url('sample.mp4'), 'tcp');
    expectSuccess(r, 'ffprobe after the failed handshake');
    // Every TLS connection, relayed or not, is told closed to the primary (its limits count them).
    let open = -1;
    for (let i = 0; i < 50 && open !== 0; i++) {
      open = Number(/^streamlab_connections (\d+)$/m.exec(await (await fetch(`${serve.http}/metrics`)).text())![1]);
      if (open !== 0) await sleep(100);
    }
    expect(open).toBe(0);
  });
});
