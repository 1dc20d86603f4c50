/**
 * `--fast`: one run in simulated time. The production components without sockets, on a
 * ManualClock: the file's packetized samples → the server's RtpStream (and its RtcpSession) →
 * ImpairedEgress (the same netem pipeline and seeds as a served session) → an in-memory link →
 * the receiver's TrackReceiver (RFC 3550 statistics, jitter buffer, depacketizer) with simulated
 * arrival times; its RRs go back into the server's RtcpSession. Only the recording (ffmpeg remux)
 * is real, and it takes no part in timing.
 */

import path from 'node:path';
import type { FateRecord } from '../impair/index.ts';
import { startIndexFor } from '../sender/seek.ts';
import { PlayTimeline } from '../sender/play-timeline.ts';
import { RtcpSession } from '../sender/rtcp-session.ts';
import { RtpSender } from '../sender/rtp-sender.ts';
import { RtpStream } from '../sender/rtp-stream.ts';
import { ChunkCache, describeSdp, openMediaEntry } from '../server/index.ts';
import type { ReceiverReportRecord } from '../server/index.ts';
import { parseSdp } from '../sdp/index.ts';
import { TrackReceiver, tracksFromSdp } from '../receiver/index.ts';
import type { Sink } from '../receiver/index.ts';
import { Scheduler } from '../transport/index.ts';
import type { Egress } from '../transport/index.ts';
import { ManualClock } from '../util/clock.ts';
import { seededRandom } from '../util/random.ts';
import { sampleReceivers } from './collect.ts';
import type { RunSpec } from './experiment.ts';
import { RunImpairment } from './impairment.ts';
import type { RunObservation } from './observation.ts';

/** Largest IP packet, as the server's default MTU. */
const MTU = 1500;
/** IPv4 + UDP + RTP fixed header: what the server subtracts from the MTU. */
const HEADER_OVERHEAD = 40;
/** Simulated time per step; the runner yields to the event loop between steps (recording I/O). */
const STEP_MS = 250;
/** Extra media preloaded past the end of the span (the pacer runs ahead by the B-frame delay). */
const PRELOAD_MARGIN_SEC = 2;

/** Separates the run's identifier/interval stream from the netem seeds (pathSeed of spec.seed). */
const RANDOM_SEED_SALT = 0x1ab5_eed0;

/** An egress that hands packets straight to the receiving side: the wire of the simulation. */
class SimLink implements Egress {
  dropped = 0;
  constructor(
    readonly kind: 'udp' | 'tcp',
    private readonly onRtp: (buf: Buffer) => void,
    private readonly onRtcp: (buf: Buffer) => void,
  ) {}
  sendRtp(header: Buffer, payload: Buffer): void {
    this.onRtp(Buffer.concat([header, payload]));
  }
  sendRtcp(packet: Buffer): void {
    this.onRtcp(packet);
  }
}

