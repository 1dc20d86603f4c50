/**
 * Issue 11, one unconnected server RTP/RTCP pair for every UDP session (src/transport/shared-udp.ts):
 * - each track's datagrams reach its own client, byte-exact, from the one pair; with the native
 *   sender every track's datagrams of one synchronous run leave in one native call and one run on
 *   one descriptor (one sendmmsg), with the js sender through dgram, none through the batch;
 * - datagrams to the pair are routed by source address:port to their track; from an unknown
 *   source (a port the client did not declare) they are dropped and counted; a closed track's
 *   source is unknown again and its ports may be claimed anew; a second claim is refused;
 * - the server answers every UDP SETUP with the shared server_port, refuses a SETUP naming
 *   another session's client ports (461 SRV_ERR_CLIENT_PORTS_IN_USE), and keeps per-session pairs
 *   with `udpPorts: 'per-session'`.
 */
import dgram from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SharedPortsError, SharedUdpPorts, nativeSendmmsg, udpBatchStats } from '../../src/transport/index.ts';
import type { SharedUdpEgress, UdpSenderKind } from '../../src/transport/index.ts';
import { parseUdpPorts } from '../../src/cli/serve.ts';
import { parseTransport } from '../../src/rtsp/index.ts';
import { RtspServer } from '../../src/server/index.ts';
import { RawConnection } from '../helpers/raw-connection.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { waitUntil } from '../helpers/wait.ts';

const HOST = '127.0.0.1';

interface Client {
  rtp: dgram.Socket;
  rtcp: dgram.Socket;
  got: { rtp: Buffer[]; rtcp: Buffer[] };
  ports: [number, number];
}

async function client(): Promise<Client> {
  const got = { rtp: [] as Buffer[], rtcp: [] as Buffer[] };
  const bind = (into: Buffer[]) =>
    new Promise<dgram.Socket>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.on('message', (m) => into.push(m));
      s.bind(0, HOST, () => resolve(s));
    });
  const rtp = await bind(got.rtp);
  const rtcp = await bind(got.rtcp);
  return { rtp, rtcp, got, ports: [rtp.address().port, rtcp.address().port] };
}

const sendFrom = (s: dgram.Socket, b: Buffer, port: number) => new Promise<void>((r) => s.send(b, port, HOST, () => r()));

const senders: UdpSenderKind[] = nativeSendmmsg() ? ['native', 'js'] : ['js'];

