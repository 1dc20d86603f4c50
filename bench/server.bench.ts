/**
 * `npm run bench`: the RTSP server under many clients (issue 2). For each client count N, a fresh
 * server process, N UDP clients joining one after another, all N held for --duration seconds;
 * prints a table of server CPU, RSS, delivered packets, loss, jitter, time to first RTP and the
 * server's event-loop delay. `--compare gst` runs the same load against GStreamer's RTSP server
 * (shared media factory) in the same run. See bench/README.md.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad } from './load-run.ts';
import type { RunResult } from './load-run.ts';
import { machineInfo } from './proc-stats.ts';
import { LEGEND, label, machineLine, perPacketTable, ratiosTable, resultsTable, rssPerSession, workersTable } from './report.ts';
import { nativeSenderError } from '../src/transport/index.ts';
import { fdBudgetError, lowRateMedia } from './scale.ts';
import { batchReadError, clientRead } from './rtp-reader.ts';
import { REPO_ROOT } from './targets.ts';
import type { Runner, SenderChoice, TargetKind, TimelineChoice, UdpPortsChoice } from './targets.ts';

const USAGE = `usage: npm run bench -- [options]
  --clients LIST     client counts 1..5000, comma-separated (default 1,10,50,100)
  --duration S       seconds all clients stay together once the last has joined (default 10)
  --stagger MS       delay between two clients joining (default 100)
  --max-ramp S       cap on the whole ramp: the stagger shrinks for large N (default 5)
  --compare gst      also run the same load against GStreamer's RTSP server (shared media), and
                     the floor: the same packets from a bare sendmmsg loop (bench/floor-process.ts)
  --floor            the floor row alone (without --compare gst)
  --gst-media LIST   GStreamer's media with --compare gst: shared (one pipeline for all clients,
                     default), per-client (a pipeline per client: each on its own timeline of the
                     file, as streamlab's file sessions are), or shared,per-client; our rows are
                     compared with the one of the same kind when it ran
  --sender LIST      streamlab's sender: native (the addon: sendmmsg for UDP, one call writing every
                     TCP connection's frames, default), js (dgram; socket.write), or native,js
  --udp-ports LIST   streamlab's server UDP ports: shared (one pair for all sessions, default),
                     per-session (a connected pair per track), or shared,per-session
  --transport LIST   udp (default), tcp (RTP interleaved in the RTSP connection), or udp,tcp:
                     TCP rows are streamlab's, compared with its UDP rows per packet
  --runner LIST      how streamlab runs: js (bundled by esbuild, plain node: as shipped, default),
                     tsx (src/ through tsx, as in development), or js,tsx for both
  --timeline LIST    what streamlab's clients play: own (the file, each session on its own timeline
                     from where its PLAY asked: a VOD server's sessions, default), shared (one looped
                     live channel of the file, joined where it is: what GStreamer's shared media
                     does), or own,shared
  --workers LIST     streamlab's worker processes (serve --workers), e.g. 1,2: each count is a row,
                     CPU and RSS summed over the primary and its workers (default 1)
  --media FILE       file to serve (default media/sample.mp4; H.264 + AAC for --compare gst);
                     low-rate: a 300 s, ~34 packets/s version for thousands of clients (made once)
  --client-processes N
                     run the load clients in N child processes (client i in process i % N), so that
                     their jitter does not include one busy process's own lag; 1 (default): in the
                     bench process, as the figures before this option
  --client-read MODE how the clients read RTP: batch (default: every 20 ms with recvmmsg,
                     each datagram with the kernel's arrival stamp, no process sleeping on the
                     sockets: arrivals exact whatever the clients' own lag, and the sender's kernel
                     wakes no client per datagram, as for clients on other machines; TCP clients'
                     connections too, from their first RTP packet, without jitter: one stamp per
                     read) or event (Node reads each datagram or segment as it comes, timed when
                     JavaScript sees it: before 12-07)
  --warmup S         a warm-up round before each measured one (default 0: none): the same clients
                     join the same way, stay S seconds and leave, so the measured round meets a
                     server V8 has compiled, as one that has run for a while (every server but the
                     floor; idle RSS is read before it)
  --rr-interval MS   mean period of each client's RTCP receiver reports (default 2000)
  --json FILE        also save the results as JSON
  --profile DIR      write a V8 CPU profile of each streamlab server process into DIR
  --node-flags FLAGS more node flags for each streamlab server process, space-separated (e.g.
                     "--perf-basic-prof" for perf, "--trace-deopt")
  --quiet            only the tables`;

function parseList(s: string): number[] {
  const out = s.split(',').map((x) => Number(x.trim()));
  if (out.some((n) => !Number.isInteger(n) || n < 1 || n > 5000)) throw new Error(`--clients wants counts 1..5000, got ${s}`);
  return out;
}

function num(s: string, name: string, min: number, max: number): number {
  const n = Number(s);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name} wants a number in ${min}..${max}, got ${s}`);
  return n;
}

/** The clients' event-loop delay p99: the bench process's, or with client hosts the worst host's. */
function clientEldP99(r: RunResult): number {
  if (!r.clientHostEld) return r.clientEld.p99Ms;
  return Math.max(...r.clientHostEld.map((e) => e?.p99Ms ?? NaN));
}

