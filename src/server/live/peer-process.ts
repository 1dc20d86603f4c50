/**
 * Which process is at the other end of a loopback TCP connection (Linux /proc): how the server
 * knows that an ANNOUNCE to an `ffmpeg:` channel comes from the ffmpeg it started, without a secret
 * on ffmpeg's command line (which every local user reads in `ps` or /proc/PID/cmdline).
 *
 * The client's socket is the /proc/net/tcp{,6} entry whose local port is the connection's remote
 * port and whose remote port is the server's port; it belongs to the process holding an fd that
 * links to `socket:[<its inode>]`.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, readlink } from 'node:fs/promises';

export interface ProcTcpEntry {
  localPort: number;
  remotePort: number;
  inode: number;
}

/** Largest /proc/net/tcp{,6} read (about 150 bytes a socket: some 100 000 sockets). */
const MAX_PROC_NET_BYTES = 16 * 1024 * 1024;

/**
 * Entries of /proc/net/tcp or tcp6 (pure): `sl local_address rem_address st ... uid timeout inode`,
 * addresses as `HEXADDR:HEXPORT`. Lines that do not parse are skipped.
 */
export function parseProcNetTcp(text: string): ProcTcpEntry[] {
  const out: ProcTcpEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^\d+:$/.test(f[0]!)) continue;
    const local = /:([0-9A-Fa-f]{4})$/.exec(f[1]!);
    const remote = /:([0-9A-Fa-f]{4})$/.exec(f[2]!);
    const inode = Number(f[9]);
    if (!local || !remote || !Number.isSafeInteger(inode) || inode <= 0) continue;
    out.push({ localPort: parseInt(local[1]!, 16), remotePort: parseInt(remote[1]!, 16), inode });
  }
  return out;
}

/** True when this system can tell a connection's process (Linux /proc). */
export function peerProcessCheckAvailable(): boolean {
  return existsSync('/proc/net/tcp') && existsSync('/proc/self/fd');
}

async function readBounded(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.length > MAX_PROC_NET_BYTES ? text.slice(0, MAX_PROC_NET_BYTES) : text;
}

/**
 * True when process `pid` holds the client end of the loopback TCP connection seen by the server
 * as coming from `clientPort` to its `serverPort`.
 */
export async function connectionOwnedBy(pid: number, clientPort: number | undefined, serverPort: number | undefined): Promise<boolean> {
  if (clientPort === undefined || serverPort === undefined) return false;
  const entries = [...parseProcNetTcp(await readBounded('/proc/net/tcp')), ...parseProcNetTcp(await readBounded('/proc/net/tcp6'))];
  const inodes = new Set(
    entries.filter((e) => e.localPort === clientPort && e.remotePort === serverPort).map((e) => `socket:[${e.inode}]`),
  );
  if (inodes.size === 0) return false;
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (inodes.has(link)) return true;
  }
  return false;
}
