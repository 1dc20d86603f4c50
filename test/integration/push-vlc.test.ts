/**
 * Debian's VLC (no live555) plays the SDP `streamlab push` writes: `cvlc --demux avformat FILE.sdp`
 * run as the non-root user streamlab-vlc (VLC refuses root). Proof of decoding: VLC transcodes what
 * it decodes to raw I420 (into an AVI) and PCM (into a WAV), and every raw
 * picture's MD5 must be a frame of the source, the frames one run in order (VLC's transcoder drops
 * its very first picture and may not flush the last ones, so up to 3 are missing); its log must
 * have no decoder or packetizer error or warning, and VLC must end by itself (--play-and-exit) on
 * our BYE. (The converter "errors" VLC logs while negotiating chromas for the transcoder are not
 * decoding errors and are ignored.)
 *
 * Unicast: the pusher runs in this process and starts once VLC has bound the SDP's ports and
 * opened its input (VLC_READY).
 * Multicast: VLC's avformat demuxer joins groups on the interface of the route to the group and
 * cannot be told otherwise (its --avformat-options go to the decoders, not to the SDP demuxer), so
 * the host's lo cannot be used without a multicast route. The test therefore runs the push CLI and
 * VLC in a private network namespace (`unshare -n`, root) whose only interface is lo with a route
 * 224.0.0.0/4 dev lo: nothing on the host changes. The CLI writes the SDP, waits (--wait) until the
 * script sees VLC's join in /proc/net/igmp and VLC_READY in its log and sends SIGUSR1, then pushes with the OS's default
 * multicast interface (no --interface).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pusher } from '../../src/server/push/index.ts';
import { VLC_USER, cvlcAsVlcUser, vlcAvailable } from '../helpers/peer-servers.ts';
import { describeWithPeers, peersRequired } from '../helpers/peers.ts';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';
import type { ProgramResult } from '../helpers/run-program.ts';
import { REPO_ROOT } from '../helpers/server.ts';
import { freeEvenPorts, i420FrameHashes, makeClip, videoReference, waitUdpBound } from '../push/helpers.ts';
import { waitUntil } from '../helpers/wait.ts';

const CLIP_SECONDS = 3;
const FRAMES = CLIP_SECONDS * 25;
const MAX_MISSING_FRAMES = 3;
const BIN = path.join(REPO_ROOT, 'bin', 'streamlab.js');
/**
 * VLC's -vv line once the input is open and its demuxer reads: the push starts only then. Before
 * it VLC sets up decoders, the transcoder and runs its meta scripts without reading the sockets,
 * and under load that can take long enough for the first keyframe to overflow the socket buffer.
 */
const VLC_READY = 'successfully opened';

