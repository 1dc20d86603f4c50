/**
 * What the trust bench does to a server on 127.0.0.1, and how it measures a newcomer meanwhile.
 * Every attacking connection binds its own loopback source address (127.x.y.z, all on lo), as
 * clients from many hosts would; the probe comes from 127.0.0.1. Randomness is seeded, so a run's
 * inputs are reproducible.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { createRequest, RtspParser, serializeRequest } from '../../src/rtsp/index.ts';
import type { RtspResponse } from '../../src/rtsp/index.ts';
import { seededRandom } from '../../src/util/random.ts';
import type { Random } from '../../src/util/random.ts';

const SENTINEL_CSEQ = '424242';

/** The n-th attacking source address: 127.1.0.1, 127.1.0.2, … (skips .0 and .255). */
export function sourceAddress(n: number, block = 1): string {
  const rest = Math.floor(n / 254);
  return `127.${block + (rest >> 8)}.${rest & 255}.${(n % 254) + 1}`;
}

export function connect(port: number, localAddress?: string, timeoutMs = 5000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error('connect timeout'));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

/** A control connection that reads responses and interleaved frames. */
class Conversation {
  private readonly parser = new RtspParser({ role: 'client' });
  private waiting: ((r: RtspResponse | undefined) => void) | undefined;
  private readonly responses: RtspResponse[] = [];
  onFrame: (channel: number) => void = () => undefined;
  closed = false;
  private cseq = 0;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (b: Buffer) => {
      for (const ev of this.parser.push(b)) {
        if (ev.type === 'interleaved') this.onFrame(ev.channel);
        else if (ev.type === 'response') this.deliver(ev.response);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.deliver(undefined);
    });
  }

  private deliver(r: RtspResponse | undefined): void {
    if (r) this.responses.push(r);
    const w = this.waiting;
    this.waiting = undefined;
    w?.(this.responses.shift());
  }

  next(timeoutMs: number): Promise<RtspResponse | undefined> {
    if (this.responses.length > 0) return Promise.resolve(this.responses.shift());
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiting = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.waiting = (r) => {
        clearTimeout(t);
        resolve(r);
      };
    });
  }

  async request(method: string, uri: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<RtspResponse> {
    this.socket.write(serializeRequest(createRequest(method, uri, { CSeq: String(++this.cseq), ...headers })));
    const r = await this.next(timeoutMs);
    if (!r) throw new Error(`${method}: no answer`);
    return r;
  }
}

/** The URL of the first track a DESCRIBE answer's SDP lists (its a=control against Content-Base). */
function firstTrackUrl(d: RtspResponse, url: string): string {
  const control = /^a=control:(.+)$/m.exec(d.body.toString('latin1').split(/^m=/m)[1] ?? '')?.[1]?.trim() ?? '';
  const base = d.headers.get('Content-Base') ?? `${url}/`;
  return /^rtsp:/.test(control) ? control : `${base.replace(/\/?$/, '/')}${control}`;
}

export interface ProbeResult {
  connectMs: number;
  describeMs: number;
  firstPacketMs: number;
}

/**
 * A newcomer from 127.0.0.1: connect, DESCRIBE, SETUP of the first track interleaved, PLAY, until
 * its first RTP frame; times from the start of the connect. Throws when any step fails.
 */
export async function probe(port: number, url: string, timeoutMs = 10_000): Promise<ProbeResult> {
  const t0 = performance.now();
  const socket = await connect(port, '127.0.0.1', timeoutMs);
  const connectMs = performance.now() - t0;
  const c = new Conversation(socket);
  try {
    const d = await c.request('DESCRIBE', url, { Accept: 'application/sdp' }, timeoutMs);
    const describeMs = performance.now() - t0;
    if (d.statusCode !== 200) throw new Error(`DESCRIBE ${d.statusCode}`);
    const trackUrl = firstTrackUrl(d, url);
    const s = await c.request('SETUP', trackUrl, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' }, timeoutMs);
    if (s.statusCode !== 200) throw new Error(`SETUP ${s.statusCode}`);
    const session = (s.headers.get('Session') ?? '').split(';')[0]!;
    const first = new Promise<number>((resolve) => (c.onFrame = (ch) => ch === 0 && resolve(performance.now() - t0)));
    const p = await c.request('PLAY', url, { Session: session }, timeoutMs);
    if (p.statusCode !== 200) throw new Error(`PLAY ${p.statusCode}`);
    const firstPacketMs = await Promise.race([
      first,
      new Promise<number>((_, reject) => setTimeout(() => reject(new Error('no RTP')), timeoutMs)),
    ]);
    return { connectMs, describeMs, firstPacketMs };
  } finally {
    socket.destroy();
  }
}

/** `n` probes one after the other: the median and the worst of each time, and the failures. */
export async function probes(
  port: number,
  url: string,
  n: number,
): Promise<{ median: ProbeResult; worst: ProbeResult; failures: string[] }> {
  const ok: ProbeResult[] = [];
  const failures: string[] = [];
  for (let i = 0; i < n; i++) {
    try {
      ok.push(await probe(port, url));
    } catch (e) {
      failures.push((e as Error).message);
    }
  }
  const pick = (f: (xs: number[]) => number): ProbeResult => ({
    connectMs: f(ok.map((r) => r.connectMs)),
    describeMs: f(ok.map((r) => r.describeMs)),
    firstPacketMs: f(ok.map((r) => r.firstPacketMs)),
  });
  const median = (xs: number[]): number => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN);
  return { median: pick(median), worst: pick((xs) => (xs.length ? Math.max(...xs) : NaN)), failures };
}

