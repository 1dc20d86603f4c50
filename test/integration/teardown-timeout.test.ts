/**
 * Issue 2, test 6: TEARDOWN and the session timeout free everything a session holds.
 *
 * After TEARDOWN the session is gone from snapshot(), RTP stops, a BYE went out, and what its UDP
 * tracks held is free: with per-session pairs, the server's ports from the SETUP answer can be bound
 * again; with the shared pair (the default), the client's ports can be set up by a new session. With `sessionTimeoutSec: 1` (the server
 * expires a session 1 s + 5 s grace after the last sign of life), a client that goes silent after
 * PLAY — no RTSP, no RTCP — loses its session and ports the same way, while clients that send
 * GET_PARAMETER keep-alives, or only RTCP receiver reports (over UDP or interleaved), keep theirs.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { RtspTestClient, canBindUdp } from '../helpers/rtsp-client.ts';
import type { ClientTrack } from '../helpers/rtsp-client.ts';
import { RawConnection } from '../helpers/raw-connection.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

const TIMEOUT_SEC = 1;
const GRACE_SEC = 5;

for (const udpPorts of ['shared', 'per-session'] as const)
  describe_(`session end frees the session, its packets and its ports (${udpPorts} UDP ports)`, () => {
    const { server, url } = serverForSuite({ sessionTimeoutSec: TIMEOUT_SEC, udpPorts });
    const closed = new Map<string, { reason: string; atMs: number }>();

    beforeAll(async () => {
      server.events.on('session-closed', (e) => closed.set(e.id, { reason: e.reason, atMs: performance.now() }));
    });

    /** A client with both tracks set up over `lower` and playing. */
    async function playingClient(lower: 'udp' | 'tcp'): Promise<{ client: RtspTestClient; tracks: ClientTrack[]; playSentMs: number }> {
      const client = await RtspTestClient.connect(url());
      const tracks = [
        (await client.setup(url('sample.mp4/trackID=1'), lower)).track,
        (await client.setup(url('sample.mp4/trackID=2'), lower)).track,
      ];
      expect(client.sessionTimeout).toBe(TIMEOUT_SEC);
      const playSentMs = performance.now();
      expect((await client.play(url())).response.statusCode).toBe(200);
      await Promise.all(tracks.map((t) => t.waitForPackets(5)));
      return { client, tracks, playSentMs };
    }

    const serverPorts = (tracks: ClientTrack[]) => tracks.flatMap((t) => t.transport.serverPort!);

    /** While the session lives, its server ports are bound (the shared pair: the same for every track). */
    async function expectHeld(tracks: ClientTrack[]): Promise<void> {
      const ports = serverPorts(tracks);
      expect(ports).toHaveLength(4);
      if (udpPorts === 'shared') expect(new Set(ports)).toEqual(new Set([server.sharedUdpPorts!.rtpPort, server.sharedUdpPorts!.rtcpPort]));
      for (const p of ports) expect(await canBindUdp(p)).toBe(false);
    }

    /** Per-session pairs: their ports can be bound again. Shared: the client's ports are free for a new session. */
    async function expectFreed(tracks: ClientTrack[]): Promise<void> {
      if (udpPorts === 'per-session') {
        for (const p of serverPorts(tracks)) expect(await canBindUdp(p)).toBe(true);
        return;
      }
      const c = await RawConnection.open(server.port);
      try {
        let session: string | undefined;
        for (const t of tracks) {
          const [rtp, rtcp] = t.transport.clientPort!;
          const res = await c.request('SETUP', t.url, {
            CSeq: String(tracks.indexOf(t) + 1),
            Transport: `RTP/AVP;unicast;client_port=${rtp}-${rtcp}`,
            ...(session ? { Session: session } : {}),
          });
          expect(res.statusCode).toBe(200);
          session = res.headers.get('Session')!.split(';')[0];
        }
        await c.request('TEARDOWN', url(), { CSeq: '9', Session: session! });
      } finally {
        c.close();
      }
    }
    const hasSession = (id: string | undefined) => server.snapshot().sessions.some((s) => s.id === id);

    /** No packet arrives on any track for `ms`, after `settleMs` for packets already on their way. */
    async function expectSilence(tracks: ClientTrack[], settleMs = 300, ms = 1000): Promise<void> {
      await sleep(settleMs);
      const counts = tracks.map((t) => t.rtp.length);
      await sleep(ms);
      expect(tracks.map((t) => t.rtp.length)).toEqual(counts);
    }

    it.concurrent('TEARDOWN: session gone, packets stop, BYE sent, server ports free', async () => {
      const { client, tracks } = await playingClient('udp');
      try {
        const id = client.session;
        expect(hasSession(id)).toBe(true);
        // While the session lives its ports are taken.
        await expectHeld(tracks);

        expect((await client.teardown(url())).statusCode).toBe(200);
        expect(hasSession(id)).toBe(false);
        expect(closed.get(id!)?.reason).toBe('teardown');
        await expectSilence(tracks);
        for (const t of tracks) expect(t.rtcp.some((p) => p.type === 'bye')).toBe(true);
        await expectFreed(tracks);
        // The session id is dead for later requests.
        expect((await client.getParameter(url())).statusCode).toBe(454);
      } finally {
        client.close();
      }
    });

    it.concurrent('timeout: the silent client loses its session; keep-alives (RTSP or RTCP) keep theirs', async () => {
      const silent = await playingClient('udp');
      const byGetParameter = await playingClient('udp');
      const byRtcpUdp = await playingClient('udp');
      const byRtcpTcp = await playingClient('tcp');
      const keepers = [byGetParameter, byRtcpUdp, byRtcpTcp];
      let stop = false;
      // Keep-alives every second, well inside the advertised 1 s + 5 s grace.
      const keepAlive = (async () => {
        while (!stop) {
          await byGetParameter.client.getParameter(url()).then((r) => expect(r.statusCode).toBe(200));
          byRtcpUdp.client.sendReceiverReport(byRtcpUdp.tracks[0]!);
          byRtcpTcp.client.sendReceiverReport(byRtcpTcp.tracks[1]!);
          await sleep(1000);
        }
      })();
      try {
        const id = silent.client.session!;
        await waitUntil(() => closed.has(id), (TIMEOUT_SEC + GRACE_SEC) * 1000 + 10_000, 'the silent session to expire');
        expect(closed.get(id)!.reason).toBe('timeout');
        // Timers never fire early: not before timeout + grace after the PLAY (its last sign of life).
        expect(closed.get(id)!.atMs - silent.playSentMs).toBeGreaterThanOrEqual((TIMEOUT_SEC + GRACE_SEC) * 1000 - 5);
        expect(hasSession(id)).toBe(false);
        expect(server.snapshot().counters.sessionsExpired).toBe(1);
        await expectSilence(silent.tracks);
        for (const t of silent.tracks) expect(t.rtcp.some((p) => p.type === 'bye')).toBe(true);
        await expectFreed(silent.tracks);

        // The others are still there, still getting media, and the server counted their RTCP.
        for (const k of keepers) expect(hasSession(k.client.session)).toBe(true);
        const counts = keepers.map((k) => k.tracks[0]!.rtp.length);
        await sleep(1000);
        keepers.forEach((k, i) => expect(k.tracks[0]!.rtp.length).toBeGreaterThan(counts[i]!));
        const snap = server.snapshot().sessions;
        const reports = (k: (typeof keepers)[number], control: string) =>
          snap.find((s) => s.id === k.client.session)!.streams.find((s) => s.control === control)!.receiverReports;
        expect(reports(byRtcpUdp, 'trackID=1')).toBeGreaterThanOrEqual(5);
        expect(reports(byRtcpTcp, 'trackID=2')).toBeGreaterThanOrEqual(5);
      } finally {
        stop = true;
        await keepAlive.catch(() => undefined);
        for (const k of [silent, ...keepers]) {
          if (hasSession(k.client.session)) await k.client.teardown(url()).catch(() => undefined);
          k.client.close();
        }
      }
    });
  });

function describe_(title: string, fn: () => void): void {
  // No external program is needed: the client is ours.
  describe(title, fn);
}
