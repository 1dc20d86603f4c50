import { fork } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { registerChild, stopChild } from './children.ts';
import type { ProbeCommand, ProbeMessage, ProbeReport } from './probe-process.ts';
import { REPO_ROOT, compileBench } from './targets.ts';
import type { ServerTarget } from './targets.ts';

/** How long the probe may take to set up its session. */
const PROBE_START_MS = 10_000;

/** The probe client (probe-process.ts) of a running target: started, then asked for its report. */
export interface Probe {
  /** Its figures so far (undefined when it failed or did not answer in time). */
  report(): Promise<ProbeReport | undefined>;
  stop(): Promise<void>;
  readonly error: string | undefined;
}

/** Starts one probe client on `target` and waits until its session plays (or failed). */
export async function startProbe(
  target: ServerTarget,
  o: { transport: 'udp' | 'tcp'; rrIntervalMs: number; requestTimeoutMs: number },
): Promise<Probe> {
  const entry = path.join(compileBench(), 'probe-process.js');
  const child = fork(entry, [], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  registerChild(child);
  const send = (c: ProbeCommand): void => {
    if (child.connected) child.send(c);
  };
  let error: string | undefined;
  let pendingReport: ((r: ProbeReport | undefined) => void) | undefined;
  const started = new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      error = 'no answer';
      resolve();
    }, PROBE_START_MS);
    child.on('message', (m: ProbeMessage) => {
      if (m.type === 'join') target.floor?.join(m.ports);
      else if (m.type === 'started') {
        clearTimeout(timer);
        error = m.error;
        resolve();
      } else {
        pendingReport?.(m);
        pendingReport = undefined;
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      error ??= 'exited';
      pendingReport?.(undefined);
      resolve();
    });
  });
  if (target.floor) send({ cmd: 'bare', tracks: target.floor.tracks });
  else send({ cmd: 'rtsp', url: target.url, ...o });
  await started;
  return {
    get error() {
      return error;
    },
    report: () =>
      new Promise((resolve) => {
        if (error !== undefined || !child.connected) return resolve(undefined);
        const timer = setTimeout(() => resolve(undefined), 2000);
        pendingReport = (r) => {
          clearTimeout(timer);
          resolve(r);
        };
        send({ cmd: 'report' });
      }),
    // It tears its session down before it exits (the bench checks the server went back to idle).
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        send({ cmd: 'exit' });
        await Promise.race([exited, sleep(PROBE_START_MS)]);
      }
      await stopChild(child);
    },
  };
}
