import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { MP2T_PACKET_SIZE, MP2T_PAYLOAD_TYPE, mp2tRtpmap, packetizeMp2t } from '../../codecs/index.ts';
import { locate } from '../../media/ffmpeg/index.ts';
import type { Clock } from '../../util/clock.ts';
import { createLogger } from '../../util/log.ts';
import type { PacketizedSample } from '../../sender/packetized-track.ts';
import { CHUNK_SAMPLES } from '../../sender/packetized-track.ts';
import type { PayloadFormat } from '../../sender/payload-formats.ts';
import { PushError } from './errors.ts';
import type { PushInput } from './file-input.ts';

const log = createLogger('push-live');

/** `streamlab push ffmpeg:<input args>`: the prefix that names a live source. */
export const LIVE_PREFIX = 'ffmpeg:';

/** Video and audio bitrates ffmpeg encodes a live source at (the SDP's b=AS and the RTCP share). */
const LIVE_VIDEO_KBPS = 1000;
const LIVE_AUDIO_KBPS = 128;

/** Chunks kept behind the one being filled (the stream holds its own reference anyway). */
const KEEP_CHUNKS = 2;

/** MPEG-TS over RTP (RFC 2250): static payload type 33, 90 kHz, `m=video`. */
export function mp2tFormat(bitrate: number): PayloadFormat {
  return {
    media: 'video',
    payloadType: MP2T_PAYLOAD_TYPE,
    clockRate: 90000,
    rtpmap: mp2tRtpmap(),
    fmtp: '',
    attributes: [],
    bitrate,
    packetize: () => {
      throw new Error('MP2T payloads are cut by LiveTsSource');
    },
  };
}

/**
 * A growing sequence of RTP payloads of MPEG-TS, each a "sample" stamped with its arrival time
 * (RFC 2250 §2.1: the timestamp is the target transmission time of the payload's first byte), for
 * an RtpStream that sends each as soon as it is there. Chunks exist as soon as asked for and fill
 * up; the pusher wakes the stream when samples are appended and when the source ends.
 */
export class LiveTsSource {
  readonly format: PayloadFormat;
  private readonly chunks = new Map<number, PacketizedSample[]>();
  private count = 0;
  private endCount: number | undefined;
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly maxPayloadSize: number,
    bitrate: number,
  ) {
    this.format = mp2tFormat(bitrate);
  }

  get sampleCount(): number {
    return this.endCount ?? Infinity;
  }

  chunkOf(sample: number): number {
    return Math.floor(sample / CHUNK_SAMPLES);
  }

  peekChunk(chunk: number): PacketizedSample[] | undefined {
    return this.chunks.get(chunk);
  }

  loadChunk(chunk: number): Promise<PacketizedSample[]> {
    return Promise.resolve(this.chunkArray(chunk));
  }

  /**
   * Adds transport stream bytes that arrived at media time `tSec`: whole TS packets go out in
   * payloads of up to 7; a partial packet waits for the rest. Returns the payloads added.
   */
  append(data: Buffer, tSec: number): number {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, data]) : data;
    const whole = buf.length - (buf.length % MP2T_PACKET_SIZE);
    this.pending = Buffer.from(buf.subarray(whole));
    if (whole === 0) return 0;
    const r = packetizeMp2t(buf.subarray(0, whole), { maxPayloadSize: this.maxPayloadSize });
    if (!r.ok) throw new PushError('PUSH_ERR_MEDIA', `ffmpeg's output is not MPEG-TS: ${r.message}`);
    const rtpTime = Math.round(tSec * 90000);
    for (const p of r.value) {
      const chunk = this.chunkOf(this.count);
      this.chunkArray(chunk).push({
        dtsSec: tSec,
        ptsSec: tSec,
        rtpTime,
        keyframe: false,
        payloads: [{ payload: p.payload, marker: false }],
      });
      this.count++;
      this.chunks.delete(chunk - KEEP_CHUNKS - 1);
    }
    return r.value.length;
  }

  end(): void {
    this.endCount ??= this.count;
  }

  private chunkArray(chunk: number): PacketizedSample[] {
    let c = this.chunks.get(chunk);
    if (!c) {
      c = [];
      this.chunks.set(chunk, c);
    }
    return c;
  }
}