describe('SharedUdpPorts', () => {
  let ports: SharedUdpPorts;
  const clients: Client[] = [];
  beforeAll(async () => {
    ports = await SharedUdpPorts.bind(HOST, { range: { min: 20000, max: 29999 } }, 8);
  });
  afterAll(() => ports.close());
  afterEach(() => {
    for (const c of clients.splice(0)) {
      c.rtp.close();
      c.rtcp.close();
    }
  });

  for (const sender of senders) {
    it(`sends every track's datagrams from the one pair to its own client (${sender} sender)`, async () => {
      const cs = await Promise.all([client(), client(), client()]);
      clients.push(...cs);
      const routed: string[] = [];
      const egresses = cs.map((c, i) =>
        ports.open(
          HOST,
          c.ports[0],
          c.ports[1],
          { rtp: () => routed.push(`rtp ${i}`), rtcp: (_m, from) => routed.push(`rtcp ${i} ${from}`) },
          sender,
        ),
      );
      expect(egresses.map((e) => e.sender)).toEqual([sender, sender, sender]);
      const before = { ...(udpBatchStats() ?? { datagrams: 0, flushes: 0, runs: 0 }) };
      // One synchronous run (a scheduler wake): two RTP packets per track, then one RTCP of track 1.
      const header = (i: number, k: number) => Buffer.from([0x80, 96, 0, k, 0, 0, 0, i, 0, 0, 0, i]);
      const payload = Buffer.from('shared payload');
      for (let k = 0; k < 2; k++) egresses.forEach((e, i) => e.sendRtp(header(i, k), payload));
      egresses[1]!.sendRtcp(Buffer.from([0x81, 0xc8, 0, 1, 0, 0, 0, 1]));
      await waitUntil(() => cs.every((c) => c.got.rtp.length === 2) && cs[1].got.rtcp.length === 1, 5000, 'every datagram');
      cs.forEach((c, i) => {
        expect(c.got.rtp.map((b) => b.toString('hex'))).toEqual([0, 1].map((k) => Buffer.concat([header(i, k), payload]).toString('hex')));
      });
      expect(cs[1].got.rtcp[0]!.toString('hex')).toBe('81c8000100000001');
      const after = udpBatchStats() ?? { datagrams: 0, flushes: 0, runs: 0 };
      if (sender === 'native') {
        // The RTCP flushes at once (after the RTP queued before it): one call, the 6 RTP
        // datagrams one run on the RTP socket, the RTCP one on the RTCP socket.
        expect(after.datagrams - before.datagrams).toBe(7);
        expect(after.flushes - before.flushes).toBe(1);
        expect(after.runs - before.runs).toBe(2);
      } else {
        expect(after.datagrams - before.datagrams).toBe(0);
      }

      // Incoming: routed by source; a port the client did not declare is unknown.
      const unknown = ports.stats.unknownSource;
      await sendFrom(cs[2].rtcp, Buffer.from([0x80, 0xc9, 0, 1, 0, 0, 0, 2]), ports.rtcpPort);
      await sendFrom(cs[0].rtp, Buffer.from([0xfe, 0xed, 0xfa, 0xce]), ports.rtpPort);
      await sendFrom(cs[0].rtp, Buffer.from([0x80, 0xc9, 0, 1, 0, 0, 0, 2]), ports.rtcpPort);
      await waitUntil(() => routed.length === 2 && ports.stats.unknownSource === unknown + 1, 5000, 'the routed datagrams');
      expect(routed).toEqual([`rtcp 2 ${HOST}:${cs[2].ports[1]}`, 'rtp 0']);

      // A second claim of a source is refused; closing frees it, and its datagrams are unknown again.
      expect(() => ports.open(HOST, cs[0].ports[0], 1, { rtp: () => undefined, rtcp: () => undefined })).toThrow(SharedPortsError);
      for (const e of egresses) e.close();
      // The routes go after this turn of the event loop: a last RR read in the same poll as the
      // TEARDOWN still reaches its session.
      expect(ports.routes).toBe(egresses.length);
      await new Promise((resolve) => setImmediate(resolve));
      expect(ports.routes).toBe(0);
      egresses[0]!.sendRtp(header(0, 9), payload);
      expect(egresses[0]!.dropped).toBe(1);
      await sendFrom(cs[2].rtcp, Buffer.from([0x80, 0xc9, 0, 1, 0, 0, 0, 2]), ports.rtcpPort);
      await waitUntil(() => ports.stats.unknownSource === unknown + 2, 5000, 'the datagram of a closed track counted');
      const again: SharedUdpEgress = ports.open(HOST, cs[0].ports[0], cs[0].ports[1], { rtp: () => undefined, rtcp: () => undefined });
      again.close();
      await new Promise((resolve) => setImmediate(resolve));
    });
  }

  it('refuses claims past its bound (full), and frees them again', async () => {
    const open: SharedUdpEgress[] = [];
    const none = { rtp: () => undefined, rtcp: () => undefined };
    for (let i = 0; i < ports.maxRoutes; i++) open.push(ports.open('10.9.0.1', 6000 + 2 * i, 6001 + 2 * i, none));
    const err = (() => {
      try {
        ports.open('10.9.0.2', 6000, 6001, none);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SharedPortsError);
    expect((err as SharedPortsError).reason).toBe('full');
    for (const e of open) e.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(ports.routes).toBe(0);
  });
});

describe('the server over its shared pair', () => {
  const { server } = serverForSuite({ udpPorts: 'shared' });

  async function setup(c: RawConnection, cseq: number, clientPorts: [number, number], session?: string) {
    const res = await c.request('SETUP', `rtsp://${HOST}:${server.port}/sample.mp4/trackID=${cseq}`, {
      CSeq: String(cseq),
      Transport: `RTP/AVP;unicast;client_port=${clientPorts[0]}-${clientPorts[1]}`,
      ...(session ? { Session: session } : {}),
    });
    const t = res.statusCode === 200 ? parseTransport(res.headers.get('Transport')!) : undefined;
    return { res, serverPort: t?.ok ? t.value[0]!.serverPort : undefined, session: res.headers.get('Session')?.split(';')[0] };
  }

  it('answers every UDP SETUP with the shared pair and refuses client ports another session holds (461)', async () => {
    const shared = server.sharedUdpPorts!;
    expect(shared.rtpPort % 2).toBe(0);
    expect(shared.rtcpPort).toBe(shared.rtpPort + 1);
    const a = await RawConnection.open(server.port);
    const b = await RawConnection.open(server.port);
    try {
      const first = await setup(a, 1, [41000, 41001]);
      expect(first.res.statusCode).toBe(200);
      expect(first.serverPort).toEqual([shared.rtpPort, shared.rtcpPort]);
      const second = await setup(a, 2, [41002, 41003], first.session);
      expect(second.serverPort).toEqual([shared.rtpPort, shared.rtcpPort]);
      // Another session naming the first one's RTCP port: refused, the first one keeps its routes.
      const thief = await setup(b, 1, [41004, 41001]);
      expect(thief.res.statusCode).toBe(461);
      expect(thief.res.headers.get('Transport')).toBeUndefined();
      expect(server.snapshot().udp).toMatchObject({ mode: 'shared', rtpPort: shared.rtpPort, routes: 2 });
      expect(
        (await a.request('TEARDOWN', `rtsp://${HOST}:${server.port}/sample.mp4`, { CSeq: '3', Session: first.session! })).statusCode,
      ).toBe(200);
      await waitUntil(() => (server.snapshot().udp as { routes: number }).routes === 0, 5000, 'the routes freed');
      // Free again once the session is gone.
      const later = await setup(b, 1, [41004, 41001]);
      expect(later.res.statusCode).toBe(200);
      await b.request('TEARDOWN', `rtsp://${HOST}:${server.port}/sample.mp4`, { CSeq: '2', Session: later.session! });
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('per-session pairs on request', () => {
  const { server } = serverForSuite({ udpPorts: 'per-session' });

  it('gives every UDP track a pair of its own', async () => {
    expect(server.sharedUdpPorts).toBeUndefined();
    expect(server.snapshot().udp).toEqual({ mode: 'per-session' });
    const a = await RawConnection.open(server.port);
    try {
      const ports: number[][] = [];
      let session: string | undefined;
      for (const cseq of [1, 2]) {
        const res = await a.request('SETUP', `rtsp://${HOST}:${server.port}/sample.mp4/trackID=${cseq}`, {
          CSeq: String(cseq),
          Transport: `RTP/AVP;unicast;client_port=${41100 + 2 * cseq}-${41101 + 2 * cseq}`,
          ...(session ? { Session: session } : {}),
        });
        expect(res.statusCode).toBe(200);
        session = res.headers.get('Session')!.split(';')[0];
        const t = parseTransport(res.headers.get('Transport')!);
        if (t.ok) ports.push(t.value[0]!.serverPort!);
      }
      expect(ports[0]).not.toEqual(ports[1]);
      await a.request('TEARDOWN', `rtsp://${HOST}:${server.port}/sample.mp4`, { CSeq: '3', Session: session! });
    } finally {
      a.close();
    }
  });
});

describe('serve --udp-ports', () => {
  it('takes shared, per-session or an even/odd pair, and refuses anything else', () => {
    expect(parseUdpPorts('shared')).toBe('shared');
    expect(parseUdpPorts('per-session')).toBe('per-session');
    expect(parseUdpPorts('8000-8001')).toEqual({ rtpPort: 8000 });
    for (const bad of ['8001-8002', '8000-8002', '8000', '80-81', '65536-65537', 'shared,per-session', ''])
      expect(() => parseUdpPorts(bad), bad).toThrow(/--udp-ports/);
  });

  it('a server asked for a pair that is taken does not start', async () => {
    const taken = await SharedUdpPorts.bind(HOST, { range: { min: 30000, max: 39999 } }, 1);
    try {
      const err = await RtspServer.listen({ mediaDir: 'media', host: HOST, port: 0, udpPorts: { rtpPort: taken.rtpPort } }).catch(
        (e: unknown) => e,
      );
      expect(String(err)).toMatch(new RegExp(`cannot bind the shared UDP ports: UDP ports ${taken.rtpPort}-${taken.rtcpPort}`));
    } finally {
      taken.close();
    }
  });
});
