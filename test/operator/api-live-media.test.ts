/**
 * Issue 12: the operator's API over real HTTP beside a real server and real clients (ffmpeg,
 * ffprobe): the media directory listed with tracks and durations (MP4 by our reader, MKV by
 * ffprobe), live channels started from a file (looped, or once) and stopped (the viewer gets BYE
 * and ffmpeg ends; an ffmpeg: source's ffmpeg is stopped for good), every bad request and limit
 * answered with its status as JSON (DNS rebinding's Host and a cross-site Origin included, on the
 * WebSocket too), and /metrics counting it all: requests by method and status, refusals by
 * reason, preparations, traffic, live channels.
 */
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegMake, ffprobeCodecs } from '../helpers/ffmpeg.ts';
import { describeWithPeers } from '../helpers/peers.ts';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';
import { SAMPLE } from '../helpers/server.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';
import { background, getJson, metricValue, operatorForSuite, rawRequest } from './helpers.ts';

const MAX_BODY = 1024;

/** Sends `text` on a fresh connection to `port` and returns what comes back until the server closes or 2 s pass. */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let got = '';
    s.on('data', (b: Buffer) => (got += b.toString('latin1')));
    const done = () => resolve(got);
    s.on('close', done);
    s.on('error', done);
    setTimeout(() => {
      s.destroy();
    }, 2000);
  });
}

