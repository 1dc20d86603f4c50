/**
 * Process and machine figures read from /proc (Linux), the same way for every server measured:
 * CPU time from /proc/<pid>/stat (utime + stime, clock ticks), RSS from /proc/<pid>/status
 * (VmRSS), UDP receive-buffer drops from /proc/net/snmp, and a description of the machine.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { at } from '../src/util/narrow.ts';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat; 100 on every mainstream Linux build. */
export const CLOCK_TICKS_PER_SEC = 100;

export interface CpuTimes {
  /** User + system CPU seconds used so far by the process (its threads included). */
  cpuSec: number;
  userSec: number;
  sysSec: number;
}

/** CPU times of `pid`, or undefined when the process is gone. */
export function readCpu(pid: number): CpuTimes | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return { userSec: utime / CLOCK_TICKS_PER_SEC, sysSec: stime / CLOCK_TICKS_PER_SEC, cpuSec: (utime + stime) / CLOCK_TICKS_PER_SEC };
}

/** CPU times summed over several processes (a primary and its workers); undefined when any is gone. */
export function readCpuOf(pids: readonly number[]): CpuTimes | undefined {
  const all = pids.map(readCpu);
  if (all.some((c) => c === undefined)) return undefined;
  const sum = (k: keyof CpuTimes) => all.reduce((n, c) => n + (c as CpuTimes)[k], 0);
  return { cpuSec: sum('cpuSec'), userSec: sum('userSec'), sysSec: sum('sysSec') };
}

/** RSS summed over several processes; undefined when any is gone. */
export function readRssOf(pids: readonly number[]): number | undefined {
  let n = 0;
  for (const pid of pids) {
    const r = readRssBytes(pid);
    if (r === undefined) return undefined;
    n += r;
  }
  return n;
}

/** Run-queue wait summed over several processes' main threads; undefined when any is gone. */
export function readRunQueueWaitOf(pids: readonly number[]): number | undefined {
  let n = 0;
  for (const pid of pids) {
    const r = readRunQueueWaitSec(pid);
    if (r === undefined) return undefined;
    n += r;
  }
  return n;
}

/** Resident set size of `pid` in bytes (VmRSS), or undefined when the process is gone. */
export function readRssBytes(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

/**
 * Seconds the process's main thread has spent runnable but waiting for a CPU (/proc/<pid>/schedstat,
 * second field). A high share of wall time means the machine starved the server: its event-loop
 * delay and late packets then say more about the machine than about the server.
 */
export function readRunQueueWaitSec(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/schedstat`, 'latin1').trim().split(/\s+/);
    const ns = Number(f[1]);
    return Number.isFinite(ns) ? ns / 1e9 : undefined;
  } catch {
    return undefined;
  }
}

export interface UdpCounters {
  inDatagrams: number;
  inErrors: number;
  rcvbufErrors: number;
  /** Sends that failed for lack of send-buffer space (the sender's side of loss). */
  sndbufErrors: number;
}

/** Host-wide UDP counters (all sockets): receive-buffer overflows mean a receiver fell behind. */
export function readUdpCounters(): UdpCounters | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/net/snmp', 'latin1');
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter((l) => l.startsWith('Udp:'));
  if (lines.length < 2) return undefined;
  const names = at(lines, 0).trim().split(/\s+/);
  const values = at(lines, 1).trim().split(/\s+/).map(Number);
  const get = (n: string): number => values[names.indexOf(n)] ?? 0;
  return {
    inDatagrams: get('InDatagrams'),
    inErrors: get('InErrors'),
    rcvbufErrors: get('RcvbufErrors'),
    sndbufErrors: get('SndbufErrors'),
  };
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memGiB: number;
  node: string;
  platform: string;
  /** 1, 5 and 15 minute load averages when the bench started. */
  loadAvg: [number, number, number];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const [a, b, c] = os.loadavg() as [number, number, number]; // Node always returns three averages
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAvg: [round2(a), round2(b), round2(c)],
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Samples RSS of a process at a fixed period; keeps the peak and the last value. */
export class RssSampler {
  peak = 0;
  last = 0;
  samples = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pids: readonly number[],
    private readonly periodMs = 200,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }

  sample(): void {
    const rss = readRssOf(this.pids);
    if (rss === undefined) return;
    this.samples++;
    this.last = rss;
    if (rss > this.peak) this.peak = rss;
  }
}
