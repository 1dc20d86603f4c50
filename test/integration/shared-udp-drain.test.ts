/**
 * Issue 11: the shared RTCP socket read in batches at the scheduler's wake-ups
 * (src/transport/datagram-drain.ts, native/recvmmsg.c) instead of by Node, one event-loop wake-up
 * per receiver report:
 * - what was queued is read in one run, byte-exact, with its source, and handed on with the
 *   kernel's arrival time, not the time it was read (read 150+ ms later here, the arrival within a
 *   few ms of the send): an RTCP round trip stays exact;
 * - more than a batch queued is read in one run; a datagram longer than a slot is dropped and
 *   counted, the ones around it are not; Node no longer reads the socket;
 * - through SharedUdpPorts: a client's report reaches its track with its arrival time, and one
 *   sent just before the track closes still does (read before the route goes);
 * - a server on the real clock reads its shared RTCP socket this way (snapshot), and the RTT of
 *   our own receiver's reports stays a loopback's.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { DRAIN_SLOT_BYTES, DatagramDrain, Scheduler, SharedUdpPorts, nativeSendmmsg } from '../../src/transport/index.ts';
import { realClock } from '../../src/util/clock.ts';
import { ntpMiddle32, ntpToUnixMs } from '../../src/util/ntp.ts';
import { parseTransport } from '../../src/rtsp/index.ts';
import type { ReceiverReportRecord } from '../../src/sender/qos.ts';
import { peersRequired } from '../helpers/peers.ts';
import { RawConnection } from '../helpers/raw-connection.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { untilKernelStamps } from '../helpers/kernel-stamps.ts';
import { waitUntil } from '../helpers/wait.ts';

const HOST = '127.0.0.1';
const withReader = typeof (nativeSendmmsg() as { recvBatch?: unknown } | undefined)?.recvBatch === 'function';
if (!withReader && peersRequired()) throw new Error('the native addon with its batched reader is required (npm run build:native)');
const describeReader = withReader ? describe : describe.skip;

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function socket(): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, HOST, () => resolve(s));
  });
}

const sendTo = (s: dgram.Socket, b: Buffer, port: number) =>
  new Promise<void>((resolve, reject) => s.send(b, port, HOST, (err) => (err ? reject(err) : resolve())));

interface Got {
  msg: Buffer;
  ip: string;
  port: number;
  arrivalWallMs: number;
  readAtMs: number;
}

describeReader('DatagramDrain', () => {
  const open: { close(): void }[] = [];
  afterEach(() => {
    for (const o of open.splice(0)) o.close();
  });

  /** A drain of a fresh socket; `then` runs after each datagram is recorded. */
  async function setup(periodMs: number, then: () => void = () => undefined) {
    const scheduler = new Scheduler(realClock);
    const server = await socket();
    const client = await socket();
    let nodeMessages = 0;
    server.on('message', () => nodeMessages++);
    const got: Got[] = [];
    const drain = DatagramDrain.open(
      server,
      scheduler,
      realClock,
      () => periodMs,
      (msg, ip, port, arrivalWallMs) => {
        got.push({ msg, ip, port, arrivalWallMs, readAtMs: realClock.wallNow() });
        then();
      },
    );
    if (!drain) throw new Error('DatagramDrain.open refused an IPv4 socket with the addon loaded');
    open.push(drain, server, client);
    await untilKernelStamps();
    return { drain, server, client, got, nodeMessages: () => nodeMessages };
  }

  it('hands on what was queued with its source and the kernel arrival time, not the read time', async () => {
    const { drain, server, client, got, nodeMessages } = await setup(200);
    const port = server.address().port;
    const sentAt: number[] = [];
    for (let i = 0; i < 3; i++) {
      sentAt.push(realClock.wallNow());
      await sendTo(client, Buffer.from([0x80, 0xc9, 0, 1, 0, 0, 0, i]), port);
      await pause(20);
    }
    await waitUntil(() => got.length === 3, 3000, 'three datagrams read');
    expect(got.map((g) => [...g.msg])).toEqual([0, 1, 2].map((i) => [0x80, 0xc9, 0, 1, 0, 0, 0, i]));
    expect(got.every((g) => g.ip === HOST && g.port === client.address().port)).toBe(true);
    // Read in one run, at least 150 ms after the first was sent (the lazy period is 200 ms) ...
    expect(got[0]!.readAtMs - sentAt[0]!).toBeGreaterThan(150);
    expect(drain.stats.runs).toBeGreaterThanOrEqual(1);
    // ... yet each carries when it came: within a few ms of its send, 20 ms apart.
    got.forEach((g, i) => {
      expect(g.arrivalWallMs - sentAt[i]!).toBeGreaterThan(-1);
      expect(g.arrivalWallMs - sentAt[i]!).toBeLessThan(10);
    });
    expect(nodeMessages()).toBe(0);
  });

  it('reads more than a batch in one run; drops and counts a datagram longer than a slot', async () => {
    const { drain, server, client, got } = await setup(100);
    const port = server.address().port;
    for (let i = 0; i < 150; i++) {
      const b = Buffer.alloc(i === 70 ? DRAIN_SLOT_BYTES + 1 : 40);
      b.writeUInt16BE(i, 0);
      await sendTo(client, b, port);
    }
    await waitUntil(() => got.length === 149, 3000, '149 datagrams read');
    expect(got.map((g) => g.msg.readUInt16BE(0))).toEqual([...Array(150).keys()].filter((i) => i !== 70));
    expect(drain.stats).toMatchObject({ datagrams: 149, cut: 1, errors: 0 });
  });

  it('a handler that asks for a read while one runs (a session it ends) gets every datagram once, in order', async () => {
    // Every delivery asks for a read again, as a handler that ends a session does.
    const { drain, server, client, got } = await setup(100, () => drain.read());
    const port = server.address().port;
    for (let i = 0; i < 100; i++) await sendTo(client, Buffer.from([i]), port);
    await waitUntil(() => got.length === 100, 3000, '100 datagrams read');
    expect(got.map((g) => g.msg[0])).toEqual([...Array(100).keys()]);
  });
});

