/**
 * Sessions of one file share their send instants: each PLAY at Scale 1 starts its timeline on the
 * file's send lattice (send-grid.ts: the AAC track's 21.33 ms frames), so sixteen sessions started
 * at odd moments and positions send every audio packet at a lattice instant, and the scheduler
 * wakes at most twice a period for all of them. Video goes at the midpoints between two instants
 * over UDP (a frame's burst to every client does not delay the audio), and at the instants
 * themselves over TCP (a client's video joins its audio in one write to its connection: one
 * wake-up a period). An in-process server on a manual clock (its connections are interleaved; a
 * hook that says `udp` makes the presentation time them as UDP tracks); every packet's send time
 * is taken at the egress.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sendLattice } from '../../src/sender/send-grid.ts';
import { RtspServer } from '../../src/server/index.ts';
import { RtspClientConnection } from '../../src/transport/rtsp-client.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { seededRandom } from '../../src/util/random.ts';
import { MEDIA_DIR } from '../helpers/server.ts';

/** Enough sessions that their own send instants would fill most milliseconds. */
const SESSIONS = 16;

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('sessions of one file on its send lattice', () => {
  let server: RtspServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it.each([
    { kind: 'udp' as const, video: 'a midpoint', wakeupsPerPeriod: 2 },
    { kind: 'tcp' as const, video: 'a lattice instant', wakeupsPerPeriod: 1 },
  ])(
    'over $kind send audio at a lattice instant and video at $video, and share the wake-ups',
    async ({ kind, wakeupsPerPeriod }) => {
      const clock = new ManualClock();
      /** Clock time and track of every RTP packet sent, per session. */
      const sent = new Map<string, { at: number; track: number }[]>();
      server = await RtspServer.inProcess({
        clock,
        random: seededRandom(5),
        mediaDir: MEDIA_DIR,
        host: '127.0.0.1',
        serverName: 'test',
        egress: () => (direct, t) => {
          const times = sent.get(t.sessionId) ?? [];
          sent.set(t.sessionId, times);
          return {
            egress: {
              kind,
              sendRtp: (h, p) => {
                times.push({ at: clock.now(), track: t.trackIndex });
                direct.sendRtp(h, p);
              },
              sendRtcp: (p) => direct.sendRtcp(p),
              get dropped() {
                return direct.dropped;
              },
            },
            release: () => undefined,
          };
        },
      });
      // The whole file in the chunk cache, so that no stream waits for a read in simulated time.
      const entry = await server.catalog.acquire('sample.mp4');
      for (const t of entry.tracks) for (let c = 0; c <= t.source.chunkOf(t.source.sampleCount - 1); c++) await t.source.loadChunk(c);
      const lattice = entry.sendLattice!;
      expect(lattice).toEqual(sendLattice(entry.tracks.map((t) => t.source.track)));
      expect(entry.tracks[lattice.track]!.source.format.media).toBe('audio');
      expect(lattice.periodSec).toBeCloseTo(1024 / 48000, 12);
      const period = lattice.periodSec * 1000;
      const phase = lattice.phaseSec * 1000;

      const url = 'rtsp://127.0.0.1/sample.mp4';
      const clients: RtspClientConnection[] = [];
      const play = async (range: string) => {
        const c = RtspClientConnection.over(server!.connect(), { host: 'in-process', port: 554, random: seededRandom(clients.length) });
        clients.push(c);
        const a = await c.request('SETUP', `${url}/trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
        const session = a.headers.get('Session')!.split(';')[0]!;
        await c.request('SETUP', `${url}/trackID=2`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3', Session: session });
        expect((await c.request('PLAY', url, { Session: session, Range: range })).statusCode).toBe(200);
      };
      const run = async (ms: number, step = 0.1) => {
        for (let t = 0; t < ms; t += step) {
          clock.advance(step);
          await tick();
        }
      };
      // Sixteen sessions, started at odd moments, at odd positions.
      clock.advance(0.37);
      for (let i = 0; i < SESSIONS; i++) {
        await play(`npt=${((i * 1.37) % 9).toFixed(2)}-`);
        await run(7.3 + (i % 5) * 3.1);
      }
      await run(300);
      const from = clock.now();
      const wakeupsBefore = server.snapshot().scheduler.wakeups;
      await run(1000);
      const wakeups = server.snapshot().scheduler.wakeups - wakeupsBefore;

      expect(sent.size).toBe(SESSIONS);
      /** Half-periods (lattice instants and midpoints) at which each session sent in the measured second. */
      let ownInstants = 0;
      for (const [id, all] of sent) {
        // A PLAY starts its timeline up to a period back and sends what fell due at once: the
        // measured second has every session in its steady pace.
        const times = all.filter((p) => p.at >= from);
        expect(times.length, id).toBeGreaterThan(100);
        for (const { at, track } of times) {
          // Audio at a lattice instant, video at a midpoint over UDP and an instant over TCP (to
          // within rounding, or within the manual clock's 0.1 ms step after it).
          const shift = track === lattice.track || kind === 'tcp' ? 0 : period / 2;
          const k = (at - phase - shift) / period;
          const off = k - Math.round(k);
          expect(off, `${id} track ${track} at ${at}`).toBeGreaterThan(-1e-9);
          expect(off, `${id} track ${track} at ${at}`).toBeLessThan(0.1 / period);
        }
        ownInstants += new Set(times.map((p) => Math.round((p.at - phase) / (period / 2)))).size;
      }
      // Each session sends at ~72 instants a second over UDP (25 video frames, 46.9 AAC frames),
      // ~47 over TCP: on timelines of their own the sessions would need a wake-up for nearly each
      // of theirs. On the lattice there are 94 instants a second (47 over TCP), whatever the
      // number of sessions; RTCP adds a few.
      expect(ownInstants).toBeGreaterThan(kind === 'udp' ? 1000 : 700);
      expect(wakeups).toBeLessThan((wakeupsPerPeriod * 1000) / period + 25);
      for (const c of clients) c.close();
      server.catalog.release(entry);
    },
    30_000,
  );
});
