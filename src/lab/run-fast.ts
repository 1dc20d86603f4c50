/**
 * `--fast`: one run in simulated time, through the server's public API like the real-time run
 * (run-realtime.ts), with no socket. An in-process RtspServer (RtspServer.inProcess) on a
 * ManualClock (its scheduler, timers, RTCP intervals and expiry all on simulated time) with the
 * run's seeded Random, asked in RTSP over an in-memory connection (RtspServer.connect: DESCRIBE,
 * SETUP, PLAY, TEARDOWN; the answers come while the clock stands still). Its egress
 * hook puts the run's netem emulator (ImpairedEgress, with its fate log) in front of a simulated
 * link that hands every packet straight to the in-process receiver (TrackReceiver: RFC 3550
 * statistics, jitter buffer, depacketizer) at the simulated time it leaves the emulator; the
 * receiver's RTCP goes back to the server's RTCP handling through the hook's `receiveRtcp`. So
 * the server side is the code that serves clients; only the wire is simulated. The recording
 * (ffmpeg remux) is real and takes no part in timing.
 *
 * The SETUP asks for interleaved channels whatever the run's transport, so that no UDP port is
 * bound (port choice would draw on the seeded Random depending on the machine's free ports): the
 * hook replaces that path with the link, whose kind is the run's transport.
 */

import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { FateRecord } from '../impair/index.ts';
import { parseRange } from '../rtsp/index.ts';
import type { RtspResponse } from '../rtsp/index.ts';
import { startIndexFor } from '../sender/seek.ts';
import { RtspServer } from '../server/index.ts';
import type { EgressHookFactory, MediaEntry, ReceiverReportRecord, StreamTrackStart } from '../server/index.ts';
import { parseSdp } from '../sdp/index.ts';
import { RtspClientConnection, TrackReceiver, tracksFromSdp } from '../receiver/index.ts';
import type { Sink } from '../receiver/index.ts';
import { Scheduler } from '../transport/index.ts';
import type { Egress } from '../transport/index.ts';
import { ManualClock } from '../util/clock.ts';
import { seededRandom } from '../util/random.ts';
import { sampleReceivers } from './collect.ts';
import type { RunSpec } from './experiment.ts';
import { RunImpairment, presentationTracks } from './impairment.ts';
import type { RunObservation } from './observation.ts';
import type { SeriesPoint } from './result-types.ts';

/** Simulated time per step; the runner yields to the event loop between steps (recording I/O). */
const STEP_MS = 250;
/** End of a run: simulated time given at most to the emulators to empty, in steps of DRAIN_STEP_MS. */
const MAX_DRAIN_MS = 10_000;
const DRAIN_STEP_MS = 5;
/** Extra media preloaded past the end of the span (the pacer runs ahead by the B-frame delay). */
const PRELOAD_MARGIN_SEC = 2;

/** Separates the run's identifier/interval stream from the netem seeds (as run-realtime.ts). */
const RANDOM_SEED_SALT = 0x1ab5_eed0;

/** The receiving end of one track's simulated wire: the receiver, once SETUP made the link. */
interface SimTrack {
  rx: TrackReceiver;
  /** The server's RTCP handling of this track (the hook's receiveRtcp). */
  toServer?: (data: Buffer, from: string) => void;
}

/** An egress that hands packets straight to the receiving side: the wire of the simulation. */
class SimLink implements Egress {
  dropped = 0;
  /** The receiver left (its final report sent): what the server sends after that reaches no one. */
  cut = false;
  constructor(
    readonly kind: 'udp' | 'tcp',
    private readonly onRtp: (buf: Buffer) => void,
    private readonly onRtcp: (buf: Buffer) => void,
  ) {}
  sendRtp(header: Buffer, payload: Buffer): void {
    if (!this.cut) this.onRtp(Buffer.concat([header, payload]));
  }
  sendRtcp(packet: Buffer): void {
    if (!this.cut) this.onRtcp(packet);
  }
}

function expectOk(res: RtspResponse, what: string): RtspResponse {
  if (res.statusCode !== 200) throw new Error(`${what}: ${res.statusCode} ${res.reason}`);
  return res;
}

