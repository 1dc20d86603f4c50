/** Plain-text tables of bench results: one row per server and client count, then ours/gst ratios. */
import type { MachineInfo } from './proc-stats.ts';
import type { RunResult } from './load-run.ts';
import { at } from '../src/util/narrow.ts';
import { median } from './numbers.ts';

/** Row label: the server, and how streamlab ran when it was not as shipped. */
export function label(
  r: Pick<RunResult, 'server' | 'runner' | 'sender' | 'transport' | 'udpPorts'> & { workers?: number; timeline?: RunResult['timeline'] },
): string {
  if (r.server === 'gst') return r.timeline === 'own' ? 'gst-rtsp-server (media per client)' : 'gst-rtsp-server';
  if (r.server === 'floor') return 'floor (bare sendmmsg)';
  const how = [
    r.runner === 'tsx' ? 'tsx' : undefined,
    r.transport === 'tcp' ? (r.sender === 'js' ? 'TCP, js sender' : 'TCP') : r.sender === 'js' ? 'js sender' : undefined,
    r.udpPorts === 'per-session' ? 'per-session ports' : undefined,
    r.workers !== undefined && r.workers > 1 ? `${r.workers} workers` : undefined,
    r.timeline === 'shared' ? 'shared timeline' : undefined,
  ].filter((x) => x !== undefined);
  return how.length ? `streamlab (${how.join(', ')})` : 'streamlab';
}

function f(x: number | undefined, digits = 1): string {
  return x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => at(r, i).length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(at(widths, i)) : c.padStart(at(widths, i)))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** RSS increase per session: against the previous (smaller) run of the same server, or its idle RSS. */
export function rssPerSession(results: readonly RunResult[], r: RunResult): number {
  const prev = results.filter((x) => label(x) === label(r) && x.clients < r.clients).sort((a, b) => b.clients - a.clients)[0];
  return prev ? (r.rssPeakMB - prev.rssPeakMB) / (r.clients - prev.clients) : (r.rssPeakMB - r.rssIdleMB) / r.clients;
}

export function machineLine(m: MachineInfo): string {
  return `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memGiB} GiB, ${m.platform}, node ${m.node}; load average at start ${m.loadAvg.join(' / ')}`;
}

export function resultsTable(results: readonly RunResult[]): string {
  const header = [
    'server',
    'clients',
    'ok',
    'CPU % run/hold',
    'RSS MB idle/peak',
    '+MB/sess',
    'heap KB/sess',
    'pkt/s',
    'loss %',
    'lost (joining)',
    'audio jitter ms',
    'probe audio jitter ms',
    'video jitter ms',
    'µs/pkt',
    '1st RTP ms p50/p95',
    'ELD ms p50/p99/max (hold p99)',
    'wait %',
    'load',
  ];
  const jit = (r: RunResult, media: string): string => {
    const j = r.jitterByMedia[media];
    return j ? `${f(j.meanMs, 2)}/${f(j.medianMs, 2)}/${f(j.maxMs, 2)}` : 'n/a';
  };
  const rows = results.map((r) => [
    label(r),
    String(r.clients),
    String(r.clientsOk),
    `${f(r.cpuPct)}/${f(r.cpuPctHold)}`,
    `${f(r.rssIdleMB)}/${f(r.rssPeakMB)}`,
    f(rssPerSession(results, r), 2),
    r.heapPerSessionKB === undefined ? 'n/a' : f(r.heapPerSessionKB, 1),
    f(r.pktsPerSec, 0),
    f(r.lossPct, 3),
    `${r.lost} (${r.joinLost})`,
    jit(r, 'audio'),
    f(probeAudio(r), 2),
    jit(r, 'video'),
    f(r.cpuUsPerPacket, 2),
    `${f(r.firstRtpMedianMs, 0)}/${f(r.firstRtpP95Ms, 0)}`,
    r.serverEld
      ? `${f(r.serverEld.p50Ms, 2)}/${f(r.serverEld.p99Ms, 2)}/${f(r.serverEld.maxMs, 1)}` +
        (r.serverEldHold ? ` (${f(r.serverEldHold.p99Ms, 2)})` : '')
      : 'n/a',
    f(r.serverRunQueueWaitPct),
    f(r.loadAvg1),
  ]);
  return table(header, rows);
}

/** The probe client's audio jitter, median over the hold (NaN without a probe). */
function probeAudio(r: RunResult): number {
  return r.probe?.audio?.jitterMs ?? NaN;
}

function ratio(a: number, b: number, digits = 2): string {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return 'n/a';
  if (b === 0) return a === 0 ? '= (both 0)' : 'inf';
  return `${(a / b).toFixed(digits)}x`;
}

/**
 * Each row's round: how many rows of the same server, label and client count came before it
 * (`--clients 100,100,100` runs every server three times, in turn).
 */