describeReader('SharedUdpPorts with the drain', () => {
  it('routes a client report with its arrival time, and reads a last one before the route goes', async () => {
    const scheduler = new Scheduler(realClock);
    const ports = await SharedUdpPorts.bind(HOST, { range: { min: 20000, max: 29999 } }, 4, { scheduler, clock: realClock });
    const rtp = await socket();
    const rtcp = await socket();
    try {
      expect(ports.rtcpDrain).toBeDefined();
      await untilKernelStamps();
      const got: { msg: Buffer; from: string; arrivalWallMs: number | undefined }[] = [];
      const egress = ports.open(HOST, rtp.address().port, rtcp.address().port, {
        rtp: () => undefined,
        rtcp: (msg, from, arrivalWallMs) => got.push({ msg, from, arrivalWallMs }),
      });
      const sentAt = realClock.wallNow();
      await sendTo(rtcp, Buffer.from('first'), ports.rtcpPort);
      await waitUntil(() => got.length === 1, 3000, 'the report routed');
      expect(got[0]!.from).toBe(`${HOST}:${rtcp.address().port}`);
      expect(got[0]!.arrivalWallMs! - sentAt).toBeLessThan(10);
      expect(got[0]!.arrivalWallMs! - sentAt).toBeGreaterThan(-1);
      // A report sent just before the track closes: read when the route goes (a turn of the loop
      // later), well before the next lazy run.
      await sendTo(rtcp, Buffer.from('last'), ports.rtcpPort);
      egress.close();
      await waitUntil(() => ports.routes === 0, 1000, 'the route released');
      expect(got.map((g) => g.msg.toString())).toEqual(['first', 'last']);
      expect(ports.stats.unknownSource).toBe(0);
    } finally {
      rtp.close();
      rtcp.close();
      ports.close();
    }
  });
});

