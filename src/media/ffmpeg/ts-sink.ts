import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Writable } from 'node:stream';
import { locate } from './locate.ts';
import { at } from '../../util/narrow.ts';

/**
 * An ffmpeg (or ffplay) process that reads received streams on pipes:
 * - `record`: remux without re-encoding into FILE (container from the extension: mkv, mp4, ts, ...);
 * - `decode`: decode everything and count frames per stream and decode errors (the headless check);
 * - `play`: ffplay in a window (needs a display).
 *
 * Input 0 is on stdin, input i > 0 on file descriptor 2 + i. An input is MPEG-TS (our muxer's, or
 * an MP2T track's payload as it came) or raw G.711 (`mulaw`/`alaw`: no timestamps of its own, so
 * it carries an offset on the common timeline, and the process runs with `-copyts` so that every
 * input keeps the times we gave it; `outputOffsetSec` then moves the whole output back to 0).
 *
 * Children run in a process group of their own (`detached`): a Ctrl-C at the terminal goes to
 * streamlab only, which stops by closing their inputs (before, ffmpeg died of the SIGINT first
 * and its "received signal 2" exit crashed the lab).
 */
export type TsSinkMode = { kind: 'record'; file: string } | { kind: 'decode' } | { kind: 'play' };

export type SinkInput =
  | { format: 'mpegts' }
  | { format: 'mulaw' | 'alaw'; sampleRate: number; channels: number; offsetSec: number };

export interface SinkCommandOptions {
  /** Output stream indexes that carry ADTS AAC (an .mp4/.mov output needs aac_adtstoasc on them). */
  aacOutputStreams?: number[];
  /** With raw inputs: added to every output timestamp (`-output_ts_offset`). */
  outputOffsetSec?: number;
}

export interface TsSinkResult {
  /** Frames decoded per output stream index (decode mode). */
  frames: number[];
  /** Media type of each output stream as framemd5 names it (`video`, `audio`, ...; decode mode). */
  kinds: string[];
  /** Which input file and stream each output stream came from, as ffmpeg reported it. */
  outputs: { input: number; stream: number }[];
  decodeErrors: number;
  /** ffmpeg's warnings and errors, one line each (timestamps, decoding). */
  messages: string[];
}

const MAX_MESSAGES = 200;
const PROBLEM = /error|corrupt|concealing|non[- ]monoton|invalid|unknown timestamp|missing|discard/i;
/** ffmpeg's "Stream mapping:" lines: `Stream #1:0 -> #0:2 (copy)`. */
const MAPPING = /Stream #(\d+):(\d+)(?:\[[^\]]*\])?\s*->\s*#0:(\d+)/;

function inputArgs(input: SinkInput, index: number, copyts: boolean): string[] {
  const src = index === 0 ? 'pipe:0' : `pipe:${2 + index}`;
  if (input.format === 'mpegts') return ['-fflags', '+genpts', '-f', 'mpegts', '-i', src];
  const offset = copyts ? ['-itsoffset', input.offsetSec.toFixed(6)] : [];
  return ['-f', input.format, '-ar', String(input.sampleRate), '-ac', String(input.channels), ...offset, '-i', src];
}

/** The ffmpeg arguments for a recording or a decode of `inputs` (pure; tests read them). */
export function ffmpegSinkArgs(mode: Exclude<TsSinkMode, { kind: 'play' }>, inputs: readonly SinkInput[], o: SinkCommandOptions = {}): string[] {
  const copyts = inputs.some((i) => i.format !== 'mpegts');
  const args = ['-hide_banner', '-nostdin', '-nostats', '-y'];
  if (copyts) args.push('-copyts');
  inputs.forEach((input, i) => args.push(...inputArgs(input, i, copyts)));
  inputs.forEach((_, i) => args.push('-map', String(i)));
  if (copyts && o.outputOffsetSec) args.push('-output_ts_offset', o.outputOffsetSec.toFixed(6));
  if (mode.kind === 'record') {
    const ext = path.extname(mode.file).toLowerCase();
    args.push('-c', 'copy');
    if (ext === '.mp4' || ext === '.mov' || ext === '.m4a') for (const s of o.aacOutputStreams ?? []) args.push(`-bsf:${s}`, 'aac_adtstoasc');
    args.push(mode.file);
  } else {
    // framemd5 writes one line per decoded frame: "stream, dts, pts, duration, size, hash".
    args.push('-f', 'framemd5', 'pipe:1');
  }
  return args;
}

export class FfmpegTsSink {
  private readonly pipes: PassThrough[];
  private readonly bytesIn: number[];
  private done: Promise<TsSinkResult> | undefined;
  private child: ChildProcess | undefined;
  private readonly frames: number[] = [];
  private readonly kinds: string[] = [];
  private readonly outputs: { input: number; stream: number }[] = [];
  private readonly messages: string[] = [];
  private decodeErrors = 0;
  /** The last lines ffmpeg wrote, for the reason when it fails. */
  private readonly lastLines: string[] = [];

  /**
   * Starts at once unless `deferStart` (raw inputs whose offsets are not known yet): then
   * start() runs it, or close() with the inputs that got data.
   */
  constructor(
    private readonly mode: TsSinkMode,
    private inputs: SinkInput[] = [{ format: 'mpegts' }],
    private readonly options: SinkCommandOptions & { deferStart?: boolean } = {},
  ) {
    this.pipes = inputs.map(() => new PassThrough({ highWaterMark: 4 * 1024 * 1024 }));
    this.bytesIn = inputs.map(() => 0);
    if (!options.deferStart) this.start();
  }

  get started(): boolean {
    return this.done !== undefined;
  }

