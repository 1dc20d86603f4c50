import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { CountingSink, PlaySession, TsOutputSink, StatsSeries, describeError, statusLine, trackStats } from '../receiver/index.ts';
import type { JitterSettings, PlayEnd, Sink, SinkResult } from '../receiver/index.ts';
import { tryLocate } from '../media/ffmpeg/index.ts';
import { setLogLevel } from '../util/log.ts';

interface PlayFlags {
  tcp?: boolean;
  duration?: number;
  start?: number;
  record?: string;
  null?: boolean;
  player?: string;
  statsJson?: string;
  jitterBuffer: string;
  waitKeyframe?: boolean;
  udpFallback: number;
  timeout: number;
  verbose?: boolean;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds ≥ 0');
  return n;
}

/** `--jitter-buffer adaptive` or a fixed delay (`200`, `200ms`). */
export function parseJitterBuffer(value: string): JitterSettings {
  if (value === 'adaptive') return { mode: 'adaptive' };
  const m = /^(\d+(?:\.\d+)?)\s*(ms)?$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected "adaptive" or a delay in ms, e.g. 200ms');
  return { mode: 'fixed', delayMs: Number(m[1]) };
}

/** --record, --null (decode through ffmpeg when it is there, else count), or ffplay with a display. */
function chooseSink(flags: PlayFlags): Sink {
  if (flags.record) return new TsOutputSink({ kind: 'record', file: flags.record });
  const player = flags.player ?? (process.env.DISPLAY && !flags.null ? 'ffplay' : 'none');
  if (player === 'ffplay' && !flags.null) return new TsOutputSink({ kind: 'play' });
  if (player !== 'none' && player !== 'ffplay') throw new InvalidArgumentError(`--player: unknown player ${player}`);
  return tryLocate('ffmpeg') ? new TsOutputSink({ kind: 'decode' }) : new CountingSink();
}

export function registerPlay(program: Command): void {
  program
    .command('play')
    .description('receive an RTSP presentation: jitter buffer, RTCP receiver reports, statistics, playback or recording')
    .argument('<url>', 'rtsp://HOST:PORT/PATH')
    .option('--tcp', 'RTP interleaved in the RTSP connection instead of UDP')
    .option('--duration <s>', 'stop after this many seconds', seconds)
    .option('--start <npt>', 'start at this position (seconds)', seconds)
    .option('--record <file>', 'write the received streams without re-encoding (.mkv, .mp4, .ts, ...)')
    .option('--null', 'decode and count frames and decode errors, no output (the default without a display)')
    .option('--player <name>', 'ffplay (default when DISPLAY is set) or none')
    .option('--stats-json <file>', 'write the per-second series and the totals as JSON')
    .option('--jitter-buffer <mode>', '"adaptive" or a fixed delay in ms', 'adaptive')
    .option('--wait-keyframe', 'after video loss, drop frames until the next keyframe')
    .option('--udp-fallback <s>', 'switch to TCP when no RTP arrives over UDP within this time (0: never)', seconds, 5)
    .option('--timeout <s>', 'give up when the server sends nothing for this long', seconds, 10)
    .option('-v, --verbose', 'log at info level')
    .action(async (url: string, flags: PlayFlags) => {
      if (flags.verbose) setLogLevel('info');
      const sink = chooseSink(flags);
      const series = new StatsSeries();
      const tty = process.stderr.isTTY === true;
      const session = new PlaySession({
        url,
        transport: flags.tcp ? 'tcp' : 'udp',
        udpFallbackMs: flags.udpFallback * 1000,
        startNpt: flags.start,
        durationSec: flags.duration,
        jitter: parseJitterBuffer(flags.jitterBuffer),
        waitKeyframe: flags.waitKeyframe === true,
        idleTimeoutMs: flags.timeout * 1000,
        onTracks: (tracks) => void sink.open(tracks),
        onUnit: (u) => sink.write(u),
      });
      const started = performance.now();
      const ticker = setInterval(() => {
        series.sample(session, Math.round((performance.now() - started) / 100) / 10);
        if (tty) process.stderr.write(`\r\x1b[2K${statusLine(session, series)}`);
      }, 1000);
      const onSignal = () => session.stop();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let end: PlayEnd;
      let sinkResult: SinkResult | undefined;
      try {
        end = await session.run();
      } finally {
        clearInterval(ticker);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        if (tty) process.stderr.write('\n');
      }
      try {
        sinkResult = await sink.close();
      } catch (err) {
        end = { ok: false, reason: `output failed: ${describeError(err)}` };
      }
      series.sample(session, Math.round((performance.now() - started) / 100) / 10);
      const totals = {
        url,
        transport: session.transportUsed,
        end,
        durationSec: (performance.now() - started) / 1000,
        tracks: trackStats(session),
        sink: sinkResult,
        counters: session.counters,
      };
      if (flags.statsJson) await writeFile(flags.statsJson, JSON.stringify({ totals, series: series.samples }, null, 2));
      for (const t of totals.tracks) {
        process.stdout.write(
          `track ${t.track} ${t.media} ${t.codec}: ${t.packets} packets, ${t.units} units, lost ${t.lost}, late ${t.late}, ` +
            `jitter ${t.jitterMs.toFixed(2)} ms, playout delay ${t.playoutDelayMs.toFixed(0)} ms` +
            (sinkResult?.decodedFrames ? `, decoded ${sinkResult.decodedFrames[t.track] ?? 0} frames` : '') +
            '\n',
        );
      }
      if (sinkResult?.decodeErrors) process.stdout.write(`decode errors: ${sinkResult.decodeErrors}\n`);
      if (!end.ok) throw new Error(end.reason);
    });
}
