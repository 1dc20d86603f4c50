import { readFile } from 'node:fs/promises';

/**
 * Datagrams the kernel dropped for UDP sockets before any program read them (a full receive
 * buffer): the `drops` column of Linux's /proc/net/udp and /proc/net/udp6, per local port. A
 * program that reads its socket cannot see these losses any other way; the lab flags a run
 * that had any.
 */
export function parseProcNetUdp(text: string): Map<number, number> {
  const drops = new Map<number, number>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    const local = f[1];
    const n = Number(f[12]);
    if (!local || f.length < 13 || !Number.isInteger(n)) continue;
    const port = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (Number.isInteger(port)) drops.set(port, (drops.get(port) ?? 0) + n);
  }
  return drops;
}

/** Kernel drops summed over the UDP sockets bound to `ports`; undefined where /proc/net/udp is not readable (not Linux). */
export async function udpKernelDrops(ports: readonly number[]): Promise<number | undefined> {
  const texts = await Promise.all(['/proc/net/udp', '/proc/net/udp6'].map((f) => readFile(f, 'utf8').catch(() => undefined)));
  if (texts.every((t) => t === undefined)) return undefined;
  let sum = 0;
  for (const t of texts) {
    if (t === undefined) continue;
    const drops = parseProcNetUdp(t);
    for (const p of ports) sum += drops.get(p) ?? 0;
  }
  return sum;
}
