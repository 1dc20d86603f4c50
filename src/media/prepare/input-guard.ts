/**
 * What ffprobe and ffmpeg may read when they prepare a file from the media directory: that file
 * alone. Two fences, both on every probe and every preparation:
 *
 * - `-protocol_whitelist file`: no network, `data:`, `subfile`, `concat:`, `crypto`, ... inputs;
 * - `-format_whitelist <every demuxer but REFUSED_DEMUXERS and devices>`: the file's own format is
 *   probed, and a playlist or script demuxer (HLS, DASH, concat, IMF, SDP, AviSynth, ...) is refused
 *   before it opens anything. Those name other files or URLs by content (`file:///etc/...`, an
 *   absolute path, `../..`); the protocol whitelist does not stop them (they read local files
 *   through `file` too), so they are never prepared, inside the media dir or not.
 *
 * The whitelist is the binary's own demuxer list (`-demuxers`) less the refused ones, so a new
 * ffmpeg keeps reading every ordinary container; a demuxer that appears under a refused name's
 * alias is refused with it.
 */
import { spawn } from 'node:child_process';

/** Demuxers that open other files, URLs or devices named by the input, or run scripts. */
export const REFUSED_DEMUXERS: ReadonlySet<string> = new Set([
  'hls',
  'applehttp',
  'dash',
  'concat',
  'imf',
  'sdp',
  'rtp',
  'rtsp',
  'sap',
  'avisynth',
  'vapoursynth',
  'lavfi',
  'dvdvideo',
  'webm_dash_manifest',
]);

/** Largest `-demuxers` listing read (ffmpeg 5 prints about 9 KB). */
const MAX_LISTING_BYTES = 256 * 1024;

export interface DemuxerEntry {
  /** Comma-separated names as listed, e.g. 'mov,mp4,m4a,3gp,3g2,mj2'. */
  names: string;
  /** Flagged as a device (ffmpeg 6+: third flag column 'd'). */
  device: boolean;
}

/**
 * The demuxers of `ffmpeg -demuxers` / `ffmpeg -devices` output (pure). Lines look like
 * ` D  mov,mp4,m4a  QuickTime / MOV` (ffmpeg 5), ` D d lavfi  ...` (ffmpeg 6+ marks devices), or
 * ` DE alsa  ...` (a device that also writes).
 */
export function parseDemuxerList(text: string): DemuxerEntry[] {
  const out: DemuxerEntry[] = [];
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^-+$/.test(l.trim()));
  for (const line of lines.slice(start + 1)) {
    const m = /^ D[E. ]([d ]?) +(\S+)/.exec(line);
    if (m) out.push({ names: m[2]!, device: m[1] === 'd' });
  }
  return out;
}

/** The `-format_whitelist` value: every listed demuxer but the refused ones and the devices (pure). */
export function formatWhitelist(demuxers: DemuxerEntry[], devices: DemuxerEntry[]): string {
  const deviceNames = new Set(devices.flatMap((d) => d.names.split(',')));
  const allowed = demuxers.filter((d) => !d.device && !d.names.split(',').some((n) => REFUSED_DEMUXERS.has(n) || deviceNames.has(n)));
  return allowed.map((d) => d.names).join(',');
}

/**
 * The demuxer named in ffprobe/ffmpeg's "not on whitelist" error (`[hls @ 0x55d...] Format not on
 * whitelist 'aa,...'`), or undefined when the text is not that error.
 */
export function refusedFormatIn(stderr: string): string | undefined {
  const m = /\[([\w,]+) @ [^\]]*\] Format not on whitelist/.exec(stderr);
  if (m) return m[1];
  return /Format not on whitelist/.test(stderr) ? 'unknown' : undefined;
}

function listing(bin: string, what: '-demuxers' | '-devices'): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['-hide_banner', what], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.length > MAX_LISTING_BYTES) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${bin} ${what} exited with ${code}`))));
  });
}

const whitelists = new Map<string, Promise<string>>();

/** Input options for `bin` (ffmpeg or ffprobe) that fence it to the one local media file; cached per binary. */
export async function guardedInputOptions(bin: string): Promise<string[]> {
  let w = whitelists.get(bin);
  if (!w) {
    w = Promise.all([listing(bin, '-demuxers'), listing(bin, '-devices')]).then(([d, v]) => {
      const list = formatWhitelist(parseDemuxerList(d), parseDemuxerList(v));
      if (list === '') throw new Error(`${bin} -demuxers listed no demuxer`);
      return list;
    });
    w.catch(() => whitelists.delete(bin));
    whitelists.set(bin, w);
  }
  return ['-protocol_whitelist', 'file', '-format_whitelist', await w];
}