function rounds(results: readonly RunResult[]): Map<RunResult, number> {
  const seen = new Map<string, number>();
  const out = new Map<RunResult, number>();
  for (const r of results) {
    const key = `${label(r)} ${r.clients}`;
    const k = seen.get(key) ?? 0;
    seen.set(key, k + 1);
    out.set(r, k);
  }
  return out;
}

/**
 * Ours against GStreamer and the floor, each row against the rows of the same client count and
 * round (taken close together); with repeated client counts, a last row per server gives the
 * median of its rounds' CPU ratios.
 */
export function ratiosTable(results: readonly RunResult[]): string | undefined {
  const counts = [...new Set(results.map((r) => r.clients))];
  const round = rounds(results);
  const rows: string[][] = [];
  const audioMedian = (r: RunResult): number => r.jitterByMedia.audio?.medianMs ?? NaN;
  for (const n of counts) {
    const same = (server: string, k: number, timeline?: RunResult['timeline']) =>
      results.find(
        (r) => r.server === server && r.clients === n && round.get(r) === k && (timeline === undefined || r.timeline === timeline),
      );
    const medians = new Map<string, { gst: number[]; gstHold: number[]; floor: number[] }>();
    for (const ours of results.filter((r) => r.server === 'streamlab' && r.clients === n && r.transport === 'udp')) {
      const k = round.get(ours)!;
      // GStreamer's media of the same kind (a pipeline per client for our file sessions) when it
      // ran, else its shared media (rows saved before --gst-media have no timeline).
      const gst = same('gst', k, ours.timeline ?? 'own') ?? same('gst', k, 'shared') ?? same('gst', k);
      const floor = same('floor', k);
      if (!gst && !floor) continue;
      const m = medians.get(label(ours)) ?? { gst: [], gstHold: [], floor: [] };
      medians.set(label(ours), m);
      if (gst) {
        m.gst.push(ours.cpuPct / gst.cpuPct);
        m.gstHold.push(ours.cpuPctHold / gst.cpuPctHold);
      }
      if (floor) m.floor.push(ours.cpuPctHold / floor.cpuPctHold);
      rows.push([
        label(ours),
        String(n),
        gst ? ratio(ours.cpuPct, gst.cpuPct) : 'n/a',
        gst ? ratio(ours.cpuPctHold, gst.cpuPctHold) : 'n/a',
        floor ? ratio(ours.cpuPctHold, floor.cpuPctHold) : 'n/a',
        gst ? ratio(ours.rssPeakMB, gst.rssPeakMB) : 'n/a',
        gst ? `${ours.lost} (${ours.joinLost}) / ${gst.lost} (${gst.joinLost})` : 'n/a',
        gst ? `${f(audioMedian(ours), 2)} / ${f(audioMedian(gst), 2)} = ${ratio(audioMedian(ours), audioMedian(gst))}` : 'n/a',
        `${f(probeAudio(ours), 2)} / ${gst ? f(probeAudio(gst), 2) : 'n/a'} / ${floor ? f(probeAudio(floor), 2) : 'n/a'}`,
        gst
          ? `${f(ours.firstRtpMedianMs, 0)} / ${f(gst.firstRtpMedianMs, 0)} = ${ratio(ours.firstRtpMedianMs, gst.firstRtpMedianMs)}`
          : 'n/a',
      ]);
    }
    for (const [name, m] of medians) {
      if (Math.max(m.gst.length, m.floor.length) < 2) continue;
      const x = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : 'n/a');
      rows.push([
        `${name}: median of ${Math.max(m.gst.length, m.floor.length)}`,
        String(n),
        x(median(m.gst)),
        x(median(m.gstHold)),
        x(median(m.floor)),
        '',
        '',
        '',
        '',
        '',
      ]);
    }
  }
  if (rows.length === 0) return undefined;
  return table(
    [
      'ours vs gst (and floor)',
      'clients',
      'CPU / gst',
      'CPU / gst (hold)',
      'CPU / floor (hold)',
      'RSS / gst',
      'lost (joining): ours / gst',
      'audio jitter p50 ms ours / gst',
      'probe audio jitter ms ours / gst / floor',
      '1st RTP p50 ms ours / gst',
    ],
    rows,
  );
}

/**
 * Server CPU per delivered packet: TCP-interleaved rows against the UDP row of the same client
 * count and round (taken close together; with one round, the only one).
 */
