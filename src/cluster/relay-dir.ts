import { lstatSync, mkdtempSync, opendirSync, rmdirSync, unlinkSync } from 'node:fs';
import type { Dir } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { realClock } from '../util/clock.ts';

/**
 * The private folder of the workers' relay sockets (RTSPS with `serve --workers N`, tls-relay.ts):
 * made by the primary under the system's temporary folder, named after the primary's pid so that
 * a folder left by a primary killed with SIGKILL can be told from one in use:
 * `streamlab-relay-<pid>-XXXXXX`. It is removed at stop by the primary, when the primary is gone by
 * its workers (worker.ts), and failing both (every process killed at once) by the next primary
 * that starts (sweepStaleRelayDirs).
 */

const PREFIX = 'streamlab-relay-';
/** A folder of ours: the prefix, the primary's pid, mkdtemp's six characters. */
const NAME = /^streamlab-relay-([1-9]\d{0,9})-[A-Za-z0-9]{6}$/;
/** What a relay folder holds: worker N's socket. */
const SOCKET_NAME = /^w\d{1,4}\.sock$/;
/** Entries of the temporary folder examined per sweep, at most (it may hold many). */
export const SWEEP_MAX_ENTRIES = 10_000;
/** Stale folders removed per sweep, at most. */
export const SWEEP_MAX_REMOVED = 64;
/** Entries examined inside one relay folder, at most (a folder holding more is not ours to empty). */
const MAX_DIR_ENTRIES = 1024;

/** Makes the primary's relay folder (mode 0700, as mkdtemp makes it) under `parent`. */
export function makeRelayDir(parent: string = os.tmpdir(), pid: number = process.pid): string {
  return mkdtempSync(path.join(parent, `${PREFIX}${pid}-`));
}

/** Whether a process with this pid exists (one of another user counts: it exists). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes a relay folder: the workers' sockets in it (entries named w<N>.sock that are sockets),
 * then the folder if that left it empty. Only a real folder (not a symlink) of this user with mode
 * 0700 is touched; anything else in it stays, and so does the folder. Never throws; true when the
 * folder is gone.
 */
export function removeRelayDir(dir: string): boolean {
  const uid = process.getuid?.();
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o777) !== 0o700) return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
  let d: Dir | undefined;
  try {
    d = opendirSync(dir);
    for (let i = 0; i < MAX_DIR_ENTRIES; i++) {
      const e = d.readSync();
      if (!e) break;
      if (!SOCKET_NAME.test(e.name)) continue;
      const at = path.join(dir, e.name);
      if (lstatSync(at).isSocket()) unlinkSync(at);
    }
  } catch {
    // gone meanwhile, or not ours to read: rmdir decides
  } finally {
    try {
      d?.closeSync();
    } catch {
      // closed
    }
  }
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

export interface SweepOptions {
  /** Where the folders are made (os.tmpdir()). */
  parent?: string;
  /** Whether the pid a folder names is running (pidAlive). */
  isAlive?: (pid: number) => boolean;
  /** This process: its pid, and when it started (wall-clock ms). */
  self?: { pid: number; startedAtMs: number };
  maxEntries?: number;
  maxRemoved?: number;
}

/**
 * Removes the relay folders that primaries now dead left in `parent`: only entries named as
 * makeRelayDir names them, that are folders (symlinks are not followed), owned by this user with
 * mode 0700, whose pid is not running, or is this process's and the folder was last changed
 * before this process started (a container run again gets the same pid); each is emptied by
 * removeRelayDir (workers' sockets only). At most maxEntries entries of `parent` are examined and
 * maxRemoved folders removed. A pid another process took since keeps its folder (it looks in
 * use); a primary in another pid namespace sharing this folder would look dead.
 */
export function sweepStaleRelayDirs(o: SweepOptions = {}): { examined: number; removed: string[] } {
  const parent = o.parent ?? os.tmpdir();
  const isAlive = o.isAlive ?? pidAlive;
  const maxEntries = o.maxEntries ?? SWEEP_MAX_ENTRIES;
  const maxRemoved = o.maxRemoved ?? SWEEP_MAX_REMOVED;
  // The wall-clock instant of this process's monotonic 0: when it started.
  const self = o.self ?? { pid: process.pid, startedAtMs: realClock.wallNow() - realClock.now() };
  const uid = process.getuid?.();
  const removed: string[] = [];
  let examined = 0;
  // Without uids (not a Unix system) there is no telling whose a folder is.
  if (uid === undefined) return { examined, removed };
  let d: Dir | undefined;
  try {
    d = opendirSync(parent);
    while (examined < maxEntries && removed.length < maxRemoved) {
      const e = d.readSync();
      if (!e) break;
      examined++;
      const m = NAME.exec(e.name);
      if (!m) continue;
      const pid = Number(m[1]);
      if (pid !== self.pid && isAlive(pid)) continue;
      const at = path.join(parent, e.name);
      try {
        const st = lstatSync(at);
        if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o777) !== 0o700) continue;
        if (pid === self.pid && st.mtimeMs >= self.startedAtMs) continue;
      } catch {
        continue;
      }
      if (removeRelayDir(at)) removed.push(at);
    }
  } catch {
    // the temporary folder unreadable: nothing swept
  } finally {
    try {
      d?.closeSync();
    } catch {
      // closed
    }
  }
  return { examined, removed };
}
