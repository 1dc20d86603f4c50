/**
 * The probe client: one more client of the server under test, in a process of its own, that
 * joins once every load client is in and measures what one viewer receives during the hold (RFC
 * 3550 A.8 jitter, loss). The load clients all live in the bench process, which is as busy as the
 * server at a few hundred clients: the jitter they measure is partly their own event loop's lag
 * (the floor row shows it: a bare sendmmsg loop "has" 2 ms of jitter at 400 clients). This process
 * handles one session, so what it measures is the server's delivery.
 *
 * IPC: takes `{ cmd: 'rtsp', url, transport }` (plays the URL, as a load client) or
 * `{ cmd: 'bare', tracks }` (the floor: answers `{ type: 'join', ports }` for the bench to hand
 * on), answers `{ type: 'started', error? }`; then `{ cmd: 'report' }` is answered with a
 * ProbeReport, and `{ cmd: 'exit' }` (or the IPC channel closing) tears down and exits.
 */
import { BareClient, LoadClient, PHASE_STEADY } from './load-client.ts';
import type { BenchClient } from './load-client.ts';
import { median } from './numbers.ts';

export type ProbeCommand =
  | { cmd: 'rtsp'; url: string; transport: 'udp' | 'tcp'; rrIntervalMs: number; requestTimeoutMs: number }
  | { cmd: 'bare'; tracks: { media: string; clockRate: number }[] }
  | { cmd: 'report' }
  | { cmd: 'exit' };

export interface ProbeReport {
  type: 'report';
  /**
   * Per media: the median of the A.8 jitter sampled every SAMPLE_MS from 1 s after the start (the
   * estimate has settled) to the report, ms, and the packets expected and lost.
   */
  media: Record<string, { jitterMs: number; expected: number; lost: number }>;
}

/** How often the jitter estimate is sampled. */
const SAMPLE_MS = 250;
/** Samples from before this (after the session started) are not kept: A.8 converges over ~16 packets. */
const SETTLE_MS = 1000;

export type ProbeMessage = { type: 'join'; ports: number[] } | { type: 'started'; error?: string } | ProbeReport;

let client: BenchClient | undefined;
const samples = new Map<string, number[]>();
let sampler: NodeJS.Timeout | undefined;

function send(m: ProbeMessage): void {
  if (process.connected) process.send?.(m);
}

async function stop(): Promise<void> {
  clearInterval(sampler);
  await client?.stop().catch(() => undefined);
  process.exit(0);
}

process.on('message', (m: ProbeCommand) => {
  if (m.cmd === 'rtsp' || m.cmd === 'bare') {
    const phase = { phase: PHASE_STEADY } as const;
    client =
      m.cmd === 'rtsp'
        ? new LoadClient({
            url: m.url,
            phase: { ...phase },
            rrIntervalMs: m.rrIntervalMs,
            requestTimeoutMs: m.requestTimeoutMs,
            transport: m.transport,
            readEverySegment: true,
          })
        : new BareClient(m.tracks, { ...phase }, (ports) => send({ type: 'join', ports }));
    const c = client;
    void c.start().then(() => {
      send(c.error === undefined ? { type: 'started' } : { type: 'started', error: c.error });
      const from = performance.now() + SETTLE_MS;
      sampler = setInterval(() => {
        if (performance.now() < from) return;
        for (const t of c.tracks)
          if (t.packets > 0) (samples.get(t.media) ?? samples.set(t.media, []).get(t.media)!).push(t.source.jitterMs);
      }, SAMPLE_MS);
    });
  } else if (m.cmd === 'report') {
    const media: ProbeReport['media'] = {};
    for (const t of client?.tracks ?? []) {
      const s = t.source.snapshot();
      media[t.media] = {
        jitterMs: median(samples.get(t.media) ?? [t.source.jitterMs]),
        expected: s.expected,
        lost: s.expected - s.received,
      };
    }
    send({ type: 'report', media });
  } else {
    void stop();
  }
});
process.on('disconnect', () => void stop());
