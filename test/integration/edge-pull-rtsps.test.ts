/**
 * An edge pulling an `rtsps://` origin checks the origin's certificate (per-run openssl
 * certificates, test/helpers/tls.ts): trusted through `pullTls.ca` (`--pull-tls-ca`), refused
 * without it or with another CA (DESCRIBE on the edge then answers 503), accepted by
 * `--pull-tls-insecure` (said at warn). On the command line: a CA file that cannot be read, or
 * both flags, stop `serve` before it listens.
 * - Per rule: two origins with certificates of different CAs behind one edge's config rules, each
 *   with its own `sourceTlsCa`: both play; a rule without one falls back to the global CA (plays
 *   the origin that CA signed, not the other); `sourceTlsInsecure: true` plays whatever the global
 *   says; a rule naming the other origin's CA is refused. A CA file that cannot be read or is no
 *   certificate is a mistake of the config file (as `config check` and `serve --config` say).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/cli/config-flags.ts';
import { serveCommand } from '../../src/cli/config.ts';
import type { RtspServer, ServerOptions } from '../../src/server/index.ts';
import { captureRtsp, sampleReference } from '../helpers/framemd5.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { REPO_ROOT, SAMPLE, startServer } from '../helpers/server.ts';
import { selfSignedCertificate } from '../helpers/tls.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

const FAST_PULL = { retryMinMs: 200, retryMaxMs: 500, downGraceMs: 6000, silenceMs: 3000 };
const ours = selfSignedCertificate();
const stranger = selfSignedCertificate();

describeWithPeers('edge: an rtsps:// origin', ['ffmpeg'], () => {
  let origin: RtspServer;
  let originUrl: string;

  beforeAll(async () => {
    ({ server: origin } = await startServer({ live: [{ name: 'news', file: SAMPLE }], tls: { cert: ours.cert, key: ours.key } }));
    originUrl = `rtsps://127.0.0.1:${origin.port}/live/news`;
  });
  afterAll(async () => {
    await origin?.close();
  });

  async function edge(pullTls?: ServerOptions['pullTls']): Promise<RtspServer> {
    return (await startServer({ live: [{ name: 'news', pull: originUrl }], pull: FAST_PULL, ...(pullTls ? { pullTls } : {}) })).server;
  }
  const pullOf = (s: RtspServer) => s.snapshot().live[0]!.pull!;

  it('with the origin certificate as its CA the edge plays it: ffmpeg on the edge decodes the sample', async () => {
    const e = await edge({ ca: ours.cert });
    try {
      await waitUntil(() => pullOf(e).playing, 20_000, 'edge playing');
      const ref = await sampleReference();
      const got = await captureRtsp(`rtsp://127.0.0.1:${e.port}/live/news`, 'tcp', 2);
      expect(got.video.length).toBeGreaterThan(20);
      expect(got.video.every((f) => ref.video.some((r) => r.hash === f.hash))).toBe(true);
    } finally {
      await e.close();
    }
  }, 60_000);

  it.each([
    ['no CA (the system trust)', undefined],
    ['another CA', { ca: stranger.cert }],
  ] as const)(
    'with %s the certificate is refused: no play, DESCRIBE on the edge answers 503',
    async (_what, tls) => {
      const e = await edge(tls);
      try {
        await waitUntil(() => pullOf(e).attempts >= 2, 10_000, 'two attempts');
        await sleep(300);
        expect(pullOf(e).plays).toBe(0);
        // The origin never saw an RTSP request from it: the handshake failed.
        expect(origin.snapshot().counters.tlsHandshakeFailures).toBeGreaterThan(0);
        const url = `rtsp://127.0.0.1:${e.port}/live/news`;
        const c = await RtspTestClient.connect(url);
        const d = await c.request('DESCRIBE', url, { Accept: 'application/sdp' });
        c.close();
        expect(d.statusCode).toBe(503);
        expect(Number(d.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
      } finally {
        await e.close();
      }
    },
    30_000,
  );

  it('insecure accepts any certificate', async () => {
    const e = await edge({ insecure: true });
    try {
      await waitUntil(() => pullOf(e).playing && pullOf(e).relayed > 50, 20_000, 'edge playing');
    } finally {
      await e.close();
    }
  }, 30_000);
});

describeWithPeers('serve --pull-tls-ca on the command line', [], () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-pull-tls-'));
    await writeFile(path.join(dir, 'not-a-cert.pem'), 'hello\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const serve = (args: string[]) =>
    spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'streamlab.js'), 'serve', '--port', '0', '--host', '127.0.0.1', ...args], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('a missing CA file, a file that is no certificate, or both flags: exit 1 before listening', () => {
    const missing = serve(['--pull-tls-ca', path.join(dir, 'nope.pem'), 'media']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/cannot read --pull-tls-ca .*nope\.pem \(ENOENT\)/);
    const junk = serve(['--pull-tls-ca', path.join(dir, 'not-a-cert.pem'), 'media']);
    expect(junk.status).toBe(1);
    expect(junk.stderr).toMatch(/--pull-tls-ca .*not-a-cert\.pem is not a PEM certificate/);
    const both = serve(['--pull-tls-ca', path.join(dir, 'nope.pem'), '--pull-tls-insecure', 'media']);
    expect(both.status).toBe(1);
    expect(both.stderr).toContain('--pull-tls-ca and --pull-tls-insecure: give one or the other');
    expect(`${missing.stdout}${junk.stdout}${both.stdout}`).not.toContain('serving');
  });
});

describeWithPeers('edge: each config rule trusts its own origin CA', [], () => {
  const one = selfSignedCertificate();
  const two = selfSignedCertificate();
  let origins: RtspServer[];
  let dir: string;

  beforeAll(async () => {
    origins = await Promise.all(
      [one, two].map(
        async (c) => (await startServer({ live: [{ name: 'news', file: SAMPLE }], tls: { cert: c.cert, key: c.key } })).server,
      ),
    );
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-rule-ca-'));
    await writeFile(path.join(dir, 'one.pem'), one.cert);
    await writeFile(path.join(dir, 'two.pem'), two.cert);
    await writeFile(path.join(dir, 'junk.pem'), 'hello\n');
  });
  afterAll(async () => {
    for (const o of origins ?? []) await o.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function config(lines: string[]) {
    const file = path.join(dir, 'edge.yml');
    await writeFile(file, ['paths:', ...lines].join('\n'));
    return loadConfigFile(file, serveCommand());
  }

  it('two origins, two CAs: each rule plays its origin; without a CA of its own a rule uses the global one', async () => {
    const [o1, o2] = origins.map((o) => `rtsps://127.0.0.1:${o.port}/live/news`);
    const rule = (name: string, url: string, ...more: string[]) => [
      `  ${name}:`,
      `    source: ${url}`,
      '    sourceOnDemand: false',
      ...more,
    ];
    const r = await config([
      ...rule('one', o1!, '    sourceTlsCa: one.pem'),
      ...rule('two', o2!, '    sourceTlsCa: two.pem'),
      ...rule('global-two', o2!),
      ...rule('global-one', o1!),
      ...rule('any', o1!, '    sourceTlsInsecure: true'),
      ...rule('wrong', o2!, '    sourceTlsCa: one.pem'),
    ]);
    if (!r.ok) throw new Error(r.mistakes.join('\n'));
    // The global flag (--pull-tls-ca two.pem): what rules without their own setting use.
    const { server: e } = await startServer({ paths: r.config.paths, live: r.config.live, pull: FAST_PULL, pullTls: { ca: two.cert } });
    const pull = (p: string) => e.snapshot().live.find((x) => x.path === p)!.pull!;
    try {
      await waitUntil(
        () => ['one', 'two', 'global-two', 'any'].every((p) => pull(p).playing && pull(p).relayed > 20),
        20_000,
        () => `rules playing: ${JSON.stringify(e.snapshot().live.map((x) => [x.path, x.pull?.playing]))}`,
      );
      await waitUntil(() => pull('global-one').attempts >= 2 && pull('wrong').attempts >= 2, 10_000, 'refused rules retried');
      expect(pull('global-one').plays).toBe(0);
      expect(pull('wrong').plays).toBe(0);
      // A viewer of each playing rule gets media through the edge.
      for (const p of ['one', 'two']) {
        const url = `rtsp://127.0.0.1:${e.port}/${p}`;
        const c = await RtspTestClient.connect(url);
        expect((await c.describe(url)).response.statusCode).toBe(200);
        await c.setup(`${url}/trackID=1`, 'tcp');
        expect((await c.play(url)).response.statusCode).toBe(200);
        await waitUntil(() => c.tracks[0]!.rtp.length > 10, 5000, `packets of ${p}`);
        c.close();
      }
    } finally {
      await e.close();
    }
  }, 60_000);

  it('a rule CA that cannot be read or is no certificate is a mistake of the config file', async () => {
    const missing = await config(['  a:', '    source: rtsps://127.0.0.1:1/x', '    sourceTlsCa: nope.pem']);
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.mistakes).toEqual([
      expect.stringMatching(/edge\.yml: cannot read paths\.a\.sourceTlsCa .*nope\.pem \(ENOENT\)$/),
    ]);
    const junk = await config(['  a:', '    source: rtsps://127.0.0.1:1/x', '    sourceTlsCa: junk.pem']);
    expect(!junk.ok && junk.mistakes).toEqual([
      expect.stringMatching(/edge\.yml: paths\.a\.sourceTlsCa .*junk\.pem is not a PEM certificate/),
    ]);
  });
});
