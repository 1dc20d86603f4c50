import { readFile, writeFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { printNetemNotice } from './netem-notice.ts';
import { formatNetemArgs, parseNetemArgs, summarizeFates } from '../impair/index.ts';
import { loadPathTraces } from '../transport/index.ts';
import type { ImpairmentSpec } from '../transport/index.ts';
import {
  CountingSink,
  PlaySession,
  TsOutputSink,
  StatsSeries,
  describeError,
  keyboardHandler,
  statusLine,
  trackStats,
} from '../receiver/index.ts';
import type { JitterSettings, PlayEnd, Sink, SinkResult } from '../receiver/index.ts';
import { tryLocate } from '../media/ffmpeg/index.ts';
import { setLogLevel } from '../util/log.ts';
import { withoutUserinfo } from '../rtsp/index.ts';
import { parseIntOption } from './options.ts';

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
  impair?: string;
  impairSeed?: number;
  impairRtcp?: boolean;
  returnNetem?: string;
  tlsCa?: string;
  tlsInsecure?: boolean;
  verbose?: boolean;
}

/**
 * Lower bound of the adaptive jitter buffer when nobody watches live (recording, --null): there
 * latency costs nothing and a late drop loses a frame (and every frame that references it). With
 * B-frames, video's RTP timestamps (presentation times) already spread arrivals by ~100 ms around
 * the playout line, and a busy sender or receiver stalls for 100-350 ms now and then (measured
 * with six streams on two cores), so recordings wait half a second. Live playback keeps the jitter
 * buffer's own minimum.
 */
export const OFFLINE_MIN_DELAY_MS = 500;

/**
 * `--impair "<netem args>"` with `seed N` inside or `--impair-seed N` (that wins); a `trace FILE` is
 * read here. `--return-netem` alike (`flag` names it in errors).
 */
export async function impairmentFromFlags(args: string, seed: number | undefined, flag = '--impair'): Promise<ImpairmentSpec> {
  const parsed = parseNetemArgs(args);
  if (!parsed.ok) throw new Error(`${flag}: ${parsed.message}${parsed.token ? ` (at "${parsed.token}")` : ''}`);
  const traces = await loadPathTraces(parsed.value, process.cwd());
  if (!traces.ok) throw new Error(`${flag}: ${traces.message}`);
  return { config: parsed.value, seed: seed ?? parsed.value.seed ?? 1, ...traces.value, text: formatNetemArgs(parsed.value) };
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
  if (!m) throw new InvalidArgumentError(`--jitter-buffer: expected "adaptive" or a delay in ms, e.g. 200ms, got "${value}"`);
  return { mode: 'fixed', delayMs: Number(m[1]) };
}

