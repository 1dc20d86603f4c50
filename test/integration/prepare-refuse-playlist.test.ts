/**
 * Integrity of preparation with real ffprobe/ffmpeg: a playlist or concat script in the media dir
 * that names a file outside it (file:// URL, absolute path, `../`) is refused with 415 and a warn
 * line naming the format, and nothing is prepared from it; an ordinary file beside it still is.
 * Without the input guard (media/prepare/input-guard.ts) ffmpeg prepares the outside file and
 * DESCRIBE answers 200.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Preparer } from '../../src/media/prepare/index.ts';
import { probeFile } from '../../src/media/prepare/probe.ts';
import type { RtspServer } from '../../src/server/index.ts';
import { setLogSink } from '../../src/util/log.ts';
import { ffmpegMake } from '../helpers/ffmpeg.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { startServer } from '../helpers/server.ts';

describeWithPeers('preparation reads the named file only: playlists and concat scripts are refused', ['ffmpeg', 'ffprobe'], () => {
  let root: string;
  let media: string;
  let cacheDir: string;
  let secret: string;
  let server: RtspServer;
  let url: (p?: string) => string;
  const logs: string[] = [];
  let prevSink: ((line: string) => void) | undefined;

  const make = (file: string) =>
    ffmpegMake(file, ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=1', '-c:v', 'mpeg4'], 60_000);

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'streamlab-integrity-'));
    media = path.join(root, 'media');
    cacheDir = path.join(media, '.streamlab-cache');
    await mkdir(media);
    secret = path.join(root, 'outside.mkv');
    await make(secret);
    await make(path.join(media, 'normal.mkv'));
    const hls = (uri: string) => `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\n${uri}\n#EXT-X-ENDLIST\n`;
    await writeFile(path.join(media, 'evil.m3u8'), hls(`file://${secret}`));
    await writeFile(path.join(media, 'evil-abs.m3u8'), hls(secret));
    await writeFile(path.join(media, 'evil-rel.m3u8'), hls('../outside.mkv'));
    await writeFile(path.join(media, 'evil.ffconcat'), `ffconcat version 1.0\nfile '${secret}'\n`);
    await writeFile(path.join(media, 'evil.txt'), `ffconcat version 1.0\nfile '../outside.mkv'\n`);
    prevSink = setLogSink((line) => logs.push(line));
    ({ server, url } = await startServer({ mediaDir: media, preparer: new Preparer({ cacheDir }), prepareWaitMs: 20_000 }));
  });

  afterAll(async () => {
    if (prevSink) setLogSink(prevSink);
    await server?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function describeStatus(name: string): Promise<number> {
    const client = await RtspTestClient.connect(url(name));
    try {
      return (await client.describe(url(name))).response.statusCode;
    } finally {
      client.close();
    }
  }

  it.each(['evil.m3u8', 'evil-abs.m3u8', 'evil-rel.m3u8', 'evil.ffconcat', 'evil.txt'])(
    '%s: 415, the log names the refused format',
    async (name) => {
      expect(await describeStatus(name)).toBe(415);
      const warn = logs
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((r) => r.msg === 'media file refused: its format names other files' && r.path === name);
      expect(warn, logs.join('\n')).toBeDefined();
      expect(String(warn?.error)).toMatch(/PREP_ERR_REFUSED: .* format (hls|concat) refused/);
    },
  );

  it('nothing was prepared from the refused files', async () => {
    const names = await readdir(cacheDir).catch(() => [] as string[]);
    expect(names.filter((n) => n.startsWith('evil'))).toEqual([]);
  });

  it('an ordinary file beside them still prepares (200)', async () => {
    expect(await describeStatus('normal.mkv')).toBe(200);
    expect((await readdir(cacheDir)).some((n) => n.startsWith('normal.mkv-'))).toBe(true);
  });

  it('probeFile refuses the playlist before opening what it names, and still probes the outside file itself', async () => {
    await expect(probeFile(path.join(media, 'evil.m3u8'))).rejects.toMatchObject({ code: 'PREP_ERR_REFUSED' });
    expect((await probeFile(secret)).streams[0]?.codec).toBe('mpeg4');
  });
});