const withVlc = vlcAvailable();
if (!withVlc && peersRequired()) throw new Error('VLC (cvlc and the streamlab-vlc user) is required (STREAMLAB_REQUIRE_PEERS=1)');
const describeVlc = withVlc ? (t: string, fn: () => void) => describeWithPeers(t, ['ffmpeg', 'setpriv'], fn) : describe.skip;
/** The multicast case needs a private network namespace (root or CAP_SYS_ADMIN) with `ip`. */
const netnsWorks = spawnSync('unshare', ['-n', '--', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore' }).status === 0;
const itNetns = netnsWorks || peersRequired() ? it : it.skip;

/** VLC's arguments: play SDP, decode, write the pictures to OUT.avi and the sound to OUT.wav. */
function vlcArgs(sdp: string, out: string): string[] {
  return cvlcAsVlcUser([
    '-vv',
    '--avcodec-hw=none',
    '--demux',
    'avformat',
    '--play-and-exit',
    sdp,
    '--sout',
    // One muxer per stream: video into an AVI, audio into a WAV. VLC's AVI muxer writes its header
    // once its first streams are there and cannot add one later ("cannot add a new stream ... try
    // increasing sout-mux-caching", then "cannot continue streaming due to errors with codec
    // mp4a"): the audio transcoder adds its output only after it decoded the first AAC frame, and
    // a larger --sout-mux-caching did not keep it in time.
    `#duplicate{dst="transcode{vcodec=I420}:std{access=file,mux=avi,dst=${out}.avi}",select=video,` +
      `dst="transcode{acodec=s16l}:std{access=file,mux=wav,dst=${out}.wav}",select=audio}`,
  ]);
}

/** Decoder-side trouble in a VLC log (-vv): errors or warnings of decoders and packetizers, corruption. */
function decoderComplaints(log: string): string[] {
  return (
    log
      .split('\n')
      .filter((l) => /\b(decoder|packetizer) (error|warning)\b|corrupt|conceal|non-existing|no frame!/i.test(l))
      // faad says so for the AAC priming frame, which decodes to silence by design.
      .filter((l) => !/faad generic warning: decoded zero sample/.test(l))
  );
}

describeVlc('VLC plays what streamlab push sends (SDP file)', () => {
  let dir: string;
  let clip: string;
  let reference: string[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-push-vlc-'));
    await chmod(dir, 0o777); // VLC runs as another user and writes its output here
    clip = await makeClip(dir, CLIP_SECONDS);
    await chmod(clip, 0o644);
    reference = (await videoReference(clip)).map((f) => f.hash);
    expect(reference).toHaveLength(FRAMES);
  }, 90_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** VLC's decoded pictures, as indices into the source's frames. */
  async function decodedFrames(out: string): Promise<{ indices: number[]; audioPackets: number }> {
    const raw = await new Promise<Buffer>((resolve, reject) => {
      const c = spawn(
        'ffmpeg',
        ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', `${out}.avi`, '-map', '0:v', '-c', 'copy', '-f', 'rawvideo', '-'],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const chunks: Buffer[] = [];
      c.stdout.on('data', (b: Buffer) => chunks.push(b));
      c.on('error', reject);
      c.on('close', (code) =>
        code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`ffmpeg exited ${code} reading ${out}.avi`)),
      );
    });
    const probe = await runProgram(
      'ffprobe',
      ['-v', 'error', '-select_streams', 'a', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', `${out}.wav`],
      30_000,
    );
    expectSuccess(probe, 'ffprobe of the VLC output');
    return { indices: i420FrameHashes(raw).map((h) => reference.indexOf(h)), audioPackets: Number(probe.stdout.trim()) };
  }

  function expectDecoded(frames: { indices: number[]; audioPackets: number }, log: string, vlc: ProgramResult, udpCounters = '') {
    expect(vlc.timedOut, `VLC did not end on BYE:\n${log.slice(-3000)}`).toBe(false);
    // VLC's own account of a failure: its error lines (and a little context around the first).
    const errors = log.split('\n').filter((l) => /\berror\b|cannot/i.test(l) && !/converter error/i.test(l));
    expect(vlc.code, `VLC exited ${vlc.code}:\n${errors.slice(0, 40).join('\n')}`).toBe(0);
    const complaints = decoderComplaints(log);
    if (complaints.length > 0) {
      const lines = log.split('\n');
      const at = lines.indexOf(complaints[0]!);
      process.stderr.write(`VLC log around the first complaint:\n${lines.slice(Math.max(0, at - 40), at + 5).join('\n')}\n`);
    }
    expect(complaints).toEqual([]);
    const { indices } = frames;
    expect(
      indices.length,
      `VLC decoded source frames ${indices[0]}..${indices.at(-1)}; its log on lateness and drops:\n` +
        log
          .split('\n')
          .filter((l) => /late|drop|discard|overflow|too slow/i.test(l))
          .slice(0, 40)
          .join('\n') +
        (udpCounters ? `\n${udpCounters}` : ''),
    ).toBeGreaterThanOrEqual(FRAMES - MAX_MISSING_FRAMES);
    // Every picture is a source frame, in order, none skipped between the first and the last.
    expect(indices.every((i) => i >= 0)).toBe(true);
    expect(indices).toEqual(indices.map((_, k) => indices[0]! + k));
    expect(frames.audioPackets).toBeGreaterThan(0);
  }

  it('unicast to 127.0.0.1', async () => {
    const port = await freeEvenPorts(4);
    const pusher = await Pusher.open({ file: clip, to: `rtp://127.0.0.1:${port}` });
    const sdp = path.join(dir, 'unicast.sdp');
    const out = path.join(dir, 'unicast');
    await writeFile(sdp, pusher.sdp, { mode: 0o644 });
    const started = performance.now();
    const child = spawn('setpriv', vlcArgs(sdp, out), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HOME: `/home/${VLC_USER}` },
    });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      await waitUdpBound([port, port + 1, port + 2, port + 3]);
      await waitUntil(
        () => log.includes(VLC_READY),
        30_000,
        () => `VLC reading the SDP:\n${log.slice(-2000)}`,
      );
    } catch (err) {
      await pusher.stop();
      child.kill('SIGKILL');
      throw err;
    } finally {
      clearTimeout(kill);
    }
    await pusher.start();
    await pusher.done;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(timer);
    const r: ProgramResult = { code, signal: null, stdout: '', stderr: log, timedOut: code === null, wallMs: performance.now() - started };
    expectDecoded(await decodedFrames(out), log, r);
  }, 90_000);

  itNetns(
    'multicast to a 239.255/16 group, in a private network namespace with lo only',
    async () => {
      if (!netnsWorks)
        throw new Error('`unshare -n` does not work here (needs root or CAP_SYS_ADMIN): required with STREAMLAB_REQUIRE_PEERS=1');
      const port = 5004;
      const group = '239.255.77.1';
      const hex = group
        .split('.')
        .map((o) => Number(o).toString(16).padStart(2, '0').toUpperCase())
        .reverse()
        .join('');
      const sdp = path.join(dir, 'multicast.sdp');
      const out = path.join(dir, 'multicast');
      const vlcLog = path.join(dir, 'vlc-multicast.log');
      const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
      const script = [
        'set -u',
        'ip link set lo up',
        'ip route add 224.0.0.0/4 dev lo',
        `${q(process.execPath)} ${q(BIN)} push ${q(clip)} --to rtp://${group}:${port} --sdp ${q(sdp)} --wait 60 &`,
        'PUSH=$!',
        'for i in $(seq 300); do [ -s ' + q(sdp) + ' ] && break; sleep 0.1; done',
        `HOME=/home/${VLC_USER} setpriv ${vlcArgs(sdp, out).map(q).join(' ')} > ${q(vlcLog)} 2>&1 &`,
        'VLC=$!',
        `for i in $(seq 300); do grep -q ${hex} /proc/net/igmp && grep -q ${q(VLC_READY)} ${q(vlcLog)} && break; sleep 0.1; done`,
        'sleep 0.3',
        'kill -USR1 $PUSH',
        'wait $PUSH; echo "push=$?"',
        'wait $VLC; echo "vlc=$?"',
        // The namespace's own UDP counters: RcvbufErrors > 0 means VLC's socket overflowed.
        'grep "^Udp:" /proc/net/snmp',
      ].join('\n');
      const r = await runProgram('unshare', ['-n', '--', 'bash', '-c', script], 80_000);
      const log = await readFile(vlcLog, 'utf8').catch(() => '');
      expect(r.stdout, r.stderr).toContain('push=0');
      expect(r.stdout, log.slice(-3000)).toContain('vlc=0');
      expect(r.stderr).toMatch(/streamlab push .* to 239\.255\.77\.1 \(multicast, ttl 1\)/);
      expect(r.stderr).toMatch(/push ended \(end of stream\)/);
      expect(await readFile(sdp, 'utf8')).toContain(`c=IN IP4 ${group}/1\r\n`);
      const udpCounters = r.stdout
        .split('\n')
        .filter((l) => l.startsWith('Udp:'))
        .join('\n');
      expectDecoded(await decodedFrames(out), log, { ...r, code: 0 }, udpCounters);
    },
    90_000,
  );
});
