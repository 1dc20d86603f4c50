/**
 * `npm run bench:join`: the CPU one client's join costs, alone. A real server listens in this
 * process on 127.0.0.1 (a free port, the shared UDP pair, as `serve` and the server bench run it)
 * on media/sample.mp4, and a bare RTSP client in the same process joins it N times one after
 * another, each time on a new TCP connection: OPTIONS, DESCRIBE, SETUP of track 1 and track 2
 * (RTP/AVP unicast to the client ports of two UDP socket pairs bound once, which drop what they
 * get), PLAY, then TEARDOWN at once (so that little media is sent), and the connection closed.
 * The process's CPU time (user + sys) over a round, divided by N, is printed per round, with the
 * median over rounds. The figure includes the client's side (its writes, its reads, this
 * minimal parsing) and the loopback's kernel work: a change to the server shows in it, the
 * figure itself is not the server's alone. The first rounds only warm V8 up and are not counted;
 * a full GC runs before each round. `npm run bench:join` runs it compiled by tsc
 * (tsconfig.bench.json), as the server bench runs its server: through tsx, the loader's thread
 * woke the main one ~30 times per join and its CPU counted in the figure.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RtspServer } from '../src/server/index.ts';
import { machineInfo } from './proc-stats.ts';
import { REPO_ROOT } from './targets.ts';
import { intOption, median } from './numbers.ts';

const HELP = `npm run bench:join -- [options]
  --joins N           joins per round, one after another (default 100)
  --rounds R          measured rounds (default 7)
  --warmup-rounds R   rounds run first and not counted, while V8 compiles the join (default 3)`;

const MEDIA = 'sample.mp4';
/** As the bench's server (bench/server-process.ts, which runs its main when imported): far above one round. */
const MAX_SESSIONS = 6000;
/** A response larger than this is a bug of the bench or the server, not something to wait for. */
const MAX_RESPONSE_BYTES = 64 * 1024;

interface Response {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** One RTSP connection that sends a request and reads its whole response (head, then Content-Length bytes). */
class BareRtsp {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: ((r: Response) => void) | undefined;
  private failed: ((e: Error) => void) | undefined;
  private cseq = 0;
  readonly closed: Promise<void>;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.take();
    });
    socket.on('error', (err) => this.failed?.(err));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static open(port: number): Promise<BareRtsp> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.removeListener('error', reject);
        resolve(new BareRtsp(s));
      });
      s.once('error', reject);
    });
  }

  request(method: string, url: string, headers: Record<string, string> = {}): Promise<Response> {
    let text = `${method} ${url} RTSP/1.0\r\nCSeq: ${++this.cseq}\r\nUser-Agent: join-bench\r\n`;
    for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
      this.socket.write(`${text}\r\n`);
    });
  }

  private take(): void {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.buf.length > MAX_RESPONSE_BYTES) this.failed?.(new Error('response head too large'));
      return;
    }
    const lines = this.buf.toString('latin1', 0, end).split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const length = Number(headers.get('content-length') ?? '0');
    if (this.buf.length < end + 4 + length) return;
    const body = this.buf.toString('utf8', end + 4, end + 4 + length);
    this.buf = this.buf.subarray(end + 4 + length);
    const w = this.waiting;
    this.waiting = undefined;
    w?.({ status, headers, body });
  }

  close(): Promise<void> {
    this.socket.end();
    return this.closed;
  }
}

function expectOk(r: Response, what: string): Response {
  if (r.status !== 200) throw new Error(`${what}: ${r.status}`);
  return r;
}

/** One join: OPTIONS, DESCRIBE, SETUP ×2, PLAY, TEARDOWN, close. */
async function join(port: number, clientPorts: [string, string]): Promise<void> {
  const url = `rtsp://127.0.0.1:${port}/${MEDIA}`;
  const c = await BareRtsp.open(port);
  expectOk(await c.request('OPTIONS', url), 'OPTIONS');
  const d = expectOk(await c.request('DESCRIBE', url, { Accept: 'application/sdp' }), 'DESCRIBE');
  if (!d.body.includes('a=control:trackID=2')) throw new Error('DESCRIBE: SDP without a second track');
  const a = expectOk(
    await c.request('SETUP', `${url}/trackID=1`, { Transport: `RTP/AVP;unicast;client_port=${clientPorts[0]}` }),
    'SETUP 1',
  );
  const session = a.headers.get('session')!.split(';')[0]!;
  expectOk(
    await c.request('SETUP', `${url}/trackID=2`, { Transport: `RTP/AVP;unicast;client_port=${clientPorts[1]}`, Session: session }),
    'SETUP 2',
  );
  expectOk(await c.request('PLAY', url, { Session: session, Range: 'npt=0-' }), 'PLAY');
  expectOk(await c.request('TEARDOWN', url, { Session: session }), 'TEARDOWN');
  await c.close();
}

/** A UDP socket on 127.0.0.1 (a free port) that drops what it receives. */
function bindSink(): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.on('message', () => undefined);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      joins: { type: 'string', default: '100' },
      rounds: { type: 'string', default: '7' },
      'warmup-rounds': { type: 'string', default: '3' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const joins = intOption('joins', values.joins, 1, 5000);
  const rounds = intOption('rounds', values.rounds, 1, 50);
  const warmup = intOption('warmup-rounds', values['warmup-rounds'], 0, 20);
  const m = machineInfo();
  process.stdout.write(
    `join bench, ${new Date().toISOString()}\nmachine: ${m.cpuModel}, ${m.cores} cores, node ${m.node}; load average ${m.loadAvg.join(' / ')}\n`,
  );
  process.stdout.write(
    `${joins} joins per round of media/${MEDIA} (OPTIONS, DESCRIBE, SETUP ×2 over UDP, PLAY, TEARDOWN), one after another\n` +
      `CPU of this process: the server's AND the client's side (and the loopback's kernel work)\n\n`,
  );
  const sinks = await Promise.all([bindSink(), bindSink(), bindSink(), bindSink()]);
  const ports = sinks.map((s) => s.address().port);
  const clientPorts: [string, string] = [`${ports[0]}-${ports[1]}`, `${ports[2]}-${ports[3]}`];
  const server = await RtspServer.listen({
    mediaDir: path.join(REPO_ROOT, 'media'),
    host: '127.0.0.1',
    port: 0,
    maxConnectionsPerAddress: 1_000_000,
    maxSessions: MAX_SESSIONS,
    udpPorts: 'shared',
  });
  try {
    const us: number[] = [];
    for (let r = 0; r < warmup + rounds; r++) {
      (globalThis as { gc?: () => void }).gc?.();
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < joins; i++) await join(server.port, clientPorts);
      const cpu = process.cpuUsage(cpu0);
      const wallMs = performance.now() - t0;
      const perJoin = (cpu.user + cpu.system) / joins;
      if (r >= warmup) us.push(perJoin);
      process.stdout.write(
        `${r < warmup ? 'warm-up' : `round ${r - warmup + 1}`}: CPU ${((cpu.user + cpu.system) / 1000).toFixed(1)} ms ` +
          `(user ${(cpu.user / 1000).toFixed(1)}, sys ${(cpu.system / 1000).toFixed(1)}) in ${wallMs.toFixed(0)} ms, ${perJoin.toFixed(0)} µs/join\n`,
      );
    }
    process.stdout.write(
      `\nmedian ${median(us).toFixed(0)} µs/join (min ${Math.min(...us).toFixed(0)}, max ${Math.max(...us).toFixed(0)}), client side included\n`,
    );
  } finally {
    await server.close();
    for (const s of sinks) s.close();
  }
}

await main();