describeReader('a server on the real clock', () => {
  const { server } = serverForSuite({ udpPorts: 'shared' });

  it('reads its shared RTCP socket in batches, and a report answering its SR gives a loopback round trip', async () => {
    const rtp = await socket();
    const rtcp = await socket();
    const c = await RawConnection.open(server.port);
    const reports: ReceiverReportRecord[] = [];
    const off = server.events.on('receiver-report', (r) => reports.push(r));
    try {
      const url = `rtsp://${HOST}:${server.port}/sample.mp4`;
      const setup = await c.request('SETUP', `${url}/trackID=2`, {
        CSeq: '1',
        Transport: `RTP/AVP;unicast;client_port=${rtp.address().port}-${rtcp.address().port}`,
      });
      expect(setup.statusCode).toBe(200);
      const session = setup.headers.get('Session')!.split(';')[0]!;
      const t = parseTransport(setup.headers.get('Transport')!);
      if (!t.ok) throw new Error('no Transport');
      const serverRtcp = t.value[0]!.serverPort![1];
      await untilKernelStamps();
      // Answer the first sender report: LSR its NTP time's middle 32 bits, DLSR the time since the
      // server stamped it (1/65536 s). Server and client share a clock here, so the round trip the
      // server works out is the report's own way back alone (how long this process took to see the
      // SR, busy as CI is, is not in it), less the two units DLSR is shortened by to keep it >= 0.
      const sr = new Promise<{ ssrc: number; lsr: number; wallMs: number }>((resolve) =>
        rtcp.on('message', (m: Buffer) => {
          if (m.length < 28 || m[1] !== 200) return;
          const ntp = { seconds: m.readUInt32BE(8), fraction: m.readUInt32BE(12) };
          resolve({ ssrc: m.readUInt32BE(4), lsr: ntpMiddle32(ntp), wallMs: ntpToUnixMs(ntp) });
        }),
      );
      expect((await c.request('PLAY', url, { CSeq: '2', Session: session })).statusCode).toBe(200);
      const got = await sr;
      const rr = Buffer.alloc(32);
      rr.writeUInt8(0x81, 0); // V=2, one report block
      rr.writeUInt8(201, 1);
      rr.writeUInt16BE(7, 2);
      rr.writeUInt32BE(0x5eed5eed, 4);
      rr.writeUInt32BE(got.ssrc, 8);
      rr.writeUInt32BE(1, 16); // extended highest sequence number
      rr.writeUInt32BE(got.lsr, 24);
      const sentAt = realClock.wallNow();
      rr.writeUInt32BE(Math.floor(((sentAt - got.wallMs) * 65536) / 1000) - 2, 28);
      await sendTo(rtcp, rr, serverRtcp);
      await waitUntil(() => reports.some((r) => r.reporterSsrc === 0x5eed5eed), 5000, 'the report processed');
      const r = reports.find((x) => x.reporterSsrc === 0x5eed5eed)!;
      // Read at a wake-up of the scheduler, up to ~30 ms later, but stamped when it came.
      expect(r.receivedAt - sentAt).toBeGreaterThan(-1);
      expect(r.receivedAt - sentAt).toBeLessThan(3);
      // Had the server taken the time it read the report, it would be up to a drain period later.
      expect(r.rttMs).toBeDefined();
      expect(Math.abs(r.rttMs! - (r.receivedAt - sentAt) - 2 / 65.536)).toBeLessThan(0.1);
      const udp = server.snapshot().udp;
      expect(udp.mode === 'shared' && udp.rtcpDrain ? udp.rtcpDrain.datagrams : 0).toBeGreaterThanOrEqual(1);
      await c.request('TEARDOWN', url, { CSeq: '3', Session: session });
    } finally {
      off();
      c.close();
      rtp.close();
      rtcp.close();
    }
  });
});