/** Splits `-f lavfi -i "testsrc2=size=320x240"` like a shell would (quotes, no expansion). */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|([^\s"']+|["'])/g;
  let cur: string | undefined;
  let last = -1;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const piece = m[1] ?? m[2] ?? m[3] ?? '';
    // Adjacent pieces without whitespace between them form one word (a"b c"d).
    if (cur !== undefined && m.index === last) cur += piece;
    else {
      if (cur !== undefined) out.push(cur);
      cur = piece;
    }
    last = re.lastIndex;
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

export interface LiveInputOptions {
  mtu: number;
  clock: Clock;
  loop: boolean;
  startNpt?: number;
}

/**
 * A live source read through ffmpeg: `<input args>` as given (add `-re` for files and lavfi, which
 * ffmpeg otherwise reads as fast as it can), encoded to H.264 (zero latency) + AAC in MPEG-TS on
 * ffmpeg's stdout, sent as one MP2T RTP stream. ffmpeg starts when the push starts.
 */
export function openLiveInput(args: string, o: LiveInputOptions): PushInput {
  if (o.loop) throw new PushError('PUSH_ERR_RANGE', '--loop is for files, not for a live source');
  if (o.startNpt !== undefined) throw new PushError('PUSH_ERR_RANGE', '--start is for files, not for a live source');
  const inputArgs = splitArgs(args);
  if (inputArgs.length === 0)
    throw new PushError('PUSH_ERR_MEDIA', 'ffmpeg: needs input arguments, e.g. "ffmpeg:-re -f lavfi -i testsrc2"');
  const bin = locate('ffmpeg');
  const source = new LiveTsSource(o.mtu - 40, (LIVE_VIDEO_KBPS + LIVE_AUDIO_KBPS) * 1000);
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let wake = () => undefined as void;
  let fail = (_reason: string) => undefined as void;
  let closing = false;
  return {
    name: `ffmpeg ${args.replace(/[\r\n]+/g, ' ')}`,
    tracks: [{ control: 'trackID=1', format: source.format, source }],
    startPositions: () => ({ startNpt: 0, indices: [0] }),
    subscribe(w, f) {
      wake = w;
      fail = f;
    },
    begin(nowMs) {
      const ffArgs = [
        '-hide_banner',
        '-nostdin',
        '-loglevel',
        'error',
        ...inputArgs,
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-tune',
        'zerolatency',
        '-pix_fmt',
        'yuv420p',
        '-g',
        '50',
        '-b:v',
        `${LIVE_VIDEO_KBPS}k`,
        '-maxrate',
        `${LIVE_VIDEO_KBPS}k`,
        '-bufsize',
        `${2 * LIVE_VIDEO_KBPS}k`,
        '-c:a',
        'aac',
        '-b:a',
        `${LIVE_AUDIO_KBPS}k`,
        '-f',
        'mpegts',
        '-muxdelay',
        '0',
        '-muxpreload',
        '0',
        '-flush_packets',
        '1',
        'pipe:1',
      ];
      log.info('live source', { ffmpeg: bin, args: ffArgs });
      const c = spawn(bin, ffArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      let stderr = '';
      c.stderr.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString('utf8')).slice(-4000);
      });
      c.stdout.on('data', (d: Buffer) => {
        try {
          if (source.append(d, (o.clock.now() - nowMs) / 1000) > 0) wake();
        } catch (err) {
          fail(err instanceof Error ? err.message : String(err));
        }
      });
      exited = new Promise((resolve) => {
        c.on('error', (err) => {
          fail(`cannot run ffmpeg: ${err.message}`);
          resolve();
        });
        c.on('close', (code, signal) => {
          child = undefined;
          source.end();
          if (!closing && code !== 0) {
            const last = stderr.trim().split('\n').at(-1) ?? '';
            fail(`ffmpeg exited with ${code ?? signal}${last ? `: ${last}` : ''}`);
          } else {
            wake();
          }
          resolve();
        });
      });
    },
    async close() {
      closing = true;
      if (child) {
        const t = setTimeout(() => child?.kill('SIGKILL'), 3000);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(t);
      }
    },
  };
}