/** Sockets held open: `silent` send nothing; the others one byte of a request every `dripMs` (slowloris). */
export async function hold(
  port: number,
  n: number,
  mode: 'silent' | 'slowloris',
  dripMs = 10_000,
): Promise<{ sockets: net.Socket[]; refused: number; stop: () => void }> {
  const sockets: net.Socket[] = [];
  let refused = 0;
  const line = Buffer.from(`OPTIONS rtsp://127.0.0.1:${port}/ RTSP/1.0\r\nCSeq: 1\r\nX-Slow: ${'a'.repeat(4000)}`);
  for (let i = 0; i < n; i += 100) {
    const wave = await Promise.allSettled(Array.from({ length: Math.min(100, n - i) }, (_, j) => connect(port, sourceAddress(i + j))));
    for (const w of wave) {
      if (w.status === 'rejected') refused++;
      else {
        w.value.on('error', () => undefined);
        sockets.push(w.value);
      }
    }
  }
  let offset = 0;
  const timer =
    mode === 'slowloris'
      ? setInterval(() => {
          for (const s of sockets) if (!s.destroyed) s.write(line.subarray(offset % line.length, (offset % line.length) + 1));
          offset++;
        }, dripMs)
      : undefined;
  return {
    sockets,
    refused,
    stop: () => {
      if (timer) clearInterval(timer);
      for (const s of sockets) s.destroy();
    },
  };
}

/** Open connections now (not closed by the server). */
export function alive(sockets: readonly net.Socket[]): number {
  return sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
}

/** Clients that pipeline DESCRIBEs and never read; returns the bytes they managed to write. */
export async function slowReaders(
  port: number,
  url: string,
  n: number,
): Promise<{ stop: () => void; written: () => number; closedByServer: () => number }> {
  const sockets: net.Socket[] = [];
  let written = 0;
  let closed = 0;
  const req = serializeRequest(createRequest('DESCRIBE', url, { CSeq: '1', Accept: 'application/sdp' }));
  for (let i = 0; i < n; i++) {
    const s = await connect(port, sourceAddress(i, 20)).catch(() => undefined);
    if (!s) continue;
    s.pause();
    s.on('error', () => undefined);
    s.on('close', () => closed++);
    const pump = (): void => {
      while (!s.destroyed && s.write(req)) written += req.length;
    };
    s.on('drain', pump);
    pump();
    sockets.push(s);
  }
  return { stop: () => sockets.forEach((s) => s.destroy()), written: () => written, closedByServer: () => closed };
}

