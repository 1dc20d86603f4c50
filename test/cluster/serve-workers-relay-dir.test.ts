/**
 * The relay folder of `serve --workers 2` over RTSPS (src/cluster/relay-dir.ts) when the primary
 * is killed with SIGKILL: its workers remove it as they exit; if they are killed with it, the next
 * primary removes it at start. Only folders of ours, of this user, whose primary is dead: symlinks,
 * folders of running primaries, of other modes or holding anything but the workers' sockets stay.
 * The CLI runs with a private TMPDIR (os.tmpdir()), so other tests' folders are never in sight.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRelayDir, sweepStaleRelayDirs } from '../../src/cluster/relay-dir.ts';
import { Serve, alive } from '../helpers/serve-cli.ts';
import { REPO_ROOT } from '../helpers/server.ts';
import { selfSignedCertificate } from '../helpers/tls.ts';
import { waitUntil } from '../helpers/wait.ts';

const { cert, key } = selfSignedCertificate();

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  expect(r.status).toBe(0);
  return r.pid;
}

/** A Unix socket file at `at`: its server listens until the end (what sweeping sees is the same as after SIGKILL). */
async function leftSocket(at: string): Promise<void> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(at, resolve));
  leftOpen.push(s);
}
const leftOpen: net.Server[] = [];

describe('sweepStaleRelayDirs', () => {
  let tmp: string;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'streamlab-sweep-'));
  });

  afterAll(async () => {
    for (const s of leftOpen) s.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('removes the folders of dead primaries with their sockets, and nothing else', async () => {
    const dead = deadPid();
    const parent = path.join(tmp, 'a');
    await mkdir(parent);
    const stale = makeRelayDir(parent, dead);
    await leftSocket(path.join(stale, 'w0.sock'));
    await leftSocket(path.join(stale, 'w1.sock'));
    const staleEmpty = makeRelayDir(parent, dead);
    const live = makeRelayDir(parent, process.pid);
    await leftSocket(path.join(live, 'w0.sock'));
    // Not the workers' sockets: a file, a socket of another name; a folder of another mode.
    const withFile = makeRelayDir(parent, dead);
    await writeFile(path.join(withFile, 'w0.sock'), 'not a socket');
    const withOther = makeRelayDir(parent, dead);
    await leftSocket(path.join(withOther, 'other.sock'));
    const open = makeRelayDir(parent, dead);
    await chmod(open, 0o755);
    // A symlink named as ours to a folder holding a worker's socket: not followed.
    const target = path.join(tmp, 'target');
    await mkdir(target, { mode: 0o700 });
    await leftSocket(path.join(target, 'w0.sock'));
    const link = path.join(parent, `streamlab-relay-${dead}-Ab12Cd`);
    await symlink(target, link);
    // Not our naming.
    const other = path.join(parent, `streamlab-relay-${dead}`);
    await mkdir(other, { mode: 0o700 });

    const r = sweepStaleRelayDirs({ parent });
    expect(r.removed.sort()).toEqual([stale, staleEmpty].sort());
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(staleEmpty)).toBe(false);
    expect(readdirSync(live)).toEqual(['w0.sock']);
    expect(readdirSync(withFile)).toEqual(['w0.sock']);
    expect(readdirSync(withOther)).toEqual(['other.sock']);
    expect(existsSync(open)).toBe(true);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(target);
    expect(readdirSync(target)).toEqual(['w0.sock']);
    expect(existsSync(other)).toBe(true);
    expect(r.examined).toBe(readdirSync(parent).length + 2);
  });

  it("a folder named with this process's pid is stale when last changed before this process started", async () => {
    const parent = path.join(tmp, 'c');
    await mkdir(parent);
    const self = { pid: 4242, startedAtMs: Date.now() - 60_000 };
    const before = makeRelayDir(parent, self.pid);
    await leftSocket(path.join(before, 'w0.sock'));
    const past = new Date(self.startedAtMs - 1000);
    await utimes(before, past, past);
    const mine = makeRelayDir(parent, self.pid);
    const r = sweepStaleRelayDirs({ parent, self, isAlive: () => true });
    expect(r.removed).toEqual([before]);
    expect(existsSync(mine)).toBe(true);
  });

  it('examines at most maxEntries entries and removes at most maxRemoved folders; a running pid keeps its folder', async () => {
    const parent = path.join(tmp, 'b');
    await mkdir(parent);
    for (let i = 0; i < 30; i++) makeRelayDir(parent, 1_000_000 + i);
    const one = sweepStaleRelayDirs({ parent, isAlive: () => false, maxRemoved: 4 });
    expect(one.removed.length).toBe(4);
    expect(readdirSync(parent).length).toBe(26);
    const two = sweepStaleRelayDirs({ parent, isAlive: () => false, maxEntries: 10 });
    expect(two.examined).toBe(10);
    expect(two.removed.length).toBe(10);
    expect(readdirSync(parent).length).toBe(16);
    const kept = sweepStaleRelayDirs({ parent, isAlive: (pid) => pid % 2 === 0 });
    expect(readdirSync(parent).length).toBe(16 - kept.removed.length);
    for (const name of readdirSync(parent)) expect(Number(/-(\d+)-/.exec(name)![1]) % 2).toBe(0);
  });
});

