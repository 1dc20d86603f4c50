/**
 * Helpers of the operator tests: the HTTP side on a free port beside a suite's server, JSON over
 * real HTTP, raw requests (a Host or Origin fetch would not send), Prometheus text parsing, and
 * peers run in the background (killed by their own pid only).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { afterAll, beforeAll } from 'vitest';
import { OperatorHttp } from '../../src/operator/index.ts';
import type { OperatorHttpOptions } from '../../src/operator/index.ts';
import type { RtspServer } from '../../src/server/index.ts';

export function operatorForSuite(server: RtspServer, opts: Partial<OperatorHttpOptions> = {}): { op: () => OperatorHttp } {
  let op: OperatorHttp | undefined;
  beforeAll(async () => {
    op = await OperatorHttp.start(server, { port: 0, ...opts });
  });
  afterAll(async () => {
    await op?.close();
  });
  return {
    op: () => {
      if (!op) throw new Error('operator not started');
      return op;
    },
  };
}

/** A request answered as JSON (throws when the answer is not JSON). */
export async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: unknown; headers: Headers }> {
  const r = await fetch(url, init);
  const text = await r.text();
  const type = r.headers.get('content-type');
  if (!type?.startsWith('application/json')) throw new Error(`not JSON (${type}): ${text.slice(0, 200)}`);
  return { status: r.status, body: JSON.parse(text) as unknown, headers: r.headers };
}

/** A request with any method, target and headers (Host, Origin), answered with status, headers and body text. */
export function rawRequest(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | string },
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The value of one sample of a Prometheus text exposition (`name{a="b"}`), undefined when absent. */
export function metricValue(text: string, sample: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  return undefined;
}

export interface Background {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
  stop(): void;
}

/** Starts a program in the background; stop() kills that child (by its pid) if it still runs. */
export function background(bin: string, args: readonly string[]): Background {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => {
    err = (err + b.toString('utf8')).slice(-8000);
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    exited,
    stderr: () => err,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