/** The server's wake-up lateness (its timer: native or Node's), as a fragment of the row's line. */
function wakeLate(r: RunResult): string {
  const w = r.serverReport?.wakeLateMs;
  if (!w) return '';
  const timer = r.serverReport?.scheduler.timer ?? '?';
  return ` wake-ups late p50/p99 ${w.p50.toFixed(2)}/${w.p99.toFixed(2)} ms (${timer} timer),`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string', default: '1,10,50,100' },
      duration: { type: 'string', default: '10' },
      stagger: { type: 'string', default: '100' },
      'max-ramp': { type: 'string', default: '5' },
      compare: { type: 'string' },
      media: { type: 'string', default: 'media/sample.mp4' },
      runner: { type: 'string', default: 'js' },
      sender: { type: 'string', default: 'native' },
      transport: { type: 'string', default: 'udp' },
      'udp-ports': { type: 'string', default: 'shared' },
      workers: { type: 'string', default: '1' },
      timeline: { type: 'string', default: 'own' },
      'gst-media': { type: 'string', default: 'shared' },
      floor: { type: 'boolean', default: false },
      'rr-interval': { type: 'string', default: '2000' },
      warmup: { type: 'string', default: '0' },
      'client-processes': { type: 'string', default: '1' },
      'client-read': { type: 'string', default: 'batch' },
      json: { type: 'string' },
      profile: { type: 'string' },
      'node-flags': { type: 'string', default: '' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.compare !== undefined && values.compare !== 'gst') throw new Error(`--compare knows only gst, got ${values.compare}`);
  const counts = parseList(values.clients);
  const clientProcesses = num(values['client-processes'], '--client-processes', 1, 64);
  if (!Number.isInteger(clientProcesses)) throw new Error(`--client-processes wants a whole number, got ${clientProcesses}`);
  // With client hosts each holds its share of the clients' sockets (they inherit this process's limit).
  const fds = fdBudgetError(Math.ceil(Math.max(...counts) / clientProcesses));
  if (fds !== undefined) throw new Error(fds);
  // Client hosts and the probe are child processes: they inherit the mode (bench/rtp-reader.ts).
  if (values['client-read'] !== 'batch' && values['client-read'] !== 'event')
    throw new Error(`--client-read wants batch or event, got ${values['client-read']}`);
  process.env.STREAMLAB_BENCH_CLIENT_READ = values['client-read'];
  const readError = clientRead() === 'batch' ? batchReadError() : undefined;
  if (readError !== undefined) throw new Error(readError);
  const holdSec = num(values.duration, '--duration', 1, 600);
  const staggerMs = num(values.stagger, '--stagger', 0, 10_000);
  const maxRampSec = num(values['max-ramp'], '--max-ramp', 0, 600);
  const rrIntervalMs = num(values['rr-interval'], '--rr-interval', 100, 60_000);
  const warmupSec = num(values.warmup, '--warmup', 0, 600);
  const mediaFile = values.media === 'low-rate' ? lowRateMedia(REPO_ROOT) : path.resolve(REPO_ROOT, values.media);
  const runners = values.runner.split(',').map((x) => x.trim());
  if (runners.length === 0 || runners.some((x) => x !== 'tsx' && x !== 'js'))
    throw new Error(`--runner wants tsx, js or tsx,js, got ${values.runner}`);
  const senders = values.sender.split(',').map((x) => x.trim());
  if (senders.length === 0 || senders.some((x) => x !== 'native' && x !== 'js'))
    throw new Error(`--sender wants native, js or native,js, got ${values.sender}`);
  const udpPortsList = values['udp-ports'].split(',').map((x) => x.trim());
  if (udpPortsList.length === 0 || udpPortsList.some((x) => x !== 'shared' && x !== 'per-session'))
    throw new Error(`--udp-ports wants shared, per-session or shared,per-session, got ${values['udp-ports']}`);
  const workerCounts = values.workers.split(',').map((x) => Number(x.trim()));
  if (workerCounts.length === 0 || workerCounts.some((n) => !Number.isInteger(n) || n < 1 || n > 64))
    throw new Error(`--workers wants counts 1..64, got ${values.workers}`);
  // The primary forks its own entry as the workers, and a forked .ts file has no tsx loader.
  if (runners.includes('tsx') && workerCounts.some((n) => n > 1))
    throw new Error('--runner tsx runs one process only: pass --runner js with --workers above 1');
  const timelines = values.timeline.split(',').map((x) => x.trim());
  if (timelines.length === 0 || timelines.some((x) => x !== 'own' && x !== 'shared'))
    throw new Error(`--timeline wants own, shared or own,shared, got ${values.timeline}`);
  const gstMedia = values['gst-media'].split(',').map((x) => x.trim());
  if (gstMedia.length === 0 || gstMedia.some((x) => x !== 'shared' && x !== 'per-client'))
    throw new Error(`--gst-media wants shared, per-client or shared,per-client, got ${values['gst-media']}`);
  const transports = values.transport.split(',').map((x) => x.trim());
  if (transports.length === 0 || transports.some((x) => x !== 'udp' && x !== 'tcp'))
    throw new Error(`--transport wants udp, tcp or udp,tcp, got ${values.transport}`);
  // A row labelled native must not silently measure the js fallback (nor the floor fail late).
  const nativeMissing = nativeSenderError();
  if ((senders.includes('native') || values.compare === 'gst' || values.floor) && nativeMissing !== undefined)
    throw new Error(
      `the native sender is needed for the native and floor rows: ${nativeMissing}; or pass --sender js without --compare/--floor`,
    );
  type Target = {
    server: TargetKind;
    runner: Runner;
    sender: SenderChoice;
    transport: 'udp' | 'tcp';
    udpPorts?: UdpPortsChoice;
    workers: number;
    timeline: TimelineChoice;
  };
  const targets: Target[] = [];
  for (const transport of transports as ('udp' | 'tcp')[])
    for (const runner of runners as Runner[])
      for (const sender of senders as SenderChoice[])
        for (const udpPorts of (transport === 'udp' ? udpPortsList : ['shared']) as UdpPortsChoice[])
          for (const workers of workerCounts)
            for (const timeline of timelines as TimelineChoice[])
              targets.push({
                server: 'streamlab',
                runner,
                sender,
                transport,
                workers,
                timeline,
                ...(transport === 'udp' ? { udpPorts } : {}),
              });
  const other = { runner: 'js', sender: 'native', transport: 'udp', workers: 1, timeline: 'own' } as const;
  // GStreamer's media kinds as timelines: per-client media is a timeline per client ('own').
  if (values.compare === 'gst')
    for (const media of gstMedia) targets.push({ server: 'gst', ...other, timeline: media === 'per-client' ? 'own' : 'shared' });
  if (values.compare === 'gst' || values.floor) targets.push({ server: 'floor', ...other });
  const inProcesses =
    (clientProcesses > 1 ? `, clients in ${clientProcesses} processes` : '') +
    `, clients reading RTP ${clientRead() === 'batch' ? 'in batches with kernel arrival stamps' : 'per datagram (Node)'}` +
    (warmupSec > 0 ? `, after a ${warmupSec} s warm-up round (not the floor)` : '');
  const log = (s: string): void => {
    if (!values.quiet) process.stderr.write(`${s}\n`);
  };

  const machine = machineInfo();
  const started = new Date();
  const results: RunResult[] = [];
  for (const n of counts) {
    const stagger = n > 1 ? Math.min(staggerMs, (maxRampSec * 1000) / (n - 1)) : 0;
    for (const { server, runner, sender, transport, udpPorts, workers, timeline } of targets) {
      log(
        `bench: ${label({ server, runner, sender, transport, udpPorts, workers, timeline })}, ${n} client(s), stagger ${stagger.toFixed(0)} ms, hold ${holdSec} s${inProcesses}`,
      );
      const r = await runLoad(
        {
          server,
          runner,
          sender,
          transport,
          ...(udpPorts ? { udpPorts } : {}),
          workers,
          timeline,
          serverExecArgv: [
            ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values.profile)}`] : []),
            ...values['node-flags'].split(' ').filter((x) => x !== ''),
          ],
          mediaFile,
          clients: n,
          staggerMs: stagger,
          holdSec,
          rrIntervalMs,
          requestTimeoutMs: 10_000,
          settleMs: 500,
          warmupSec,
          clientProcesses,
        },
        log,
      );
      results.push(r);
      if (timeline === 'own' && r.mediaDurationSec !== undefined && r.rampSec + r.holdSec > r.mediaDurationSec - 0.5) {
        log(
          `  warning: ramp + hold (${(r.rampSec + r.holdSec).toFixed(1)} s) reaches the end of the media (${r.mediaDurationSec} s); lower --duration`,
        );
      }
      // The floor has no sessions: it sends to every port that joined until it is stopped.
      if (server !== 'floor' && (r.cpuAfterTeardownPct > 3 || (r.sessionsAfterTeardown ?? 0) > 0 || r.teardownsOk < r.clientsOk)) {
        log(
          `  warning: after TEARDOWN of all clients the server used ${r.cpuAfterTeardownPct.toFixed(1)} % CPU and held ${r.sessionsAfterTeardown ?? '?'} session(s), ` +
            `${r.schedulerTasksAfterTeardown ?? '?'} scheduler task(s); ${r.teardownsOk}/${r.clientsOk} TEARDOWNs answered 200`,
        );
      }
      log(
        `  CPU ${r.cpuPct.toFixed(1)} %, RSS ${r.rssPeakMB.toFixed(1)} MB, ${r.pktsPerSec.toFixed(0)} pkt/s, lost ${r.lost}/${r.expected}` +
          ` (while joining ${r.joinLost}), udp rcvbuf errors ${r.udpRcvbufErrors}, sndbuf errors ${r.udpSndbufErrors},` +
          ` server drops ${r.serverReport?.egressDropped ?? 'n/a'}, ELD p99 ${r.serverEld?.p99Ms.toFixed(1) ?? 'n/a'} ms (hold ${r.serverEldHold?.p99Ms.toFixed(1) ?? 'n/a'}),${wakeLate(r)} clients' CPU ${r.clientCpuPctHold.toFixed(0)} %` +
          `, clients' ELD p99 ${clientEldP99(r).toFixed(1)} ms`,
      );
    }
  }

  const out = [
    '',
    `streamlab server bench, ${started.toISOString()}`,
    machineLine(machine),
    `media ${path.relative(REPO_ROOT, mediaFile)}; clients joining ${staggerMs} ms apart (ramp at most ${maxRampSec} s), then all held ${holdSec} s${inProcesses}`,
    '',
    resultsTable(results),
  ];
  const ratios = ratiosTable(results);
  if (ratios) out.push('', ratios);
  const byWorkers = workersTable(results);
  if (byWorkers) out.push('', byWorkers);
  const perPacket = perPacketTable(results);
  if (perPacket) out.push('', perPacket);
  out.push('', LEGEND);
  const rcvbuf = results.reduce((a, r) => a + (Number.isFinite(r.udpRcvbufErrors) ? r.udpRcvbufErrors : 0), 0);
  if (rcvbuf > 0)
    out.push(`note: ${rcvbuf} UDP receive-buffer overflows on the host during the runs (clients or other programs fell behind)`);
  process.stdout.write(`${out.join('\n')}\n`);

  if (values.json) {
    const json = {
      started: started.toISOString(),
      machine,
      loadAvgAtEnd: machineInfo().loadAvg,
      options: {
        counts,
        holdSec,
        staggerMs,
        maxRampSec,
        rrIntervalMs,
        warmupSec,
        clientProcesses,
        media: path.relative(REPO_ROOT, mediaFile),
        targets,
      },
      results: results.map((r) => ({ ...r, rssPerSessionMB: rssPerSession(results, r) })),
    };
    writeFileSync(values.json, `${JSON.stringify(json, null, 2)}\n`);
    log(`bench: results saved to ${values.json}`);
  }
}

try {
  await main();
  process.exit(0);
} catch (e) {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
