/**
 * Helpers for the push tests: a short generated clip (so CI stays fast), free even destination
 * ports, waiting until a player's sockets are bound (or its multicast group joined) before the
 * push starts, a UDP capture, and per-frame MD5s of raw I420 video.
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ffmpegMake, lavfiTestInputs } from '../helpers/ffmpeg.ts';
import { expectSuccess, runProgram } from '../helpers/run-program.ts';
import { parseFramemd5 } from '../helpers/framemd5.ts';
import type { FrameHash } from '../helpers/framemd5.ts';
import { waitUntil } from '../helpers/wait.ts';

export const CLIP_WIDTH = 320;
export const CLIP_HEIGHT = 240;

/**
 * An H.264 (main, 2 B-frames, GOP 1 s) + AAC stereo 48 kHz MP4 of `seconds` at 25 fps, made like
 * media/sample.mp4 but small. 320x240 is a multiple of 16, so VLC's raw output needs no cropping.
 */
export async function makeClip(dir: string, seconds: number, name = `clip-${seconds}s.mp4`): Promise<string> {
  return ffmpegMake(
    path.join(dir, name),
    [
      ...lavfiTestInputs({ size: `${CLIP_WIDTH}x${CLIP_HEIGHT}`, seconds, stereo: true }),
      '-map',
      '0:v',
      '-map',
      '1:a',
      '-c:v',
      'libx264',
      '-profile:v',
      'main',
      '-preset',
      'veryfast',
      '-b:v',
      '300k',
      '-bf',
      '2',
      '-g',
      '25',
      '-keyint_min',
      '25',
      '-sc_threshold',
      '0',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-b:a',
      '64k',
      '-ac',
      '2',
      '-movflags',
      '+faststart',
      '-map_metadata',
      '-1',
      '-fflags',
      '+bitexact',
      '-flags:v',
      '+bitexact',
      '-flags:a',
      '+bitexact',
    ],
    60_000,
  );
}

/** ffmpeg's framemd5 of the clip's decoded video frames (presentation order). */
export async function videoReference(file: string): Promise<FrameHash[]> {
  const r = await runProgram(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', file, '-map', '0:v', '-f', 'framemd5', '-'],
    60_000,
  );
  expectSuccess(r, 'ffmpeg framemd5 of the clip');
  return parseFramemd5(r.stdout);
}

function bindable(port: number): Promise<dgram.Socket | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind({ port, address: '0.0.0.0', exclusive: true }, () => resolve(s));
  });
}

/** An even port P with P .. P + count - 1 free now on 0.0.0.0 (players bind there). */
export async function freeEvenPorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + 2 * Math.floor(Math.random() * 10000);
    const held: dgram.Socket[] = [];
    let ok = true;
    for (let p = base; p < base + count && ok; p++) {
      const s = await bindable(p);
      if (s) held.push(s);
      else ok = false;
    }
    for (const s of held) s.close();
    if (ok) return base;
  }
  throw new Error('no free even port run found');
}

/** UDP ports bound now (any address), from /proc/net/udp. */
function boundUdpPorts(): Set<number> {
  const ports = new Set<number>();
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const local = line.trim().split(/\s+/)[1];
    if (local) ports.add(parseInt(local.split(':')[1]!, 16));
  }
  return ports;
}

/** Waits until something has bound every port (a player opening the SDP binds the m= ports). */
export async function waitUdpBound(ports: readonly number[], timeoutMs = 20_000): Promise<void> {
  await waitUntil(
    () => {
      const bound = boundUdpPorts();
      return ports.every((p) => bound.has(p));
    },
    timeoutMs,
    () => `UDP ports ${ports.join(', ')} bound`,
    50,
  );
}

/** True when a socket on `device` has joined `group` (/proc/net/igmp, addresses in host order hex). */
export function igmpJoined(group: string, device = 'lo'): boolean {
  const hex = group
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0').toUpperCase())
    .reverse()
    .join('');
  let current = '';
  for (const line of readFileSync('/proc/net/igmp', 'utf8').split('\n').slice(1)) {
    const dev = /^\d+\s+(\S+)\s*:/.exec(line);
    if (dev) current = dev[1]!;
    else if (current === device && line.trim().startsWith(hex)) return true;
  }
  return false;
}

export interface Datagram {
  msg: Buffer;
  from: { address: string; port: number };
  atMs: number;
}

/** A socket bound on 127.0.0.1:port keeping every datagram. */
export async function capture(port: number, address = '127.0.0.1'): Promise<{ socket: dgram.Socket; got: Datagram[]; close(): void }> {
  const socket = dgram.createSocket('udp4');
  const got: Datagram[] = [];
  socket.on('message', (msg, rinfo) => got.push({ msg, from: { address: rinfo.address, port: rinfo.port }, atMs: performance.now() }));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => resolve());
  });
  return { socket, got, close: () => socket.close() };
}

/** MD5 of each frame of raw I420 video (what framemd5 hashes for decoded yuv420p frames). */
export function i420FrameHashes(raw: Buffer, width = CLIP_WIDTH, height = CLIP_HEIGHT): string[] {
  const size = (width * height * 3) / 2;
  if (raw.length % size !== 0) throw new Error(`${raw.length} bytes is not a whole number of ${width}x${height} I420 frames`);
  const out: string[] = [];
  for (let o = 0; o < raw.length; o += size)
    out.push(
      createHash('md5')
        .update(raw.subarray(o, o + size))
        .digest('hex'),
    );
  return out;
}
