import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { ExperimentError, IMPAIRMENT_SCOPE, experimentFromFlags, loadExperiment, loadTraces, runExperiment } from '../lab/index.ts';
import type { Experiment, RunMode } from '../lab/index.ts';
import { setLogLevel } from '../util/log.ts';

interface LabFlags {
  netem: string[];
  rtcpNetem?: string;
  returnNetem?: string;
  sharedLink?: boolean;
  jitterBuffer: string[];
  transport: string[];
  media: string;
  mediaDir: string;
  runs: number;
  seed: number;
  duration: number;
  start: number;
  out?: string;
  fast?: boolean;
  realtime?: boolean;
  parallel: number;
  quality: boolean;
  traceOffset?: 'seeded' | 0;
  verbose?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function positiveInt(name: string, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name}: expected an integer in 1..${max}`);
    return n;
  };
}

function nonNegative(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number ≥ 0');
  return n;
}

function traceOffsetMode(v: string): 'seeded' | 0 {
  if (v === 'seeded') return 'seeded';
  if (v === '0') return 0;
  throw new InvalidArgumentError('expected "seeded" (an offset per run, track and direction from the seed) or 0 (from the start)');
}

export function registerLab(program: Command): void {
  program
    .command('lab')
    .description('run loss/jitter experiments: server + netem impairment + receiver, many runs → results.json/csv, plots, index.html')
    .argument('[experiment]', 'experiment file (.json, .yaml); without it, the one-off flags below')
    .option('--netem <args>', 'netem words, e.g. "loss gemodel 2% 30%" (repeat for a matrix)', collect, [])
    .option('--rtcp-netem <args>', "netem words for the server's RTCP to the receiver (SR, BYE), per track; default: not impaired")
    .option('--return-netem <args>', "netem words for the receiver's RTCP to the server (RR, BYE), per track; default: not impaired")
    .option('--shared-link', "one bottleneck queue (--netem's link FILE, or rate with queue) for all tracks' RTP, instead of one per track")
    .option('--jitter-buffer <mode>', '"adaptive" or a fixed delay like 200ms (repeat for a matrix)', collect, [])
    .option('--transport <t>', 'udp or tcp (repeat for a matrix)', collect, [])
    .option('--media <file>', 'media file for the one-off form', 'sample.mp4')
    .option('--media-dir <dir>', 'where media names are looked up', 'media')
    .option('--runs <n>', 'repetitions (seeds seed, seed+1, ...)', positiveInt('--runs', 1000), 1)
    .option('--seed <n>', 'first seed', (v) => Number(v), 1)
    .option('--duration <s>', 'seconds of media per run', nonNegative, 10)
    .option('--start <npt>', 'start position in the media (s)', nonNegative, 0)
    .option('--out <dir>', 'output folder (default lab-results/<name>-<time>)')
    .option('--fast', 'simulated time: no sockets, a virtual clock (minutes of media in seconds)')
    .option('--realtime', 'real time over loopback (overrides the file)')
    .option(
      '--parallel <n>',
      "runs at once (keep 1 for real-time runs: parallel runs disturb each other's timing)",
      positiveInt('--parallel', 64),
      1,
    )
    .option('--no-quality', 'skip the recording and PSNR/SSIM')
    .option(
      '--trace-offset <mode>',
      'where trace/link/delaytrace files start in each run: "seeded" (default: an offset drawn from the run seed, track and direction) or 0 (from their start; overrides the file)',
      traceOffsetMode,
    )
    .option('-v, --verbose', 'log at info level')
    .action(async (file: string | undefined, flags: LabFlags) => {
      if (flags.verbose) setLogLevel('info');
      const mode: RunMode | undefined = flags.fast ? 'fast' : flags.realtime ? 'realtime' : undefined;
      let e: Experiment;
      try {
        e = file
          ? await loadExperiment(file, { mediaDir: flags.mediaDir, mode })
          : await loadTraces(
              experimentFromFlags(
                {
                  netem: flags.netem,
                  jitter: flags.jitterBuffer,
                  transport: flags.transport,
                  media: flags.media,
                  runs: flags.runs,
                  seed: flags.seed,
                  durationSec: flags.duration,
                  startNpt: flags.start,
                  mode: mode ?? 'realtime',
                  quality: flags.quality,
                  rtcpNetem: flags.rtcpNetem,
                  returnNetem: flags.returnNetem,
                  sharedLink: flags.sharedLink,
                },
                { mediaDir: flags.mediaDir, mode },
              ),
              process.cwd(),
              '--netem',
            );
      } catch (err) {
        if (err instanceof ExperimentError) throw new Error(`invalid experiment:\n${err.message}`);
        throw err;
      }
      if (flags.traceOffset !== undefined) e = { ...e, traceOffset: flags.traceOffset };
      for (const n of e.netem) {
        process.stderr.write(`lab: netem ${n.text}\n`);
        if (n.scope !== IMPAIRMENT_SCOPE) process.stderr.write(`lab:   applies to: ${n.scope}\n`);
        for (const w of n.warnings ?? []) process.stderr.write(`streamlab: warning: ${w}\n`);
      }
      const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
      const outDir = path.resolve(flags.out ?? path.join('lab-results', `${e.name}-${stamp}`));
      const abort = new AbortController();
      const onSignal = () => {
        if (abort.signal.aborted) {
          // A second Ctrl-C: stop at once (results.json holds every run finished so far).
          process.stderr.write('\nstreamlab: stopped at once; the report is not written (results.json has the finished runs)\n');
          process.exit(130);
        }
        process.stderr.write('\nstopping after the runs in progress (results so far are written; Ctrl-C again to stop at once)...\n');
        abort.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      if (e.mode === 'realtime' && flags.parallel > 1) {
        process.stderr.write(
          "note: parallel real-time runs disturb each other's timing (jitter, late loss); use --fast or --parallel 1 for clean figures\n",
        );
      }
      try {
        const out = await runExperiment(e, {
          outDir,
          parallel: flags.parallel,
          signal: abort.signal,
          quality: flags.quality ? undefined : false,
        });
        const failed = out.results.filter((r) => r.status === 'failed');
        process.stdout.write(
          `${out.results.length}/${out.planned} runs (${failed.length} failed)${out.stopped ? ', stopped early' : ''}; results in ${outDir}\n` +
            `  results.json, results.csv, index.html, ${out.plots.join(', ')}\n`,
        );
        for (const f of failed.slice(0, 10)) process.stdout.write(`  failed ${f.id}: ${f.reason}\n`);
        // 130 for a stop request (as a shell reports SIGINT), else 1 when any run failed.
        if (out.stopped) process.exitCode = 130;
        else if (failed.length > 0) process.exitCode = 1;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