/** Empty `$` frames on a SETUP-bound interleaved session at `bytesPerSec` (0: as fast as the socket takes them). */
export async function dollarFlood(port: number, url: string, bytesPerSec: number): Promise<{ stop: () => void; frames: () => number }> {
  const s = await connect(port, sourceAddress(0, 30));
  const c = new Conversation(s);
  const d = await c.request('DESCRIBE', url, { Accept: 'application/sdp' });
  const trackUrl = firstTrackUrl(d, url);
  await c.request('SETUP', trackUrl, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
  const frame = Buffer.alloc(64 * 1024);
  for (let i = 0; i < frame.length; i += 4) frame.set([0x24, 1, 0, 0], i); // empty frames on the RTCP channel
  let frames = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  if (bytesPerSec > 0) {
    // Every 10 ms, what is due since the start (whole frames).
    const t0 = performance.now();
    timer = setInterval(() => {
      const due = Math.floor(((performance.now() - t0) / 1000) * (bytesPerSec / 4)) - frames;
      if (due <= 0 || s.destroyed) return;
      s.write(frame.subarray(0, Math.min(due, frame.length / 4) * 4));
      frames += Math.min(due, frame.length / 4);
    }, 10);
  } else {
    const pump = (): void => {
      while (!stopped && !s.destroyed && s.write(frame)) frames += frame.length / 4;
    };
    s.on('drain', pump);
    pump();
  }
  return {
    stop: () => {
      stopped = true;
      if (timer) clearInterval(timer);
      s.destroy();
    },
    frames: () => frames,
  };
}

/** Sessions opened and torn down: DESCRIBE, SETUP (UDP), PLAY, first RTP, TEARDOWN, close. */
export async function churn(
  port: number,
  url: string,
  n: number,
  concurrency: number,
): Promise<{ done: number; failed: number; ms: number }> {
  let next = 0;
  let done = 0;
  let failed = 0;
  const t0 = performance.now();
  const worker = async (w: number): Promise<void> => {
    // RTP goes to the address the control connection came from.
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, sourceAddress(w, 40), r));
    const clientPort = udp.address().port;
    let got: (() => void) | undefined;
    udp.on('message', () => got?.());
    try {
      while (next < n) {
        next++;
        try {
          const s = await connect(port, sourceAddress(w, 40));
          const c = new Conversation(s);
          try {
            const d = await c.request('DESCRIBE', url, { Accept: 'application/sdp' });
            const trackUrl = firstTrackUrl(d, url);
            const st = await c.request('SETUP', trackUrl, { Transport: `RTP/AVP;unicast;client_port=${clientPort}-${clientPort + 1}` });
            if (st.statusCode !== 200) throw new Error(`SETUP ${st.statusCode}`);
            const session = (st.headers.get('Session') ?? '').split(';')[0]!;
            const first = new Promise<void>((resolve) => (got = resolve));
            await c.request('PLAY', url, { Session: session });
            await Promise.race([first, new Promise((r) => setTimeout(r, 3000))]);
            await c.request('TEARDOWN', url, { Session: session });
            done++;
          } finally {
            s.destroy();
          }
        } catch {
          failed++;
        }
      }
    } finally {
      udp.close();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  return { done, failed, ms: performance.now() - t0 };
}

// ---- fuzzing ----

export type FuzzKind = 'bytes' | 'mutated' | 'headers' | 'uris' | 'interleaved';
export const FUZZ_KINDS: readonly FuzzKind[] = ['bytes', 'mutated', 'headers', 'uris', 'interleaved'];

const METHODS = ['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER', 'ANNOUNCE', 'RECORD'];
const NASTY: Record<string, string[]> = {
  Transport: [
    'RTP/AVP;unicast;client_port=0-1',
    'RTP/AVP;unicast;client_port=65535-65536',
    'RTP/AVP/TCP;interleaved=254-255',
    'RTP/AVP/TCP;interleaved=300-301',
    'RTP/AVP;multicast;destination=8.8.8.8;port=5000-5001',
    'RTP/AVP;unicast;destination=10.0.0.1;client_port=5000-5001',
    'RTP/AVP;unicast;client_port=5000-5001;ssrc=zzzz',
    'RTP/AVP;unicast;mode=record;client_port=1-2',
    ',,,;;;==',
    'RTP/AVP'.repeat(500),
  ],
  Range: ['npt=-5-', 'npt=99999999999-', 'npt=now-', 'clock=19961108T142300Z-', 'npt=1e308-', 'smpte=0:00:00-', 'npt=5-1', 'npt=NaN-'],
  Session: ['', '0', 'x'.repeat(1000), '12345678;timeout=0', '-1'],
  CSeq: ['', '-1', '99999999999999999999', 'abc', '1 2'],
  'Content-Length': ['-1', '99999999999', 'abc', '100000000', '5'],
  Authorization: ['Digest', 'Basic', 'Basic !!!', 'Digest username="a", realm=', 'Digest nonce="' + 'A'.repeat(5000) + '"'],
  Scale: ['0', '-0', '1e308', 'NaN', '-16.0001', 'abc'],
  Speed: ['0', '-1', '1e308', 'Infinity'],
  Require: ['implicit-play', 'x'.repeat(100)],
  Blocksize: ['0', '-1', '99999999999'],
  Accept: ['*/*', 'application/sdp;q=0'],
};
const URIS = [
  '*',
  '/sample.mp4',
  'rtsp://127.0.0.1/../../etc/passwd',
  'rtsp://127.0.0.1/%2e%2e/%2e%2e/etc/passwd',
  'rtsp://127.0.0.1/sample.mp4%00.txt',
  'rtsp://127.0.0.1/%ZZ',
  'rtsp://127.0.0.1/sample.mp4?netem=delay+99999999999s',
  'rtsp://127.0.0.1/sample.mp4?netem=loss+random+1%25',
  'rtsp://127.0.0.1/sample.mp4?netem=rate+1bit',
  'rtsp://127.0.0.1/sample.mp4/trackID=999999',
  'rtsp://127.0.0.1/live/' + 'a'.repeat(3000),
  'rtsp://[::1/sample.mp4',
  'rtsp://user:pass@127.0.0.1/sample.mp4',
  'http://127.0.0.1/sample.mp4',
  'rtsp://127.0.0.1/\u00e9\u00e8.mp4',
];

function pick<T>(r: Random, xs: readonly T[]): T {
  return xs[r.uint32() % xs.length]!;
}

function randomBytes(r: Random, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = r.uint32() & 255;
  return b;
}

/** One malformed or hostile input of the given kind, for a server at `url`. */
export function fuzzCase(r: Random, kind: FuzzKind, url: string): Buffer {
  switch (kind) {
    case 'bytes':
      return Buffer.concat([randomBytes(r, 1 + (r.uint32() % 512)), Buffer.from('\r\n\r\n')]);
    case 'mutated': {
      const method = pick(r, METHODS);
      const base = serializeRequest(
        createRequest(method, url, { CSeq: '1', Session: '12345678', Transport: 'RTP/AVP;unicast;client_port=5000-5001', Range: 'npt=0-' }),
      );
      const b = Buffer.from(base);
      const out: number[] = [...b];
      for (let k = 1 + (r.uint32() % 8); k > 0; k--) {
        const at = r.uint32() % out.length;
        const op = r.uint32() % 3;
        if (op === 0) out[at] = r.uint32() & 255;
        else if (op === 1) out.splice(at, 0, r.uint32() & 255);
        else out.splice(at, 1);
      }
      return Buffer.concat([Buffer.from(out), Buffer.from('\r\n\r\n')]);
    }
    case 'headers': {
      const headers: Record<string, string> = { CSeq: '1' };
      for (let k = 1 + (r.uint32() % 3); k > 0; k--) {
        const name = pick(r, Object.keys(NASTY));
        headers[name] = pick(r, NASTY[name]!);
      }
      const head = `${pick(r, METHODS)} ${url} RTSP/1.0\r\n${Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('')}\r\n`;
      return Buffer.from(head, 'latin1');
    }
    case 'uris':
      return Buffer.from(`${pick(r, METHODS)} ${pick(r, URIS)} RTSP/1.0\r\nCSeq: 1\r\n\r\n`, 'utf8');
    case 'interleaved': {
      const len = r.uint32() % 2000;
      const header = Buffer.from([0x24, r.uint32() & 255, len >> 8, len & 255]);
      return Buffer.concat([header, randomBytes(r, r.uint32() % (len + 1))]);
    }
  }
}

export interface FuzzTally {
  cases: number;
  byKind: Record<FuzzKind, number>;
  /** Status of the answer to the case (or 'none' when only the connection's end or silence came). */
  statuses: Record<string, number>;
  /** Cases after which the connection still answered a valid OPTIONS. */
  connectionKept: number;
  closedByServer: number;
  silent: number;
}

/** `n` fuzz cases over `concurrency` connections; each followed by a valid OPTIONS (the sentinel). */
export async function fuzz(
  port: number,
  url: string,
  n: number,
  seed: number,
  concurrency: number,
  progress: (done: number) => void,
): Promise<FuzzTally> {
  const tally: FuzzTally = {
    cases: 0,
    byKind: Object.fromEntries(FUZZ_KINDS.map((k) => [k, 0])) as Record<FuzzKind, number>,
    statuses: {},
    connectionKept: 0,
    closedByServer: 0,
    silent: 0,
  };
  const sentinel = serializeRequest(createRequest('OPTIONS', url, { CSeq: SENTINEL_CSEQ }));
  let next = 0;
  const worker = async (w: number): Promise<void> => {
    const r = seededRandom(seed * 1000 + w);
    let c: Conversation | undefined;
    while (next < n) {
      const i = next++;
      if (!c || c.closed) c = new Conversation(await connect(port, sourceAddress(w, 50)));
      const kind = FUZZ_KINDS[i % FUZZ_KINDS.length]!;
      tally.cases++;
      tally.byKind[kind]++;
      c.socket.write(fuzzCase(r, kind, url));
      c.socket.write(sentinel);
      let status = 'none';
      let kept = false;
      for (;;) {
        const res = await c.next(300);
        if (!res) break;
        if (res.headers.get('CSeq') === SENTINEL_CSEQ && res.statusCode === 200) {
          kept = true;
          break;
        }
        if (status === 'none') status = String(res.statusCode);
      }
      tally.statuses[status] = (tally.statuses[status] ?? 0) + 1;
      if (kept) tally.connectionKept++;
      else if (c.closed) tally.closedByServer++;
      else {
        tally.silent++;
        c.socket.destroy();
      }
      if (tally.cases % 1000 === 0) progress(tally.cases);
    }
    c?.socket.destroy();
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  return tally;
}