export async function runFast(spec: RunSpec, sink: Sink | undefined): Promise<RunObservation> {
  const clock = new ManualClock(0);
  // SSRCs, first sequence numbers, timestamp bases and RTCP intervals from the run's seed (on a
  // stream of its own, apart from netem's): the same seeds give the same results.json.
  const random = seededRandom((spec.seed ^ RANDOM_SEED_SALT) >>> 0);
  const serverScheduler = new Scheduler(clock);
  const rxScheduler = new Scheduler(clock);
  const entry = await openMediaEntry(spec.media, path.basename(spec.media), MTU - HEADER_OVERHEAD, new ChunkCache());
  try {
    const sdp = parseSdp(describeSdp(entry, { localIp: '127.0.0.1', serverName: 'streamlab-lab' }));
    if (!sdp.ok) throw new Error(`internal: our own SDP does not parse (${sdp.code})`);
    const tracks = tracksFromSdp(sdp.value, `rtsp://sim/${entry.relPath}`);
    await sink?.open(tracks);
    const positions = startIndexFor(
      entry.tracks.map((t) => t.source.track),
      spec.startNpt,
    );
    const startNpt = positions.startNpt;
    const endNpt = startNpt + spec.durationSec;
    const timeline = new PlayTimeline();
    const reports: ReceiverReportRecord[][] = [];
    const fates: (readonly FateRecord[])[] = [];
    const seq0: number[] = [];
    const receivers: TrackReceiver[] = [];
    const rtcps: RtcpSession[] = [];
    const streams: RtpStream[] = [];
    const cname = 'streamlab-lab-sim';
    const impairment = new RunImpairment(spec);
    for (const [i, served] of entry.tracks.entries()) {
      const trackRecords: ReceiverReportRecord[] = [];
      reports.push(trackRecords);
      // Preload the span so that the stream never waits for a file read in simulated time.
      const src = served.source;
      const first = positions.indices[i] ?? 0;
      let last = first;
      const ts = src.track.timescale;
      while (last < src.sampleCount - 1 && (src.track.samples.dts[last] ?? 0) / ts < endNpt + PRELOAD_MARGIN_SEC) last++;
      for (let c = src.chunkOf(first); c <= src.chunkOf(last); c++) await src.loadChunk(c);
      let rx: TrackReceiver | undefined;
      const pollTask = { run: (now: number) => rx!.poll(now) ?? Infinity };
      const link = new SimLink(
        spec.transport,
        (buf) => {
          const now = clock.now();
          rx!.onRtp(buf, now);
          const next = rx!.poll(now);
          if (next !== undefined) rxScheduler.schedule(pollTask, next);
        },
        (buf) => rx!.onRtcp(buf, clock.now()),
      );
      const track = tracks[i]!;
      // Always through the emulator (an empty config passes everything) so that every run has its fate log.
      const impaired = impairment.egress(link, i, clock, serverScheduler);
      const returnPath = impairment.returnStage(i, clock, rxScheduler, spec.transport === 'tcp');
      fates.push(impaired.rtp.fates);
      const sender = new RtpSender(src.format, impaired, random);
      const stream = new RtpStream(
        served.control,
        src,
        sender,
        timeline,
        (s) => serverScheduler.schedule(s, clock.now()),
        () => undefined,
        (_s, err) => {
          throw err instanceof Error ? err : new Error(String(err));
        },
      );
      await stream.seek(first, endNpt);
      seq0.push(sender.seq);
      const rtcp = new RtcpSession(sender, impaired, {
        clock,
        random,
        scheduler: serverScheduler,
        cname: 'streamlab-lab-server',
        isPlaying: () => stream.isPlaying,
        rtpNow: () => stream.rtpTimeAt(timeline.mediaTimeAt(clock.now())),
        counters: { rtcpMalformed: 0, rtcpReceived: 0, natKeepAlives: 0 },
        report: { sessionId: 'sim', media: entry.relPath, control: served.control, transport: spec.transport },
        onActivity: () => undefined,
        onReport: (r) => trackRecords.push(r),
      });
      const serverRtcp = rtcp;
      rx = new TrackReceiver(track, {
        jitter: spec.jitter.settings,
        cname,
        ssrc: random.uint32(),
        random,
        waitKeyframe: spec.waitKeyframe,
        sendRtcp: (buf) => {
          const receive = (b: Buffer) => serverRtcp.receive(b, `sim:${served.control}`);
          if (returnPath) returnPath.pass([buf], (p) => receive(p[0] ?? buf));
          else receive(buf);
        },
        wallClock: () => clock.wallNow(),
        onUnit: (u) => sink?.write(u),
      });
      rx.sync = { rtpInfo: { rtptime: stream.rtpTimeAt(startNpt), startNpt } };
      receivers.push(rx);
      rtcps.push(rtcp);
      streams.push(stream);
      const r = rx;
      rxScheduler.schedule({ run: (now) => (r.sendReport(now), now + r.nextReportIntervalMs()) }, clock.now() + r.nextReportIntervalMs());
    }
    // PLAY.
    const t0 = clock.now();
    timeline.start(startNpt, t0);
    for (const [i, s] of streams.entries()) {
      s.start();
      serverScheduler.schedule(s, t0);
      rtcps[i]!.start();
    }
    const series = [];
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
    // TEARDOWN: the receiver drains its buffers and sends its last RR (with BYE) before the server stops.
    const now = clock.now();
    for (const r of receivers) {
      r.drain(now);
      r.sendReport(now, 'teardown');
    }
    for (const [i, s] of streams.entries()) {
      s.stop();
      serverScheduler.remove(s);
      rtcps[i]!.close();
    }
    series.push(...sampleReceivers(receivers, (now - t0) / 1000));
    const rtcpFates = receivers.map((_, i) => impairment.rtcpFates(i));
    const returnFates = receivers.map((_, i) => impairment.returnFates(i));
    return { receivers, fates, rtcpFates, returnFates, seq0, reports, series, end: 'duration', startNpt, endNpt };
  } finally {
    await entry.file.close();
  }
}