export async function runFast(spec: RunSpec, sink: Sink | undefined): Promise<RunObservation> {
  // The server would only answer 404 or 500: say what is wrong with the file itself.
  await access(spec.media, constants.R_OK);
  const clock = new ManualClock(0);
  // SSRCs, first sequence numbers, timestamp bases, session ids and RTCP intervals of both sides
  // from the run's seed (on a stream of its own, apart from netem's): the same seeds give the
  // same results.json.
  const random = seededRandom((spec.seed ^ RANDOM_SEED_SALT) >>> 0);
  const rxScheduler = new Scheduler(clock);
  /** Per track control: the receiving end, and what the hook made of its path. */
  const sim = new Map<string, SimTrack>();
  const fatesOf = new Map<string, readonly FateRecord[]>();
  const links: SimLink[] = [];
  // The run's condition on the server side (RTP per track or a shared link, the server's RTCP) and
  // on the receiver's RTCP back (the return path), with their fate logs: as run-realtime.ts.
  const impairment = new RunImpairment(spec);
  const egress: EgressHookFactory = (serverClock, scheduler) => (_direct, t) => {
    const end = sim.get(t.control);
    if (!end) throw new Error(`internal: SETUP of ${t.control}, which the lab did not describe`);
    end.toServer = t.receiveRtcp;
    const rx = end.rx;
    const pollTask = { run: (now: number) => rx.poll(now) ?? Infinity };
    const link = new SimLink(
      spec.transport,
      (buf) => {
        const now = clock.now();
        rx.onRtp(buf, now);
        const next = rx.poll(now);
        if (next !== undefined) rxScheduler.schedule(pollTask, next);
      },
      (buf) => rx.onRtcp(buf, clock.now()),
    );
    links.push(link);
    // Always through the emulator (an empty config passes everything) so that every run has its fate log.
    const e = impairment.egress(link, t.trackIndex, serverClock, scheduler);
    fatesOf.set(t.control, e.rtpFates);
    return { egress: e, release: () => e.close() };
  };
  const server = await RtspServer.inProcess({
    clock,
    random,
    mediaDir: path.dirname(spec.media),
    host: '127.0.0.1',
    serverName: 'streamlab-lab',
    egress,
  });
  const records: ReceiverReportRecord[] = [];
  const started = new Map<string, StreamTrackStart>();
  let sessionId: string | undefined;
  const offStarted = server.events.on('stream-started', (s) => {
    sessionId ??= s.id;
    if (s.id === sessionId) for (const t of s.tracks) if (!started.has(t.control)) started.set(t.control, t);
  });
  const offRr = server.events.on('receiver-report', (r) => {
    if (r.sessionId === sessionId) records.push(r);
  });
  let entry: MediaEntry | undefined;
  let client: RtspClientConnection | undefined;
  try {
    const name = path.basename(spec.media);
    const url = `rtsp://127.0.0.1/${encodeURIComponent(name)}`;
    client = RtspClientConnection.over(server.connect(), { host: 'in-process', port: 554, random });
    const described = expectOk(await client.request('DESCRIBE', url, { Accept: 'application/sdp' }), 'DESCRIBE');
    const sdp = parseSdp(described.body.toString('utf8'));
    if (!sdp.ok) throw new Error(`the server's SDP does not parse (${sdp.code})`);
    const tracks = tracksFromSdp(sdp.value, described.headers.get('Content-Base') ?? `${url}/`);
    impairment.bind(presentationTracks(tracks));
    await sink?.open(tracks);

    // Preload the span into the server's chunk cache (held until the end, so that it stays), so
    // that no stream waits for a file read in simulated time.
    entry = await server.catalog.acquire(name);
    const positions = startIndexFor(
      entry.tracks.map((t) => t.source.track),
      spec.startNpt,
    );
    const endNpt = positions.startNpt + spec.durationSec;
    for (const [i, served] of entry.tracks.entries()) {
      const src = served.source;
      const first = positions.indices[i] ?? 0;
      let last = first;
      const ts = src.track.timescale;
      while (last < src.sampleCount - 1 && (src.track.samples.dts[last] ?? 0) / ts < endNpt + PRELOAD_MARGIN_SEC) last++;
      for (let c = src.chunkOf(first); c <= src.chunkOf(last); c++) await src.loadChunk(c);
    }

    const receivers: TrackReceiver[] = [];
    for (const track of tracks) {
      const control = track.controlUrl.split('/').pop() ?? '';
      // The receiver's RTCP to the server, through the return path when the condition impairs it.
      const returnPath = impairment.returnStage(track.index, clock, rxScheduler, spec.transport === 'tcp');
      const toServer = (b: Buffer) => end.toServer?.(b, `sim:${control}`);
      const end: SimTrack = {
        rx: new TrackReceiver(track, {
          jitter: spec.jitter.settings,
          cname: 'streamlab-lab-sim',
          ssrc: random.uint32(),
          random,
          waitKeyframe: spec.waitKeyframe,
          sendRtcp: (buf) => {
            if (returnPath) returnPath.pass([buf], (p) => toServer(p[0] ?? buf));
            else toServer(buf);
          },
          wallClock: () => clock.wallNow(),
          onUnit: (u) => sink?.write(u),
        }),
      };
      sim.set(control, end);
      receivers.push(end.rx);
    }

    let session: string | undefined;
    for (const [i, track] of tracks.entries()) {
      const headers: Record<string, string> = { Transport: `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}` };
      if (session !== undefined) headers.Session = session;
      const res = expectOk(await client.request('SETUP', track.controlUrl, headers), `SETUP ${track.controlUrl}`);
      session ??= res.headers.get('Session')?.split(';')[0]?.trim();
    }
    if (session === undefined) throw new Error('SETUP answered without a Session');

    // PLAY: the server starts sending at the clock's current time as soon as its answer is out.
    const played = expectOk(
      await client.request('PLAY', url, { Session: session, Range: `npt=${String(spec.startNpt)}-${String(endNpt)}` }),
      'PLAY',
    );
    const range = parseRange(played.headers.get('Range') ?? '');
    const startNpt = range.ok && typeof range.value.start === 'number' ? range.value.start : positions.startNpt;
    const seq0: (number | undefined)[] = [];
    for (const rx of receivers) {
      const t = started.get(rx.track.controlUrl.split('/').pop() ?? '');
      if (t) rx.sync = { rtpInfo: { rtptime: t.rtptime, startNpt } };
      seq0[rx.track.index] = t?.seq;
      rxScheduler.schedule(
        { run: (now) => (rx.sendReport(now), now + rx.nextReportIntervalMs()) },
        clock.now() + rx.nextReportIntervalMs(),
      );
    }

    const t0 = clock.now();
    const series: SeriesPoint[] = [];
    const durationMs = spec.durationSec * 1000;
    let nextSample = 1000;
    while (clock.now() - t0 < durationMs) {
      clock.advance(Math.min(STEP_MS, durationMs - (clock.now() - t0)));
      while (clock.now() - t0 >= nextSample) {
        series.push(...sampleReceivers(receivers, nextSample / 1000));
        nextSample += 1000;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // The end of the run, defined as in real time so that the fate logs and the final RRs count
    // the same packets: the server stops (PAUSE), what the emulators still hold arrives, the
    // receiver drains its buffers and sends its last RR (with BYE), which reaches the server
    // through the return path, then TEARDOWN.
    expectOk(await client.request('PAUSE', url, { Session: session }), 'PAUSE');
    const settle = () => {
      const limit = clock.now() + MAX_DRAIN_MS;
      while (impairment.heldPackets > 0 && clock.now() < limit) clock.advance(DRAIN_STEP_MS);
    };
    settle();
    const now = clock.now();
    for (const r of receivers) {
      r.drain(now);
      r.sendReport(now, 'teardown');
    }
    settle();
    for (const l of links) l.cut = true;
    expectOk(await client.request('TEARDOWN', url, { Session: session }), 'TEARDOWN');
    series.push(...sampleReceivers(receivers, (now - t0) / 1000));
    const fates: (readonly FateRecord[])[] = [];
    const reports: ReceiverReportRecord[][] = [];
    for (const rx of receivers) {
      const control = rx.track.controlUrl.split('/').pop() ?? '';
      fates[rx.track.index] = fatesOf.get(control) ?? [];
      reports[rx.track.index] = records.filter((r) => r.control === control);
    }
    const rtcpFates = receivers.map((rx) => impairment.rtcpFates(rx.track.index));
    const returnFates = receivers.map((rx) => impairment.returnFates(rx.track.index));
    const traceOffsets = impairment.traceOffsets();
    return { receivers, fates, rtcpFates, returnFates, seq0, reports, series, end: 'duration', startNpt, endNpt, traceOffsets };
  } finally {
    offStarted();
    offRr();
    client?.close();
    if (entry) server.catalog.release(entry);
    await server.close();
  }
}
