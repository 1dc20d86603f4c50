import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Writable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { locate } from './locate.ts';

/**
 * An ffmpeg (or ffplay) process that reads MPEG-TS on stdin:
 * - `record`: remux without re-encoding into FILE (container from the extension: mkv, mp4, ts, ...);
 * - `decode`: decode everything and count frames per stream and decode errors (the headless check);
 * - `play`: ffplay in a window (needs a display).
 */
export type TsSinkMode = { kind: 'record'; file: string } | { kind: 'decode' } | { kind: 'play' };

export interface TsSinkResult {
  /** Frames decoded per TS stream index (decode mode). */
  frames: number[];
  decodeErrors: number;
  /** ffmpeg's warnings and errors, one line each (timestamps, decoding). */
  messages: string[];
}

const MAX_MESSAGES = 200;
const PROBLEM = /error|corrupt|concealing|non[- ]monoton|invalid|unknown timestamp|missing|discard/i;

export class FfmpegTsSink {
  private readonly input = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
  private readonly done: Promise<TsSinkResult>;
  private child: ChildProcess | undefined;

  constructor(mode: TsSinkMode) {
    const frames: number[] = [];
    const messages: string[] = [];
    let decodeErrors = 0;
    const noteLine = (line: string) => {
      if (!PROBLEM.test(line)) return;
      if (/decode|corrupt|concealing|error while/i.test(line)) decodeErrors++;
      if (messages.length < MAX_MESSAGES) messages.push(line.trim());
    };
    if (mode.kind === 'play') {
      const child = spawn('ffplay', ['-hide_banner', '-loglevel', 'warning', '-f', 'mpegts', '-i', 'pipe:0', '-autoexit'], {
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      this.child = child;
      this.input.pipe(child.stdin!);
      child.stderr!.setEncoding('utf8').on('data', (d: string) => d.split('\n').forEach(noteLine));
      this.done = new Promise((resolve, reject) => {
        child.on('error', (err) => reject(new Error(`cannot start ffplay: ${err.message}`)));
        child.on('exit', () => resolve({ frames, decodeErrors, messages }));
      });
      return;
    }
    const cmd = ffmpeg({ stdoutLines: 0 })
      .setFfmpegPath(locate('ffmpeg'))
      .input(this.input)
      .inputFormat('mpegts')
      .inputOptions(['-fflags', '+genpts'])
      .on('stderr', noteLine);
    if (mode.kind === 'record') {
      const ext = path.extname(mode.file).toLowerCase();
      cmd.outputOptions(['-map', '0', '-c', 'copy', ...(ext === '.mp4' || ext === '.mov' ? ['-bsf:a', 'aac_adtstoasc'] : [])]);
      cmd.output(mode.file);
    } else {
      // framemd5 writes one line per decoded frame: "stream, dts, pts, duration, size, hash".
      const out = new PassThrough();
      let partial = '';
      out.setEncoding('utf8').on('data', (d: string) => {
        const lines = (partial + d).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) {
          if (l.startsWith('#') || !l.trim()) continue;
          const s = Number(l.split(',')[0]);
          if (Number.isInteger(s)) frames[s] = (frames[s] ?? 0) + 1;
        }
      });
      cmd.outputOptions(['-map', '0']).format('framemd5').output(out, { end: true });
    }
    this.done = new Promise((resolve, reject) => {
      cmd.on('end', () => resolve({ frames, decodeErrors, messages }));
      cmd.on('error', (err: Error) => reject(new Error(`ffmpeg failed: ${err.message.split('\n')[0]}`)));
    });
    cmd.run();
  }

  get stdin(): Writable {
    return this.input;
  }

  write(packets: Buffer[]): void {
    for (const p of packets) this.input.write(p);
  }

  /** Ends the input and waits for the process. */
  close(): Promise<TsSinkResult> {
    this.input.end();
    return this.done;
  }

  kill(): void {
    this.child?.kill('SIGKILL');
    this.input.destroy();
  }
}
