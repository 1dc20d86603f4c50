import { readdir, stat } from 'node:fs/promises';
import { lazyTls } from '../util/lazy-tls.ts';
import os from 'node:os';
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { DEFAULTS, RtspServer, impairmentFromArgs } from '../server/index.ts';
import { liveSpecPath, parseLiveSpec } from '../server/live/live-hub.ts';
import { parseMulticastRange } from '../server/live/multicast.ts';
import { readPullCa } from '../server/live/pull-tls.ts';
import { parseEdgeList } from '../server/redirect/index.ts';
import { withoutUserinfo } from '../rtsp/index.ts';
import type { LiveChannelSpec, MulticastOptions, PullTransport } from '../server/live/index.ts';
import { parseNetemArgs } from '../impair/index.ts';
import { loadPathTraces } from '../transport/index.ts';
import { printNetemNotice } from './netem-notice.ts';
import { readFile } from 'node:fs/promises';
import { setDefaultLogLevel, setLogFormat, setLogLevel } from '../util/log.ts';
import type { LogFormat, LogLevel } from '../util/log.ts';
import { mergeFlags, mergedMistakes } from '../config/index.ts';
import type { ServeConfig } from '../config/index.ts';
import { loadConfigFile } from './config-flags.ts';
import type { PathRule, ServerOptions, UdpPortsOption } from '../server/index.ts';
import type { OperatorServer } from '../operator/index.ts';
import { parseIntOption } from './options.ts';
import { authFromFlags } from './serve-auth.ts';
import type { AuthFlags } from './serve-auth.ts';
import path from 'node:path';
import { DEFAULT_CACHE_DIR_NAME, DEFAULT_CACHE_MAX_MB } from '../media/prepare/defaults.ts';
import { LazyPreparer } from '../media/prepare/lazy-preparer.ts';
import { TtyProgressBar } from '../media/prepare/progress-bar.ts';

interface ServeFlags extends AuthFlags {
  port: number;
  host: string;
  rtpPorts?: string;
  udpPorts?: UdpPortsOption;
  mtu: number;
  sessionTimeout: number;
  maxSessions: number;
  idleTimeout: number;
  requestTimeout: number;
  maxConnectionsPerAddress: number;
  maxConnections?: number;
  maxWriteBacklog: number;
  log?: LogLevel;
  logFormat?: LogFormat;
  verbose?: boolean;
  config?: string;
  netem?: string;
  netemSeed?: number;
  netemRtcp?: boolean;
  tlsCert?: string;
  http?: number;
  httpHost?: string;
  tlsKey?: string;
  live: LiveChannelSpec[];
  multicast?: string;
  pullGrace?: number;
  pullTransport?: PullTransport;
  pullTlsCa?: string;
  pullTlsInsecure?: boolean;
  redirectTo?: string[];
  redirectPoll?: number;
  multicastPorts?: string;
  multicastTtl: number;
  multicastInterface?: string;
  multicastAllowDestination?: boolean;
  cacheDir?: string;
  cacheMaxMb: number;
  prepareWait?: number;
  workers?: number;
}

/** `--workers N|auto`: worker processes (auto: one per core). */
function parseWorkers(v: string): number {
  if (v === 'auto') return Math.max(1, os.availableParallelism());
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 256) throw new InvalidArgumentError('a number of workers from 1 to 256, or auto');
  return n;
}

function multicastFromFlags(flags: ServeFlags): MulticastOptions | undefined {
  if (!flags.multicast) return undefined;
  if (!parseMulticastRange(flags.multicast))
    throw new Error(`--multicast wants an IPv4 multicast range like 239.255.0.0/16, got ${flags.multicast}`);
  return {
    range: flags.multicast,
    ports: flags.multicastPorts ? parsePortRange(flags.multicastPorts) : { min: 50000, max: 50999 },
    ttl: flags.multicastTtl,
    interfaceAddress: flags.multicastInterface,
    allowClientDestination: flags.multicastAllowDestination === true,
  };
}

function parsePortRange(s: string): { min: number; max: number } {
  const m = /^(\d+)-(\d+)$/.exec(s);
  const min = m ? Number(m[1]) : NaN;
  const max = m ? Number(m[2]) : NaN;
  if (!m || min < 1024 || max > 65535 || max - min < 1) throw new Error(`--rtp-ports wants MIN-MAX within 1024-65535, got ${s}`);
  return { min, max };
}