describeWithPeers("operator's API: media, live channels, bad requests, metrics", ['ffmpeg', 'ffprobe'], () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-op-'));
    await copyFile(SAMPLE, path.join(dir, 'sample.mp4'));
    for (const name of ['clip.mkv', 'short.mp4']) await ffmpegMake(path.join(dir, name), ['-i', SAMPLE, '-t', '3', '-c', 'copy'], 30_000);
    await writeFile(path.join(dir, 'notes.txt'), 'not media\n');
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const suite = serverForSuite(() => ({ mediaDir: dir, prepareWaitMs: 60_000 }));
  const { server } = suite;
  const { op } = operatorForSuite(server, { maxBodyBytes: MAX_BODY });
  const api = (p: string) => new URL(p, op().url).toString();
  const post = (body: unknown) =>
    getJson(api('/api/live'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  it('lists the media directory with tracks and durations (MP4 natively, MKV through ffprobe)', async () => {
    // The preparation (and its cache folder) first: DESCRIBE of the MKV.
    const probe = await ffprobeCodecs(suite.url('clip.mkv'), { timeoutMs: 60_000 });
    expectSuccess(probe, 'ffprobe of the prepared clip.mkv');
    const { status, body } = await getJson(api('/api/media'));
    expect(status).toBe(200);
    const listing = body as {
      files: { path: string; durationSec?: number; served: string; tracks: { kind: string; codec: string; durationSec?: number }[] }[];
      truncated: boolean;
    };
    expect(listing.truncated).toBe(false);
    expect(listing.files.map((f) => f.path)).toEqual(['clip.mkv', 'notes.txt', 'sample.mp4', 'short.mp4']);
    const [clip, notes, sample] = listing.files;
    expect(sample).toMatchObject({ served: 'native' });
    expect(sample!.durationSec).toBeCloseTo(20, 1);
    expect(sample!.tracks.map((t) => `${t.kind}:${t.codec}`)).toEqual(['video:h264', 'audio:aac']);
    for (const t of sample!.tracks) expect(t.durationSec).toBeGreaterThan(19);
    expect(clip).toMatchObject({ served: 'prepared' });
    expect(clip!.durationSec).toBeGreaterThan(2.5);
    expect(clip!.durationSec).toBeLessThan(3.6);
    expect(clip!.tracks.map((t) => `${t.kind}:${t.codec}`)).toEqual(['video:h264', 'audio:aac']);
    expect(notes).toMatchObject({ served: 'none', tracks: [] });
  });

  it('starts a looped channel from a file, refuses bad ones, and stops it: its viewer gets BYE', async () => {
    const created = await post({ name: 'op1', file: 'sample.mp4' });
    expect(created).toMatchObject({ status: 201, body: { name: 'op1', loop: true, url: suite.url('live/op1') } });
    const probe = await ffprobeCodecs(suite.url('live/op1'));
    expect(probe.stdout.trim().split('\n')).toEqual(['h264', 'aac']);
    const listed = (await getJson(api('/api/live'))).body as { channels: { name: string; live: boolean; source: string }[] };
    expect(listed.channels).toEqual([expect.objectContaining({ name: 'op1', live: true, source: 'file' })]);
    expect((await getJson(api('/api/live/op1'))).body).toMatchObject({ name: 'op1', live: true });
    const refused = async (body: unknown, status: number) => {
      const r = await post(body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.body).toEqual(expect.objectContaining({ error: expect.any(String) }));
    };
    await refused({ name: 'op1', file: 'sample.mp4' }, 409);
    await refused({ name: 'op2', file: '../package.json' }, 404);
    await refused({ name: 'op2', file: 'nothing.mp4' }, 404);
    await refused({ name: 'op2', file: '.streamlab-cache' }, 404);
    await refused({ name: 'a/b', file: 'sample.mp4' }, 400);
    await refused({ name: 'op2', file: 'notes.txt' }, 422);
    await refused({ name: 'op2' }, 400);
    await refused({ name: 'op2', file: 'sample.mp4', loop: 'yes' }, 400);
    await refused([1, 2], 400);
    expect((await getJson(api('/api/live'))).body).toEqual({ channels: [expect.objectContaining({ name: 'op1' })] });

    const viewer = background('ffmpeg', [
      '-nostdin',
      '-v',
      'error',
      '-rtsp_transport',
      'tcp',
      '-i',
      suite.url('live/op1'),
      '-t',
      '40',
      '-f',
      'null',
      '-',
    ]);
    try {
      await waitUntil(
        () => server.sessionList().some((s) => s.kind === 'live-viewer' && s.state === 'playing'),
        20_000,
        'the viewer playing op1',
      );
      // Long enough for ffmpeg to see a keyframe (a channel is joined mid-GOP).
      await sleep(2500);
      const stopped = await getJson(api('/api/live/op1'), { method: 'DELETE' });
      expect(stopped).toMatchObject({ status: 200, body: { stopped: 'op1' } });
      expect(server.sessionList()).toEqual([]);
      // BYE ends ffmpeg's input: it stops well before its 40 s.
      const code = await Promise.race([viewer.exited, sleep(15_000).then(() => 'still running')]);
      expect(code, viewer.stderr()).not.toBe('still running');
    } finally {
      viewer.stop();
    }
    expect((await getJson(api('/api/live/op1'))).status).toBe(404);
    expect(await getJson(api('/api/live/op1'), { method: 'DELETE' })).toMatchObject({
      status: 404,
      body: { error: 'no live channel op1' },
    });
  });

  it('a channel started with loop: false plays the file once and goes away', async () => {
    expect(await post({ name: 'once', file: 'clip.mkv', loop: false })).toMatchObject({ status: 422 });
    // clip.mkv is not MP4: a live channel takes MP4/MOV files (read natively). A 3 s MP4 once:
    const t0 = Date.now();
    expect(await post({ name: 'once', file: 'short.mp4', loop: false })).toMatchObject({ status: 201, body: { loop: false } });
    expect(server.snapshot().live.find((c) => c.name === 'once')).toMatchObject({ live: true });
    await waitUntil(() => !server.snapshot().live.some((c) => c.name === 'once'), 15_000, 'the channel gone at the end of its file');
    expect(Date.now() - t0).toBeGreaterThan(2500);
  });

  it('answers every bad request and limit with its status, as JSON, and the WebSocket upgrade never throws', async () => {
    const port = op().port;
    const json = { 'Content-Type': 'application/json' };
    expect(
      (await rawRequest(port, { method: 'POST', path: '/api/live', headers: { 'Content-Type': 'text/plain' }, body: '{}' })).status,
    ).toBe(415);
    const tooBig = await rawRequest(port, {
      method: 'POST',
      path: '/api/live',
      headers: json,
      body: JSON.stringify({ name: 'x', file: 'y'.repeat(MAX_BODY) }),
    });
    expect(tooBig.status).toBe(413);
    expect(JSON.parse(tooBig.body)).toEqual({ error: `body larger than ${MAX_BODY} bytes` });
    // A body that says nothing of its length (chunked) is bounded too.
    const chunked = await rawExchange(
      port,
      `POST /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `${(2 * MAX_BODY).toString(16)}\r\n${'x'.repeat(2 * MAX_BODY)}\r\n0\r\n\r\n`,
    );
    expect(chunked).toMatch(/^HTTP\/1\.1 413 /);
    expect((await rawRequest(port, { method: 'POST', path: '/api/live', headers: json, body: '{nope' })).status).toBe(400);
    const unknown = await rawRequest(port, { path: '/api/nothing' });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toEqual({ error: 'no /api/nothing' });
    const wrong = await rawRequest(port, { method: 'PUT', path: '/api/sessions' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET');
    // Malformed percent-encodings are unknown ids, not exceptions.
    for (const p of ['/api/sessions/%E0%A4%A', '/api/live/%ZZ', '/api/sessions/%']) {
      const r = await rawRequest(port, { method: 'DELETE', path: p });
      expect(r.status, p).toBe(404);
      expect(JSON.parse(r.body)).toEqual({ error: expect.any(String) });
    }
    // A request target that is no path.
    expect(await rawExchange(port, 'GET * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 [^]*bad request target/);
    // DNS rebinding: a Host that is not this machine; a cross-site page's Origin.
    expect((await rawRequest(port, { path: '/api/sessions', headers: { Host: 'evil.example' } })).status).toBe(421);
    expect((await rawRequest(port, { path: '/api/sessions', headers: { Host: `localhost:${port}` } })).status).toBe(200);
    const cross = await rawRequest(port, { method: 'DELETE', path: '/api/sessions/x', headers: { Origin: 'http://evil.example' } });
    expect(cross.status).toBe(403);
    const same = await rawRequest(port, { method: 'DELETE', path: '/api/sessions/x', headers: { Origin: `http://127.0.0.1:${port}` } });
    expect(same.status).toBe(404);
    const upgrade = (target: string, extra: string) =>
      rawExchange(
        port,
        `GET ${target} HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`,
      );
    expect(await upgrade('/ws', 'Host: 127.0.0.1\r\nOrigin: http://evil.example\r\n')).toMatch(/^HTTP\/1\.1 403 /);
    expect(await upgrade('/ws', 'Host: evil.example\r\n')).toMatch(/^HTTP\/1\.1 421 /);
    expect(await upgrade('http://[', 'Host: 127.0.0.1\r\n')).toMatch(/^HTTP\/1\.1 404 /);
    expect(await upgrade('/ws?%ZZ', 'Host: 127.0.0.1\r\n')).toMatch(/^HTTP\/1\.1 101 /);
    expect(await upgrade('/elsewhere', 'Host: 127.0.0.1\r\n')).toMatch(/^HTTP\/1\.1 404 /);
    // Still serving.
    expect((await getJson(api('/api/sessions'))).status).toBe(200);
  });

  it('/metrics counts requests by method and status, refusals by reason, preparations, traffic and channels', async () => {
    const missing = await runProgram('ffprobe', ['-v', 'error', suite.url('nothing-here.mp4')], 30_000);
    expect(missing.code).not.toBe(0);
    // An RTSP request that does not parse.
    expect(await rawExchange(server.port, 'NONSENSE\r\n\r\n')).toMatch(/^RTSP\/1\.0 400 /);
    const r = await fetch(api('/metrics'));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    const v = (s: string) => metricValue(text, s);
    expect(v('streamlab_rtsp_requests_total{method="DESCRIBE",status="404"}')).toBe(1);
    expect(v('streamlab_rtsp_requests_total{method="DESCRIBE",status="200"}')).toBeGreaterThanOrEqual(2);
    expect(v('streamlab_rtsp_requests_total{method="TEARDOWN",status="200"}')).toBeGreaterThanOrEqual(1);
    expect(v('streamlab_rtsp_requests_total{method="-",status="400"}')).toBe(1);
    expect(text).toMatch(/^streamlab_rtsp_refusals_total\{status="404",code="SRV_ERR_[A-Z_]+"\} 1$/m);
    expect(text).toMatch(/^streamlab_rtsp_refusals_total\{status="400",code="[A-Z_]+"\} 1$/m);
    expect(v('streamlab_preparations_total{outcome="started"}')).toBe(1);
    expect(v('streamlab_preparations_total{outcome="succeeded"}')).toBe(1);
    expect(v('streamlab_preparations_total{outcome="failed"}')).toBe(0);
    expect(v('streamlab_preparations_running')).toBe(0);
    // The ffmpeg viewer of live/op1 watched for seconds (its session is over: counted all the same).
    expect(v('streamlab_sent_bytes_total{kind="live-viewer"}')).toBeGreaterThan(100_000);
    expect(v('streamlab_sent_packets_total{kind="live-viewer"}')).toBeGreaterThan(100);
    expect(v('streamlab_sessions{kind="live-viewer"}')).toBe(0);
    expect(v('streamlab_live_channels{state="all"}')).toBe(0);
    // One viewer never fills a millisecond's fan-out budget: nothing held (pacing: fanout-pacing.test.ts).
    expect(v('streamlab_live_fanout_held_packets_total')).toBe(0);
    expect(v('streamlab_live_fanout_overflows_total')).toBe(0);
    expect(v('streamlab_scheduler_run_limit_hits_total')).toBe(0);
    // The process's segmentation offload (the native sender's, when it sends): as the snapshot tells it.
    expect(v('streamlab_udp_gso_datagrams_total')).toBe(server.snapshot().gso?.segments ?? 0);
    expect(v('streamlab_udp_gso_fallbacks_total')).toBe(0);
    expect(v('streamlab_sessions_created_total')).toBe(server.snapshot().counters.sessionsCreated);
    expect(v('streamlab_connections_total')).toBe(server.snapshot().counters.connections);
    expect(v('streamlab_connection_refusals_total{reason="per_address"}')).toBe(0);
    for (const [reason, n] of [
      ['body_too_large', 2],
      ['bad_json', 1],
      ['not_json', 1],
      ['bad_body', 3],
      ['host', 2],
      ['origin', 2],
      ['bad_target', 1],
    ] as const)
      expect(v(`streamlab_operator_refusals_total{reason="${reason}"}`), reason).toBe(n);
    expect(v('streamlab_process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});

describeWithPeers("operator's API: an ffmpeg: live source", ['ffmpeg'], () => {
  const { server } = serverForSuite({ live: [{ name: 'gen', ffmpegArgs: ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10'] }] });
  const { op } = operatorForSuite(server);

  it('is stopped for good by DELETE: its ffmpeg ends and does not come back', async () => {
    await waitUntil(() => server.snapshot().live.some((c) => c.name === 'gen' && c.live), 30_000, 'the ffmpeg source live');
    expect(server.sessionList().map((s) => s.kind)).toEqual(['publisher']);
    const stopped = await getJson(new URL('/api/live/gen', op().url).toString(), { method: 'DELETE' });
    expect(stopped).toMatchObject({ status: 200, body: { stopped: 'gen' } });
    expect(server.sessionList()).toEqual([]);
    // Its ffmpeg is gone (one left running would keep its RTSP connection, or come back and publish).
    await waitUntil(() => server.snapshot().openConnections === 0, 5000, "the ffmpeg source's connection closed");
    await sleep(2000);
    expect(server.snapshot().live).toEqual([]);
    expect(server.snapshot().openConnections).toBe(0);
  });
});

describe('metrics: connections refused at a limit', () => {
  const { server } = serverForSuite({ maxConnectionsPerAddress: 1 });
  const { op } = operatorForSuite(server);

  it('counts a connection over the per-address bound under its reason', async () => {
    const first = net.connect(server.port, '127.0.0.1');
    try {
      await new Promise<void>((resolve) => first.on('connect', () => resolve()));
      await waitUntil(() => server.snapshot().openConnections === 1, 5000, 'the first connection accepted');
      // The second from the same address is closed at once.
      expect(await rawExchange(server.port, 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n')).toBe('');
      const text = await (await fetch(new URL('/metrics', op().url))).text();
      expect(metricValue(text, 'streamlab_connection_refusals_total{reason="per_address"}')).toBe(1);
      expect(metricValue(text, 'streamlab_connections')).toBe(1);
    } finally {
      first.destroy();
    }
  });
});
