/**
 * The command line of an `ffmpeg:` live source is public (ps, /proc/PID/cmdline): it carries no
 * secret, and what it does carry (the publish URL) lets nobody else publish into the channel. The
 * server recognizes ffmpeg's own connection by its process (server/live/peer-process.ts). Before,
 * the URL held `?key=<secret>`: any local user could read it and take the channel over while
 * ffmpeg was between runs.
 */
import { readFile, readdir } from 'node:fs/promises';
import { afterEach, expect, it } from 'vitest';
import type { RtspServer } from '../../src/server/index.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { startServer } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';

/** Command lines (arguments) of this process's children running ffmpeg with `marker` in them. */
async function ffmpegChildren(marker: string): Promise<string[][]> {
  const out: string[][] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.pid) continue;
    const argv = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean);
    if (argv.some((a) => /ffmpeg/.test(a)) && argv.some((a) => a.includes(marker))) out.push(argv);
  }
  return out;
}

const SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=intruder\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\na=control:streamid=0\r\n';

describeWithPeers('ffmpeg: live source without a secret on its command line', ['ffmpeg'], () => {
  let server: RtspServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('the child cmdline holds no key, and its URL publishes nothing for anyone else', async () => {
    const marker = 'testsrc2=size=160x120:rate=25:duration=1.5';
    const s = await startServer({ live: [{ name: 'nokey', ffmpegArgs: ['-re', '-f', 'lavfi', '-i', marker] }] });
    server = s.server;
    const live = () => server!.snapshot().live.find((x) => x.name === 'nokey')!;
    await waitUntil(() => live().live, 20_000, 'ffmpeg publishing');
    const [argv] = await ffmpegChildren(marker);
    expect(argv, 'the ffmpeg child').toBeDefined();
    const publishUrl = argv!.at(-1)!;
    expect(publishUrl).toMatch(/^rtsp:\/\/127\.0\.0\.1:\d+\/live\/nokey/);
    expect(argv!.join(' ')).not.toMatch(/key=/);

    // Between two runs (the channel has no publisher): the URL from ps does not let a stranger in.
    await waitUntil(() => !live().live, 20_000, 'first run over');
    const intruder = await RtspTestClient.connect(publishUrl);
    try {
      const a = await intruder.request('ANNOUNCE', publishUrl, { 'Content-Type': 'application/sdp' }, Buffer.from(SDP));
      expect(a.statusCode).toBe(403);
    } finally {
      intruder.close();
    }
    // ffmpeg itself comes back on the same URL.
    await waitUntil(() => live().live, 20_000, 'second run live');
  }, 90_000);
});
