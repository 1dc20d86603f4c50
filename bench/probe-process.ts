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

export type ProbeCommand =
  | { cmd: 'rtsp'; url: string; transport: 'udp' | 'tcp'; rrIntervalMs: number; requestTimeoutMs: number }
  | { cmd: 'bare'; tracks: { media: string; clockRate: number }[] }
  | { cmd: 'report' }
  | { cmd: 'exit' };

export interface ProbeReport {
  type: 'report';
  /** Per media: A.8 jitter at the end of the hold, ms, and the packets expected and lost. */
  media: Record<string, { jitterMs: number; expected: number; lost: number }>;
}

export type ProbeMessage = { type: 'join'; ports: number[] } | { type: 'started'; error?: string } | ProbeReport;

let client: BenchClient | undefined;

function send(m: ProbeMessage): void {
  if (process.connected) process.send?.(m);
}

async function stop(): Promise<void> {
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
          })
        : new BareClient(m.tracks, { ...phase }, (ports) => send({ type: 'join', ports }));
    const c = client;
    void c.start().then(() => send(c.error === undefined ? { type: 'started' } : { type: 'started', error: c.error }));
  } else if (m.cmd === 'report') {
    const media: ProbeReport['media'] = {};
    for (const t of client?.tracks ?? []) {
      const s = t.source.snapshot();
      media[t.media] = { jitterMs: t.source.jitterMs, expected: s.expected, lost: s.expected - s.received };
    }
    send({ type: 'report', media });
  } else {
    void stop();
  }
});
process.on('disconnect', () => void stop());