describe('serve --workers 2 over RTSPS: the relay folder after SIGKILL', () => {
  let dir: string;
  let tmpdir: string;
  const args = () => ['--workers', '2', '--tls-cert', path.join(dir, 'cert.pem'), '--tls-key', path.join(dir, 'key.pem')];
  const relayDirsOf = (pid: number) =>
    readdirSync(tmpdir)
      .filter((n) => n.startsWith(`streamlab-relay-${pid}-`))
      .map((n) => path.join(tmpdir, n));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-workers-relay-'));
    tmpdir = path.join(dir, 'tmp');
    await mkdir(tmpdir);
    await writeFile(path.join(dir, 'cert.pem'), cert);
    await writeFile(path.join(dir, 'key.pem'), key);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the workers remove it when the primary is killed', async () => {
    const serve = await Serve.start(path.join(REPO_ROOT, 'media'), args(), { TMPDIR: tmpdir });
    try {
      await serve.waitLog('worker started', {}, 2);
      const pids = [serve.workerPid(0), serve.workerPid(1)];
      const [relay] = relayDirsOf(serve.child.pid!);
      expect(relay).toBeDefined();
      await waitUntil(() => readdirSync(relay!).length === 2, 10_000, 'both relay sockets');
      expect(readdirSync(relay!).sort()).toEqual(['w0.sock', 'w1.sock']);
      serve.kill('SIGKILL');
      await serve.exited;
      await waitUntil(() => pids.every((p) => !alive(p)), 15_000, 'workers exit after the primary was killed');
      expect(existsSync(relay!)).toBe(false);
      expect(readdirSync(tmpdir)).toEqual([]);
    } finally {
      serve.kill('SIGKILL');
    }
  });

  it('killed with its workers, the next primary removes it at start (and only it)', async () => {
    const first = await Serve.start(path.join(REPO_ROOT, 'media'), args(), { TMPDIR: tmpdir });
    let relay: string | undefined;
    try {
      await first.waitLog('worker started', {}, 2);
      [relay] = relayDirsOf(first.child.pid!);
      await waitUntil(() => readdirSync(relay!).length === 2, 10_000, 'both relay sockets');
      // Workers first: killed after the primary, they could get to their cleaning first (the case above).
      for (const pid of [first.workerPid(0), first.workerPid(1), first.child.pid!]) process.kill(pid, 'SIGKILL');
      await first.exited;
    } finally {
      first.kill('SIGKILL');
    }
    expect(readdirSync(relay!).sort()).toEqual(['w0.sock', 'w1.sock']);
    // Beside it: the folder of a running primary (this test's pid) and a symlink named as a dead one's.
    const running = makeRelayDir(tmpdir, process.pid);
    const target = path.join(dir, 'target');
    await mkdir(target, { mode: 0o700 });
    await writeFile(path.join(target, 'keep'), 'x');
    const link = path.join(tmpdir, `streamlab-relay-${deadPid()}-Zz99Yy`);
    await symlink(target, link);

    const second = await Serve.start(path.join(REPO_ROOT, 'media'), args(), { TMPDIR: tmpdir });
    try {
      await second.waitLog('worker started', {}, 2);
      const [swept] = second.find('stale relay folders removed');
      expect(swept?.count).toBe(1);
      expect(swept?.folders).toEqual([relay]);
      expect(existsSync(relay!)).toBe(false);
      expect(existsSync(running)).toBe(true);
      expect(readlinkSync(link)).toBe(target);
      expect(readdirSync(target)).toEqual(['keep']);
      expect(relayDirsOf(second.child.pid!).length).toBe(1);
      second.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      // Stopped as it should be, it leaves no folder of its own.
      expect(relayDirsOf(second.child.pid!)).toEqual([]);
    } finally {
      second.kill('SIGKILL');
    }
  });

  it('a SIGTERM while it starts (workers up, relay folder made) stops it once up: exit 0, no folder left', async () => {
    const serve = Serve.launch(path.join(REPO_ROOT, 'media'), args(), { TMPDIR: tmpdir });
    try {
      // The first worker is up, the primary still waits for the second: it has not said it serves.
      await serve.waitLog('worker started');
      serve.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
      expect(relayDirsOf(serve.child.pid!)).toEqual([]);
    } finally {
      serve.kill('SIGKILL');
    }
  });
});