/** `--udp-ports`: shared (default), per-session, or the shared pair's ports `N-N+1` (N even). */
export function parseUdpPorts(s: string): UdpPortsOption {
  if (s === 'shared' || s === 'per-session') return s;
  const m = /^(\d+)-(\d+)$/.exec(s);
  const rtp = m ? Number(m[1]) : NaN;
  if (!m || rtp < 1024 || rtp > 65534 || rtp % 2 !== 0 || Number(m[2]) !== rtp + 1)
    throw new Error(`--udp-ports wants shared, per-session or an even/odd pair like 8000-8001 within 1024-65535, got ${s}`);
  return { rtpPort: rtp };
}

/** netem words from the command line; a `trace FILE` is read here (0/1 per packet). */
/** Extensions of the files listed at start (any file ffmpeg reads is served; these are the usual ones). */
const MEDIA_EXTENSIONS = new Set(
  'mp4 m4v mov mkv webm ts m2ts mts mpg mpeg avi flv ogg ogv opus mp3 aac m4a wav flac 3gp mxf wmv asf'.split(' '),
);
/** At most this many files are listed at start, found at most this deep. */
const MAX_LISTED_FILES = 20;
const MAX_LIST_DEPTH = 3;

/** The media files under `dir` (relative paths, sorted), for the URLs printed at start; hidden entries (the cache) skipped. */
async function mediaFilesIn(dir: string): Promise<{ files: string[]; more: number }> {
  const all: string[] = [];
  const walk = async (rel: string, depth: number): Promise<void> => {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (e.name.startsWith('.') || all.length >= 10_000) continue;
      const p = path.join(rel, e.name);
      if (e.isDirectory() && depth < MAX_LIST_DEPTH) await walk(p, depth + 1);
      else if (e.isFile() && MEDIA_EXTENSIONS.has(path.extname(e.name).slice(1).toLowerCase())) all.push(p);
    }
  };
  await walk('', 1);
  all.sort();
  return { files: all.slice(0, MAX_LISTED_FILES), more: Math.max(0, all.length - MAX_LISTED_FILES) };
}

/** `--tls-cert` and `--tls-key`: both or neither; read at start so a wrong path fails at once. */
async function tlsFromFlags(flags: ServeFlags): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if (!flags.tlsCert && !flags.tlsKey) return undefined;
  if (!flags.tlsCert || !flags.tlsKey) throw new Error('RTSPS needs both --tls-cert FILE and --tls-key FILE');
  const read = (file: string, what: string) =>
    readFile(file).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`cannot read the TLS ${what} ${file} (${err.code ?? err.message})`);
    });
  const [cert, key] = await Promise.all([read(flags.tlsCert, 'certificate'), read(flags.tlsKey, 'key')]);
  // Checked now, not at the first client's handshake.
  try {
    lazyTls().createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(`--tls-cert/--tls-key do not make a TLS identity: ${(err as Error).message}`);
  }
  return { cert, key };
}

/** `--pull-tls-ca` read now (a wrong path fails at start); `--pull-tls-insecure` said loudly. */
async function pullTlsFromFlags(flags: ServeFlags): Promise<{ pullTls?: { ca?: Buffer; insecure?: boolean } }> {
  if (!flags.pullTlsCa && !flags.pullTlsInsecure) return {};
  if (flags.pullTlsCa && flags.pullTlsInsecure) throw new Error('--pull-tls-ca and --pull-tls-insecure: give one or the other');
  if (flags.pullTlsInsecure) {
    process.stderr.write('WARNING: --pull-tls-insecure: the certificates of rtsps:// origins and edges are NOT checked\n');
    return { pullTls: { insecure: true } };
  }
  return { pullTls: { ca: await readPullCa(flags.pullTlsCa!, '--pull-tls-ca') } };
}

export async function impairmentFromCli(args: string, seed: number | undefined) {
  const parsed = parseNetemArgs(args);
  if (!parsed.ok) return impairmentFromArgs(args, seed);
  const traces = await loadPathTraces(parsed.value, process.cwd());
  if (!traces.ok) throw new Error(`--netem: ${traces.message}`);
  return { ...impairmentFromArgs(args, seed), ...traces.value };
}

