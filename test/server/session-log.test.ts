/**
 * Issue 12: the operator's log. A session's start (client, path, transport) and end (reason,
 * duration, packets and bytes sent, what the receiver reported last) are one line each at info,
 * and every refusal is logged with its reason. Lines for people (text) and for machines (JSON).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceiverReportRecord, RtspServer } from '../../src/server/index.ts';
import { packetsUpToReport, trafficFields } from '../../src/server/session-log.ts';
import { createLogger, logLevel, setLogFormat, setLogLevel, setLogSink } from '../../src/util/log.ts';
import type { LogLevel } from '../../src/util/log.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import { startServer } from '../helpers/server.ts';
import { sleep, waitUntil } from '../helpers/wait.ts';

describe('session log lines', () => {
  let server: RtspServer;
  let base: string;
  const lines: Record<string, unknown>[] = [];
  let prevSink: (line: string) => void;
  let prevLevel: LogLevel;

  beforeAll(async () => {
    prevLevel = logLevel();
    setLogLevel('info');
    prevSink = setLogSink((l) => lines.push(JSON.parse(l) as Record<string, unknown>));
    ({ server } = await startServer());
    base = `rtsp://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await server?.close();
    setLogSink(prevSink);
    setLogLevel(prevLevel);
  });

  it('one line when a session starts playing, one when it ends with its summary', async () => {
    const c = await RtspTestClient.connect(`${base}/sample.mp4`);
    try {
      await c.setup(`${base}/sample.mp4/trackID=1`, 'udp');
      await c.setup(`${base}/sample.mp4/trackID=2`, 'udp');
      await c.play(`${base}/sample.mp4`);
      await sleep(600);
      // A receiver report, so the end line has the receiver's view.
      for (const t of c.tracks) c.sendReceiverReport(t);
      await waitUntil(() => server.snapshot().sessions[0]?.streams.every((s) => s.lastReport) === true, 5000, 'reports');
      await c.teardown(`${base}/sample.mp4`);
    } finally {
      c.close();
    }
    await waitUntil(() => lines.some((l) => l.msg === 'session ended'), 5000, 'end line');
    const start = lines.find((l) => l.msg === 'session started');
    expect(start).toMatchObject({
      level: 'info',
      component: 'session',
      kind: 'file',
      client: '127.0.0.1',
      path: 'sample.mp4',
      transport: 'udp',
    });
    const end = lines.find((l) => l.msg === 'session ended')!;
    expect(end).toMatchObject({
      level: 'info',
      session: start!.session,
      client: '127.0.0.1',
      path: 'sample.mp4',
      reason: 'teardown',
      transport: 'udp',
    });
    expect(end.durationSec as number).toBeGreaterThan(0.4);
    expect(end.packetsSent as number).toBeGreaterThan(10);
    expect(end.bytesSent as number).toBeGreaterThan(1000);
    expect(end.lossPercent).toBe(0);
    expect(end.jitterMs).toBeTypeOf('number');
  });

  it('a refusal is logged with the client, the status and why', async () => {
    const c = await RtspTestClient.connect(`${base}/nothing-here.mp4`);
    try {
      const res = await c.request('DESCRIBE', `${base}/nothing-here.mp4`, { Accept: 'application/sdp' });
      expect(res.statusCode).toBe(404);
    } finally {
      c.close();
    }
    const refused = lines.find((l) => l.msg === 'request refused' && l.status === 404);
    expect(refused).toMatchObject({ level: 'info', client: '127.0.0.1', method: 'DESCRIBE' });
    expect(String(refused!.reason)).not.toBe('');
  });
});

describe('text log lines', () => {
  it('time, level, component, message, then key=value with values quoted only when needed', () => {
    const got: string[] = [];
    const prevSink = setLogSink((l) => got.push(l));
    const prevLevel = logLevel();
    setLogLevel('info');
    setLogFormat('text');
    try {
      createLogger('session').info('session ended', { path: 'my file.mp4', packets: 12, reason: 'teardown', skipped: undefined });
    } finally {
      setLogFormat('json');
      setLogSink(prevSink);
      setLogLevel(prevLevel);
    }
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}session session ended {2}path="my file\.mp4" packets=12 reason=teardown$/);
  });
});

describe('loss as a share of the packets the last reports cover', () => {
  const report = (extendedHighestSeq: number, cumulativeLost: number) =>
    ({ extendedHighestSeq, cumulativeLost, qos: { cumulativeLost } }) as unknown as ReceiverReportRecord;

  it('packets sent after the highest reported sequence number are not counted (across a wrap too)', () => {
    // 1000 sent, the next one 1000: the report acknowledges up to 899, so 900 are covered.
    expect(packetsUpToReport(1000, 1000, report(899, 0))).toBe(900);
    // Sequence numbers wrapped (first 65000, next 464): up to 65535 + 1 cycle's 363.
    expect(packetsUpToReport(1000, 464, report(0x1_0000 + 363, 0))).toBe(900);
    // A report ahead of what we sent (a stale next seq) leaves the count alone.
    expect(packetsUpToReport(1000, 1000, report(1200, 0))).toBe(1000);
  });

  it('the end line divides by the covered packets when the session knows them', () => {
    const r = { ...report(899, 90), jitterMs: 2, rttMs: 1 } as unknown as ReceiverReportRecord;
    const base = { transport: 'udp', packetsSent: 1000, bytesSent: 1, lastReports: [r] };
    expect(trafficFields({ ...base, reportedPackets: 900 }).lossPercent).toBe(10);
    expect(trafficFields(base).lossPercent).toBe(9);
  });
});
