/**
 * streamlab as the trust bench attacks it: RtspServer.listen with the shipped defaults (every
 * limit as a user gets it), in a child process of its own started with --expose-gc. It sends
 * `{ type: 'ready', port }` over IPC and answers `{ cmd: 'report' }` (after a full GC) with its
 * heap, RSS, open file descriptors, active handles and the server's counters. It ends on
 * `{ cmd: 'exit' }`, SIGTERM, or when the IPC channel closes.
 */
import { readdirSync } from 'node:fs';
import { RtspServer } from '../../src/server/index.ts';

export interface TrustReport {
  type: 'report';
  heapUsedBytes: number;
  rssBytes: number;
  fds: number;
  activeResources: Record<string, number>;
  openConnections: number;
  sessions: number;
  counters: Record<string, number>;
}
export type TrustChildMessage = { type: 'ready'; port: number; pid: number } | TrustReport;

async function main(): Promise<void> {
  const mediaDir = process.argv[2] ?? 'media';
  const server = await RtspServer.listen({ mediaDir, host: '127.0.0.1', port: 0 });
  const send = (m: TrustChildMessage): void => {
    if (process.connected) process.send?.(m);
  };
  const stop = (): void => {
    const force = setTimeout(() => process.exit(0), 2000);
    force.unref();
    void server.close().finally(() => process.exit(0));
  };
  process.on('message', (m: { cmd: 'report' | 'exit' }) => {
    if (m.cmd === 'exit') return stop();
    (globalThis as { gc?: () => void }).gc?.();
    const snap = server.snapshot();
    const activeResources: Record<string, number> = {};
    for (const r of process.getActiveResourcesInfo()) activeResources[r] = (activeResources[r] ?? 0) + 1;
    const counters: Record<string, number> = {};
    for (const [k, v] of Object.entries(snap.counters)) if (typeof v === 'number') counters[k] = v;
    send({
      type: 'report',
      heapUsedBytes: process.memoryUsage().heapUsed,
      rssBytes: process.memoryUsage().rss,
      fds: readdirSync('/proc/self/fd').length,
      activeResources,
      openConnections: snap.openConnections,
      sessions: snap.sessions.length,
      counters,
    });
  });
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  send({ type: 'ready', port: server.port, pid: process.pid });
}

void main();