/** Mistakes of a config file: one line each (main.ts prints every line). */
export class ConfigMistakes extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

/** What a rule path serves, for the URLs printed at start (loop and ffmpeg rules are live channels). */
function ruleUrlNote(rule: PathRule): string | undefined {
  const s = rule.source;
  if (!s || s.kind === 'loop' || s.kind === 'ffmpeg' || s.kind === 'pull') return undefined;
  return s.kind === 'publisher' ? 'publish here' : s.kind === 'file' ? s.file : `files of ${s.dir}`;
}

/** The server's preparer (loaded by the first file that needs it) with a progress bar on a terminal's stderr. */
function preparerForServe(dir: string, cacheDir: string | undefined, cacheMaxMb: number): LazyPreparer {
  const bar = new TtyProgressBar();
  return new LazyPreparer({
    cacheDir: path.resolve(cacheDir ?? path.join(dir, DEFAULT_CACHE_DIR_NAME)),
    maxCacheBytes: cacheMaxMb * 1024 * 1024,
    onProgress: (job, p) => (p.fraction !== undefined && p.fraction >= 1 ? bar.clear() : bar.update(job.sourcePath, p)),
  });
}

/** What serve runs: one server, or the primary of --workers N; the operator's HTTP side reads either. */
interface Served {
  readonly port: number;
  readonly operator: OperatorServer;
  close(): Promise<void>;
}

function servedServer(server: RtspServer): Served {
  return { port: server.port, operator: server, close: () => server.close() };
}