export function perPacketTable(results: readonly RunResult[]): string | undefined {
  const round = rounds(results);
  const rows: string[][] = [];
  for (const tcp of results.filter((r) => r.transport === 'tcp')) {
    const k = round.get(tcp);
    const udp = results.find(
      (r) =>
        r.server === 'streamlab' &&
        r.transport === 'udp' &&
        r.clients === tcp.clients &&
        round.get(r) === k &&
        r.sender === 'native' &&
        r.udpPorts !== 'per-session' &&
        r.timeline === tcp.timeline,
    );
    const floor = results.find((r) => r.server === 'floor' && r.clients === tcp.clients && round.get(r) === k);
    rows.push([
      `${tcp.clients}${tcp.sender === 'js' ? ' (js sender)' : ''}${tcp.timeline === 'shared' ? ' (shared timeline)' : ''}`,
      f(tcp.cpuUsPerPacket, 2),
      udp ? f(udp.cpuUsPerPacket, 2) : 'n/a',
      udp ? ratio(tcp.cpuUsPerPacket, udp.cpuUsPerPacket) : 'n/a',
      floor ? f(floor.cpuUsPerPacket, 2) : 'n/a',
    ]);
  }
  if (rows.length === 0) return undefined;
  return table(['clients', 'TCP µs/pkt', 'UDP µs/pkt', 'TCP / UDP', 'floor µs/pkt'], rows);
}

export const LEGEND = [
  'CPU %: server process user+sys (/proc) over ramp+hold / over the hold alone (100 = one core).',
  'RSS MB: resident set before any client / peak.  +MB/sess: RSS increase per extra session (vs the',
  "previous row, or vs idle; includes the garbage collector's headroom).  heap KB/sess: JS heap kept per",
  'session (heap used after a full GC with every client in, less idle, per client).  pkt/s: RTP',
  'delivered to all clients per second while all were in.',
  'loss %: RFC 3550 A.3 expected vs received, all clients and tracks, whole run; lost (joining): lost',
  'packets, and in brackets those missing while clients were still joining.  jitter: RFC 3550 A.8',
  'interarrival jitter at the clients, mean/median/max ms (video includes B-frame timestamp reordering).',
  'probe: one more client in a process of its own, joined after the ramp, its audio jitter at the end of',
  "the hold: what one viewer gets, without the load clients' own event-loop lag.",
  'µs/pkt: server CPU time over the hold divided by the RTP packets delivered in it.  floor: the same',
  "packets sent by a bare loop (one socket, one sendmmsg per 2 ms tick for all clients): the machine's limit.",
  '1st RTP: TCP connect to the first RTP packet.  ELD: server event-loop delay beyond the 10 ms',
  'monitor period (perf_hooks.monitorEventLoopDelay), over ramp+hold (and its p99 over the hold alone).',
  "wait %: time the server's main thread was runnable but had no CPU (/proc/PID/schedstat): high = the",
  'machine starved it.  load: 1-min load average when the row started (the machine has other work;',
  'compare rows run close together).',
].join('\n');

/**
 * `--workers 1,2`: each worker count against one process at the same client count. CPU is summed
 * over the primary and its workers; "busiest process" is the hottest single process, the one
 * that runs out of its core first.
 */
export function workersTable(results: readonly RunResult[]): string | undefined {
  const rows: string[][] = [];
  for (const r of results.filter((x) => x.server === 'streamlab' && x.workers > 1)) {
    const one = results.find(
      (x) =>
        x.server === 'streamlab' &&
        x.workers === 1 &&
        x.clients === r.clients &&
        x.runner === r.runner &&
        x.sender === r.sender &&
        x.transport === r.transport &&
        x.timeline === r.timeline,
    );
    if (!one) continue;
    const audio = (x: RunResult): number => x.jitterByMedia.audio?.medianMs ?? NaN;
    rows.push([
      label(r),
      String(r.clients),
      `${f(one.cpuPctHold)} → ${f(r.cpuPctHold)} (${ratio(r.cpuPctHold, one.cpuPctHold)})`,
      `${f(one.cpuPctHoldMaxProcess)} → ${f(r.cpuPctHoldMaxProcess)} (${ratio(r.cpuPctHoldMaxProcess, one.cpuPctHoldMaxProcess)})`,
      `${f(one.rssPeakMB)} → ${f(r.rssPeakMB)}`,
      `${one.lost} (${one.joinLost}) → ${r.lost} (${r.joinLost})`,
      `${f(audio(one), 2)} → ${f(audio(r), 2)}`,
      `${f(one.firstRtpMedianMs, 0)} → ${f(r.firstRtpMedianMs, 0)}`,
      `${f(one.loadAvg1)} / ${f(r.loadAvg1)}`,
    ]);
  }
  if (rows.length === 0) return undefined;
  const header = [
    'streamlab',
    'clients',
    'CPU % hold, all processes (1 → N)',
    'busiest process %',
    'RSS MB peak, all',
    'lost (joining)',
    'audio jitter p50 ms',
    '1st RTP p50 ms',
    'load',
  ];
  return table(header, rows);
}