  /** Sets a raw input's place on the timeline (before start()). */
  setOffset(index: number, offsetSec: number): void {
    const input = this.inputs[index];
    if (input && input.format !== 'mpegts') this.inputs[index] = { ...input, offsetSec };
  }

  private noteLine = (line: string): void => {
    if (line.trim()) {
      this.lastLines.push(line.trim());
      if (this.lastLines.length > 5) this.lastLines.shift();
    }
    const m = MAPPING.exec(line);
    if (m) this.outputs[Number(m[3])] = { input: Number(m[1]), stream: Number(m[2]) };
    if (!PROBLEM.test(line)) return;
    if (/decode|corrupt|concealing|error while/i.test(line)) this.decodeErrors++;
    if (this.messages.length < MAX_MESSAGES) this.messages.push(line.trim());
  };

  /** Spawns the process with the inputs in `keep` (all by default); idempotent. */
  start(keep: (i: number) => boolean = () => true): void {
    if (this.done) return;
    const used = this.inputs.map((_, i) => i).filter(keep);
    const inputs = used.map((i) => at(this.inputs, i));
    const stdio: ('pipe' | 'ignore')[] = ['pipe', 'pipe', 'pipe', ...inputs.slice(1).map(() => 'pipe' as const)];
    const collectStderr = (child: ChildProcess) => {
      let partial = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        const lines = (partial + d).split(/\r?\n|\r/);
        partial = lines.pop() ?? '';
        lines.forEach(this.noteLine);
      });
    };
    let child: ChildProcess;
    let name = 'ffmpeg';
    if (this.mode.kind === 'play') {
      name = 'ffplay';
      if (inputs.length === 1) {
        child = spawn('ffplay', ['-hide_banner', '-loglevel', 'warning', ...inputArgs(at(inputs, 0), 0, false), '-autoexit'], { stdio: ['pipe', 'ignore', 'pipe'], detached: true });
      } else {
        // ffplay reads one input: ffmpeg joins them into NUT (timestamps kept) on a pipe to it.
        const args = ffmpegSinkArgs({ kind: 'record', file: 'pipe:1' }, inputs, this.options);
        args.splice(args.length - 1, 0, '-f', 'nut');
        const mux = spawn(locate('ffmpeg'), args, { stdio, detached: true });
        collectStderr(mux);
        child = spawn('ffplay', ['-hide_banner', '-loglevel', 'warning', '-f', 'nut', '-i', 'pipe:0', '-autoexit'], { stdio: ['pipe', 'ignore', 'pipe'], detached: true });
        mux.stdout!.pipe(child.stdin!);
        used.forEach((i, k) => at(this.pipes, i).pipe((k === 0 ? mux.stdin : mux.stdio[2 + k]) as Writable));
        child.on('exit', () => mux.kill('SIGTERM'));
        this.child = child;
        collectStderr(child);
        this.done = this.waitFor(child, name);
        return;
      }
    } else {
      child = spawn(locate('ffmpeg'), ffmpegSinkArgs(this.mode, inputs, this.options), { stdio, detached: true });
      if (this.mode.kind === 'decode') {
        let partial = '';
        child.stdout!.setEncoding('utf8').on('data', (d: string) => {
          const lines = (partial + d).split('\n');
          partial = lines.pop() ?? '';
          for (const l of lines) {
            const kind = /^#media_type (\d+): (\w+)/.exec(l);
            if (kind) this.kinds[Number(kind[1])] = kind[2]!;
            if (l.startsWith('#') || !l.trim()) continue;
            const s = Number(l.split(',')[0]);
            if (Number.isInteger(s)) this.frames[s] = (this.frames[s] ?? 0) + 1;
          }
        });
      } else {
        child.stdout!.resume();
      }
    }
    this.child = child;
    collectStderr(child);
    used.forEach((i, k) => {
      const target = (k === 0 ? child.stdin : child.stdio[2 + k]) as Writable;
      // A process that exits early (an error) closes its pipes: that is reported by its exit status.
      target.on('error', () => undefined);
      at(this.pipes, i).pipe(target);
    });
    // Outputs are numbered by ffmpeg per input file it was given; report them by our input index.
    this.done = this.waitFor(child, name).then((r) => ({ ...r, outputs: r.outputs.map((o) => ({ input: used[o.input] ?? o.input, stream: o.stream })) }));
  }

  private waitFor(child: ChildProcess, name: string): Promise<TsSinkResult> {
    return new Promise((resolve, reject) => {
      child.on('error', (err) => reject(new Error(`cannot start ${name}: ${err.message}`)));
      child.on('exit', (code, signal) => {
        const result = { frames: this.frames, kinds: this.kinds, outputs: this.outputs, decodeErrors: this.decodeErrors, messages: this.messages };
        if (code === 0 || name === 'ffplay') return resolve(result);
        const last = this.messages.at(-1) ?? this.lastLines.at(-1) ?? `exit status ${code ?? signal}`;
        reject(new Error(`${name} failed: ${last}`));
      });
    });
  }

  get stdin(): Writable {
    return at(this.pipes, 0);
  }

  write(packets: Buffer[]): void {
    for (const p of packets) this.writeInput(0, p);
  }

  writeInput(index: number, data: Buffer): void {
    this.bytesIn[index] = (this.bytesIn[index] ?? 0) + data.length;
    at(this.pipes, index).write(data);
  }

  /** Ends the inputs and waits for the process (started now with the inputs that got data, if deferred). */
  close(): Promise<TsSinkResult> {
    if (!this.done) {
      const any = this.bytesIn.some((n) => n > 0);
      this.start((i) => !any || at(this.bytesIn, i) > 0);
    }
    for (const p of this.pipes) p.end();
    return this.done!;
  }

  kill(): void {
    this.child?.kill('SIGKILL');
    for (const p of this.pipes) p.destroy();
  }
}