async function servedCluster(options: ServerOptions, workers: number, forwardEvents: boolean): Promise<Served> {
  const { startCluster } = await import('../cluster/index.ts');
  const c = await startCluster(options, workers, { forwardEvents });
  return { port: c.port, operator: c.view, close: () => c.close() };
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the media files of a directory over RTSP')
    .argument('[dir]', 'media directory', 'media')
    .option('-p, --port <n>', 'RTSP port', parseIntOption(0, 65535), DEFAULTS.port)
    .option('--host <addr>', 'address to listen on', DEFAULTS.host)
    .option('--rtp-ports <min-max>', 'UDP port range for server RTP/RTCP pairs (default 6970-32767)')
    .option(
      '--udp-ports <spec>',
      'server RTP/RTCP ports of UDP clients: shared (default: one even/odd pair from --rtp-ports for every session), per-session (a pair per track, connected to the client), or RTP-RTCP (that shared pair, e.g. 8000-8001)',
      parseUdpPorts,
    )
    .option('--mtu <bytes>', 'largest IP packet; RTP payloads are cut to fit', parseIntOption(576, 65535), DEFAULTS.mtu)
    .option('--session-timeout <s>', 'session timeout advertised to clients', parseIntOption(5, 3600), DEFAULTS.sessionTimeoutSec)
    .option('--max-sessions <n>', 'refuse SETUP beyond this many sessions (453)', parseIntOption(1, 100000), DEFAULTS.maxSessions)
    .option(
      '--idle-timeout <s>',
      'close a connection without a complete request for this long, unless a session it set up lives',
      parseIntOption(1, 86400),
      DEFAULTS.idleTimeoutMs / 1000,
    )
    .option(
      '--request-timeout <s>',
      'close a connection whose request is not complete this long after it began (slowloris)',
      parseIntOption(1, 3600),
      DEFAULTS.requestTimeoutMs / 1000,
    )
    .option(
      '--max-connections-per-address <n>',
      'RTSP connections one client address may hold; more are refused (logged, counted)',
      parseIntOption(1, 1_000_000),
      DEFAULTS.maxConnectionsPerAddress,
    )
    .option(
      '--max-connections <n>',
      'RTSP connections in total; more are dropped (default 2 x --max-sessions)',
      parseIntOption(1, 1_000_000),
    )
    .option(
      '--max-write-backlog <bytes>',
      'answers queued unread on a connection beyond this close it (interleaved media has its own 4 MiB bound)',
      parseIntOption(4096, 1 << 30),
      DEFAULTS.maxWriteBacklogBytes,
    )
    .option('--config <file>', 'settings from a YAML file: any of these flags, media, and paths: rules (flags given here win)')
    .addOption(new Option('--log <level>', 'log level (default info, or STREAMLAB_LOG)').choices(['error', 'warn', 'info', 'debug']))
    .option('-v, --verbose', 'same as --log info')
    .option('--netem <args>', 'impair every session\'s egress like Linux tc netem, e.g. "loss gemodel 2% 30% delay 40ms 10ms"')
    .option('--netem-seed <n>', 'seed of the impairment (sessions and tracks derive their own from it)', parseIntOption(0, 2 ** 31))
    .option('--netem-rtcp', 'impair RTCP too (else --netem applies to RTP only)')
    .option(
      '--live <NAME=SRC>',
      'live channel rtsp://HOST:PORT/live/NAME from a file played looped (NAME=FILE), ffmpeg input (NAME=ffmpeg:<input args>) or an origin server pulled over RTSP (NAME=rtsp://[USER:PASS@]ORIGIN/PATH); repeatable',
      (v: string, prev: LiveChannelSpec[]) => [...prev, parseLiveSpec(v)],
      [] as LiveChannelSpec[],
    )
    .option(
      '--pull-grace <s>',
      'viewers of an rtsp:// live channel stay joined this long while its origin is away, then get a BYE (default 10)',
      parseIntOption(0, 3600),
    )
    .addOption(
      new Option(
        '--pull-transport <t>',
        "how rtsp:// live channels take their origin's media: tcp (interleaved, default) or udp (falls back to tcp when no RTP comes)",
      ).choices(['tcp', 'udp']),
    )
    .option(
      '--pull-tls-ca <file>',
      "rtsps:// origins (and a front's rtsps:// edges): the PEM CA to check their certificate against (default: the system's)",
    )
    .option('--pull-tls-insecure', 'rtsps:// origins and edges: accept any certificate (logged at warn; for tests only)')
    .option(
      '--redirect-to <urls>',
      'be a redirecting front: answer DESCRIBE with 302 + Location on the least loaded of these edges (rtsp://[USER:PASS@]HOST:PORT,...; credentials for edges with --auth read, better in the config file than in ps)',
      (v: string) => parseEdgeList(v),
    )
    .option(
      '--redirect-poll <ms>',
      'how often the front asks each edge for its load (GET_PARAMETER sessions; default 2000)',
      parseIntOption(100, 600_000),
    )
    .option('--multicast <cidr>', 'allow multicast SETUP of live channels, groups taken from this range (e.g. 239.255.0.0/16)')
    .option('--multicast-ports <min-max>', 'UDP ports of the multicast groups (default 50000-50999)')
    .option('--multicast-ttl <n>', 'TTL of multicast packets', parseIntOption(1, 255), 1)
    .option('--multicast-interface <addr>', "local interface address multicast is sent on (default: the system's)")
    .option('--multicast-allow-destination', 'let clients choose the group with Transport destination= (refused by default)')
    .option('--cache-dir <dir>', 'where files that are not MP4/MOV are prepared through ffmpeg (default <dir>/.streamlab-cache)')
    .option(
      '--cache-max-mb <n>',
      'size limit of the preparation cache: past it the least recently used prepared files (not in use) are removed',
      parseIntOption(1, 100_000_000),
      DEFAULT_CACHE_MAX_MB,
    )
    .option('--prepare-wait <s>', 'DESCRIBE waits this long for a running preparation, then 503 + Retry-After', parseIntOption(0, 600), 3)
    .option('--auth-file <file>', 'require RTSP authentication (Digest) of these users: htdigest lines user:realm:HA1 (MD5 or SHA-256 HA1)')
    .addOption(
      new Option(
        '--auth <rule>',
        'which requests need credentials: read (DESCRIBE, SETUP, PLAY...), publish (ANNOUNCE, RECORD), all (default) or none (only where config paths: rules name users)',
      ).choices(['read', 'publish', 'all', 'none']),
    )
    .option('--auth-realm <realm>', 'Digest realm; users of other realms in the file are skipped (default streamlab)')
    .option(
      '--auth-basic',
      'also offer Basic authentication (over plain RTSP refused without --auth-basic-insecure: the password goes in clear)',
    )
    .option('--auth-basic-insecure', 'allow --auth-basic over plain TCP')
    .option(
      '--http <port>',
      'operator HTTP: JSON API (/api/sessions, /api/live) and Prometheus /metrics on this port',
      parseIntOption(0, 65535),
    )
    .option('--http-host <addr>', 'address of the operator HTTP (default 127.0.0.1: only this machine)')
    .option('--tls-cert <file>', 'serve RTSPS (TLS) with this PEM certificate chain (with --tls-key)')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option(
      '--workers <n>',
      'worker processes sharing the sessions (auto: one per core); a live channel and a file stay on one worker (default 1: one process)',
      parseWorkers,
    )
    .option('--auth-nonce-lifetime <s>', 'Digest nonces older than this are stale (default 300)', parseIntOption(10, 86400))
    .addHelpText(
      'after',
      [
        '',
        'Files that are not MP4/MOV are prepared through ffmpeg reading that file only: playlists and',
        'scripts that name other files or URLs (HLS .m3u8, DASH, ffconcat, IMF, SDP, ...) are refused (415).',
        'An ffmpeg: live source publishes without a secret on its command line (Linux: its connection is',
        'recognized by process). SIGINT, SIGTERM and SIGHUP stop the server: BYE to every client, ffmpeg',
        'children ended, exit 0.',
      ].join('\n'),
    )
    .action(async (dirArg: string, cliFlags: ServeFlags, cmd: Command) => {
      let config: ServeConfig | undefined;
      if (cliFlags.config) {
        const r = await loadConfigFile(cliFlags.config, cmd);
        if (!r.ok) throw new ConfigMistakes(r.mistakes);
        config = r.config;
      }
      // Flags given on the command line win over the file's; the file's win over the defaults.
      const flags = config ? mergeFlags(cliFlags, config.flags, (k) => cmd.getOptionValueSource(k) === 'cli') : cliFlags;
      if (config) {
        const merged = mergedMistakes(config, flags as unknown as Record<string, unknown>, cliFlags.config ?? '');
        if (merged.length > 0) throw new ConfigMistakes(merged);
      }
      const dir = cmd.args.length > 0 ? dirArg : (config?.media ?? dirArg);
      if (flags.logFormat) setLogFormat(flags.logFormat);
      if (flags.log) setLogLevel(flags.log);
      else if (flags.verbose) setLogLevel('info');
      // A server's operator sees every session start and end and every refusal by default.
      else setDefaultLogLevel('info');
      const st = await stat(dir).catch(() => undefined);
      // A redirecting front serves no media of its own: its directory may be missing.
      if (flags.redirectTo) {
        if (st) process.stdout.write(`redirecting front: ${dir} is not served\n`);
      } else if (st && !st.isDirectory())
        throw new Error(`${dir} is a file; give the folder that holds it: streamlab serve ${path.dirname(dir)}`);
      else if (!st) throw new Error(`media directory ${dir} does not exist`);
      const worker = process.env.STREAMLAB_WORKER !== undefined ? (await import('../cluster/index.ts')).workerFromEnv() : undefined;
      const impairment = flags.netem
        ? { ...(await impairmentFromCli(flags.netem, flags.netemSeed)), rtcp: flags.netemRtcp === true }
        : undefined;
      if (flags.netem && !worker) printNetemNotice('--netem', flags.netem);
      const tls = await tlsFromFlags(flags);
      const auth = await authFromFlags(flags, (line) => process.stderr.write(`${line}\n`), tls !== undefined);
      const unknownUsers = auth ? (config?.users ?? []).filter((u) => !auth.users.has(u)) : [];
      if (unknownUsers.length > 0)
        throw new Error(
          `${cliFlags.config}: paths: rules name users the users file ${flags.authFile} does not have: ${unknownUsers.join(', ')}`,
        );
      const live = [...flags.live, ...(config?.live ?? [])];
      const options: ServerOptions = {
        mediaDir: dir,
        host: flags.host,
        port: flags.port,
        rtpPortRange: flags.rtpPorts ? parsePortRange(flags.rtpPorts) : undefined,
        udpPorts: flags.udpPorts,
        mtu: flags.mtu,
        sessionTimeoutSec: flags.sessionTimeout,
        maxSessions: flags.maxSessions,
        idleTimeoutMs: flags.idleTimeout * 1000,
        requestTimeoutMs: flags.requestTimeout * 1000,
        maxConnectionsPerAddress: flags.maxConnectionsPerAddress,
        maxConnections: flags.maxConnections,
        maxWriteBacklogBytes: flags.maxWriteBacklog,
        impairment,
        live,
        paths: config?.paths,
        multicast: multicastFromFlags(flags),
        ...(flags.pullGrace !== undefined ? { pull: { downGraceMs: flags.pullGrace * 1000 } } : {}),
        ...(flags.pullTransport ? { pullTransport: flags.pullTransport } : {}),
        ...(await pullTlsFromFlags(flags)),
        cacheDir: flags.cacheDir,
        prepareWaitMs: (flags.prepareWait ?? 3) * 1000,
        preparer: preparerForServe(dir, flags.cacheDir, flags.cacheMaxMb),
        auth,
        tls,
        ...(flags.redirectTo
          ? { redirect: { edges: flags.redirectTo, ...(flags.redirectPoll !== undefined ? { pollMs: flags.redirectPoll } : {}) } }
          : {}),
      };
      // A worker of `--workers N` (started by the primary with the same command line): serve, print nothing.
      if (worker) return (await import('../cluster/index.ts')).runWorker(options, worker);
      // Signals are taken from here on: one that comes while the server starts (workers forked, a
      // relay folder made) stops it as soon as it is up, rather than killing it half-started.
      let stopOnSignal: ((signal: NodeJS.Signals) => void) | undefined;
      let signalWhileStarting: NodeJS.Signals | undefined;
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
        process.on(signal, () => {
          if (stopOnSignal) stopOnSignal(signal);
          else if (signalWhileStarting) process.exit(1);
          else signalWhileStarting = signal;
        });
      const workers = flags.workers ?? 1;
      const server: Served =
        workers > 1 ? await servedCluster(options, workers, flags.http !== undefined) : servedServer(await RtspServer.listen(options));
      const shown = flags.host === '0.0.0.0' || flags.host === '::' ? '127.0.0.1' : flags.host;
      const scheme = tls ? 'rtsps' : 'rtsp';
      process.stdout.write(`streamlab serving ${dir} on ${scheme}://${shown}:${server.port}/<file>  (Ctrl-C to stop)\n`);
      for (const c of live) process.stdout.write(`live channel ${scheme}://${shown}:${server.port}/${liveSpecPath(c)}\n`);
      for (const r of config?.paths ?? []) {
        const note = ruleUrlNote(r);
        if (note) process.stdout.write(`path ${scheme}://${shown}:${server.port}/${r.path}  (${note})\n`);
      }
      if (flags.redirectTo)
        process.stdout.write(`redirecting DESCRIBE to the least loaded of ${flags.redirectTo.map(withoutUserinfo).join(', ')}\n`);
      // Loaded only with --http: ws, prom-client and the dashboard cost nothing otherwise.
      const operator =
        flags.http !== undefined
          ? await (
              await import('../operator/index.ts')
            ).OperatorHttp.start(server.operator, { port: flags.http, host: flags.httpHost }).catch(async (err: unknown) => {
              await server.close();
              throw new Error(`--http ${flags.http}: ${String(err)}`);
            })
          : undefined;
      if (operator) process.stdout.write(`dashboard ${operator.url}  (API ${operator.url}api/sessions, metrics ${operator.url}metrics)\n`);
      const found = await mediaFilesIn(dir);
      for (const f of found.files)
        process.stdout.write(`  ${scheme}://${shown}:${server.port}/${f.split(path.sep).map(encodeURIComponent).join('/')}\n`);
      if (found.more > 0) process.stdout.write(`  ... and ${found.more} more\n`);
      // SIGHUP (the terminal closed, or `kill -HUP`) stops like Ctrl-C and SIGTERM: BYE to every
      // client, ffmpeg children ended and waited for, exit 0. A second signal while stopping exits
      // at once (status 1).
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) process.exit(1);
        stopping = true;
        // After a hangup the terminal is gone: a write to it must not end the shutdown.
        if (signal === 'SIGHUP') for (const s of [process.stdout, process.stderr]) s.on('error', () => undefined);
        void Promise.all([operator?.close(), server.close()]).then(() => process.exit(0));
      };
      stopOnSignal = stop;
      if (signalWhileStarting) stop(signalWhileStarting);
    });
}