/** True when the units go to a live window (ffplay), false for a recording or the headless check. */
function playsLive(flags: PlayFlags): boolean {
  if (flags.record || flags.null) return false;
  return (flags.player ?? (process.env.DISPLAY ? 'ffplay' : 'none')) === 'ffplay';
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
    .option('--impair <netem>', 'emulate a network on our ingress like tc netem, e.g. "loss random 10% delay 40ms 10ms"')
    .option('--impair-seed <n>', 'seed of the ingress impairment (else `seed N` in --impair, else 1)', parseIntOption(0, 2 ** 31))
    .option('--impair-rtcp', "impair the server's RTCP too (else --impair applies to RTP only)")
    .option(
      '--return-netem <netem>',
      'emulate a network on our RTCP back to the server (receiver reports, BYE), per track, e.g. "delay 50ms loss 5%"; seeded apart from --impair (same seed flag)',
    )
    .option('--tls-ca <file>', "rtsps:// URLs: the PEM CA (or self-signed certificate) to check the server's certificate against")
    .option('--tls-insecure', 'rtsps:// URLs: accept any server certificate')
    .option('-v, --verbose', 'log at info level')
    .action(async (url: string, flags: PlayFlags) => {
      if (flags.verbose) setLogLevel('info');
      const impairment =
        flags.impair !== undefined
          ? { ...(await impairmentFromFlags(flags.impair, flags.impairSeed)), rtcp: flags.impairRtcp === true }
          : undefined;
      if (flags.impair !== undefined) printNetemNotice('--impair', flags.impair);
      // The return path: its own stage per track, seeds pathSeed(seed, track, PATH_RETURN), apart from the ingress's.
      const returnImpairment =
        flags.returnNetem !== undefined ? await impairmentFromFlags(flags.returnNetem, flags.impairSeed, '--return-netem') : undefined;
      if (flags.returnNetem !== undefined) printNetemNotice('--return-netem', flags.returnNetem);
      let jitter = parseJitterBuffer(flags.jitterBuffer);
      if (jitter.mode !== 'fixed' && !playsLive(flags)) jitter = { ...jitter, minDelayMs: OFFLINE_MIN_DELAY_MS };
      const sink = chooseSink(flags);
      const series = new StatsSeries();
      const tty = process.stderr.isTTY === true;
      let sinkOpen: Promise<void> = Promise.resolve();
      let sinkOpened = false;
      const session = new PlaySession({
        url,
        transport: flags.tcp ? 'tcp' : 'udp',
        udpFallbackMs: flags.udpFallback * 1000,
        startNpt: flags.start,
        durationSec: flags.duration,
        jitter,
        waitKeyframe: flags.waitKeyframe === true,
        idleTimeoutMs: flags.timeout * 1000,
        impairment,
        returnImpairment,
        ...(flags.tlsCa || flags.tlsInsecure
          ? {
              tls: {
                ...(flags.tlsCa
                  ? { ca: await readFile(flags.tlsCa).catch(() => Promise.reject(new Error(`cannot read --tls-ca ${flags.tlsCa}`))) }
                  : {}),
                insecure: flags.tlsInsecure === true,
              },
            }
          : {}),
        // Every RTSP request (and the connect) waits at most --timeout, as the media does.
        responseTimeoutMs: flags.timeout * 1000,
        onTracks: (tracks) => {
          // A UDP → TCP fallback describes the same presentation again: the output is open already
          // (a second open would leave the first ffmpeg running, and the process would never exit).
          if (sinkOpened) return;
          sinkOpened = true;
          sinkOpen = Promise.resolve(sink.open(tracks));
          sinkOpen.catch((err: unknown) => session.stop({ ok: false, reason: `output failed: ${describeError(err)}` }));
        },
        onUnit: (u) => sink.write(u),
      });
      const started = performance.now();
      const ticker = setInterval(() => {
        series.sample(session, Math.round((performance.now() - started) / 100) / 10);
        if (tty) process.stderr.write(`\r\x1b[2K${statusLine(session, series, process.stderr.columns)}`);
      }, 1000);
      const onSignal = () => session.stop();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      // Space pauses and resumes, q or Ctrl-C stops, when stdin is a terminal.
      const keys =
        process.stdin.isTTY === true
          ? keyboardHandler(session, { onError: (err) => process.stderr.write(`\r\x1b[2K${describeError(err)}\n`) })
          : undefined;
      if (keys) {
        process.stdin.setRawMode(true);
        process.stdin.on('data', keys);
        process.stdin.resume();
      }
      let end: PlayEnd;
      let sinkResult: SinkResult | undefined;
      try {
        end = await session.run();
      } finally {
        clearInterval(ticker);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        if (keys) {
          process.stdin.off('data', keys);
          process.stdin.setRawMode(false);
          process.stdin.pause();
        }
        if (tty) process.stderr.write('\n');
      }
      try {
        // Only a stream played to its end was not cut (a recording then keeps every unit).
        sinkResult = await sink.close({ cut: !(end.ok && end.reason === 'end-of-stream') });
      } catch (err) {
        // A session that already failed keeps its own reason (ffmpeg fails too when it got nothing).
        if (end.ok) end = { ok: false, reason: `output failed: ${describeError(err)}` };
      }
      series.sample(session, Math.round((performance.now() - started) / 100) / 10);
      const totals = {
        url: withoutUserinfo(url),
        transport: session.transportUsed,
        end,
        durationSec: (performance.now() - started) / 1000,
        tracks: trackStats(session),
        sink: sinkResult,
        counters: { ...session.counters, malformedRtsp: session.malformedRtsp },
        requests: session.requests,
        impairment: impairment && {
          netem: impairment.text,
          seed: impairment.seed,
          rtcp: impairment.rtcp,
          // Ground truth per track: what the emulator did to the packets we received.
          tracks: Object.fromEntries(
            [...session.impairments].map(([track, imp]) => {
              const r = summarizeFates(imp.rtp.pipeline.fates);
              return [
                track,
                {
                  rtpPackets: r.packets,
                  rtpLost: r.lost,
                  rtpLossRate: r.lossRate,
                  ...(imp.rtcp ? { rtcpLost: summarizeFates(imp.rtcp.pipeline.fates).lost } : {}),
                },
              ];
            }),
          ),
        },
      };
      const returnPath = returnImpairment && {
        netem: returnImpairment.text,
        seed: returnImpairment.seed,
        // What the return path did to our RTCP, per track (counters: a compound packet each).
        tracks: Object.fromEntries(
          [...session.returnStages].map(([track, r]) => {
            const c = r.stage.pipeline.counters;
            return [track, { rtcpSent: c.submitted, rtcpLost: c.dropped, rtcpDelivered: c.delivered }];
          }),
        ),
      };
      if (returnPath) Object.assign(totals, { returnPath });
      if (flags.statsJson) await writeFile(flags.statsJson, JSON.stringify({ totals, series: series.samples }, null, 2));
      for (const t of totals.tracks) {
        process.stdout.write(
          `track ${t.track} ${t.media} ${t.codec}: ${t.packets} packets, ${t.units} units, lost ${t.lost}, late ${t.late}, ` +
            `jitter ${t.jitterMs.toFixed(2)} ms, buffer delay ${t.meanPlayoutDelayMs.toFixed(0)} ms (target ${t.meanTargetDelayMs.toFixed(0)} ms${t.reorderAllowanceMs > 0 ? ` incl. ${t.reorderAllowanceMs.toFixed(0)} ms for B-frame reordering` : ''})` +
            (t.rtt ? `, rtt ${t.rtt.meanMs.toFixed(1)} ms (${t.rtt.samples} XR answers)` : '') +
            (sinkResult?.decodedFrames ? `, decoded ${decodedText(sinkResult, t.track)}` : '') +
            '\n',
        );
      }
      if (sinkResult?.decodeErrors) process.stdout.write(`decode errors: ${sinkResult.decodeErrors}\n`);
      if (!end.ok) throw new Error(end.reason);
    });
}

/** `451 frames`, or per kind when a track held several (an MP2T track: `451 video + 745 audio frames`). */
export function decodedText(r: SinkResult, track: number): string {
  const byKind = Object.entries(r.decodedByKind?.[track] ?? {});
  if (byKind.length > 1) return `${byKind.map(([kind, n]) => `${n} ${kind}`).join(' + ')} frames`;
  return `${r.decodedFrames?.[track] ?? 0} frames`;
}
