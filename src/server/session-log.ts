import type { Logger } from '../util/log.ts';
import type { SafeEmitter } from './events.ts';
import type { ReceiverReportRecord } from '../sender/qos.ts';
import type { ServerEvents, SessionTraffic } from './session/server-events.ts';

/**
 * Of the `packets` a track sent (the next one to carry `nextSeq`), those up to the highest
 * sequence number `report` acknowledges: the later ones are not reported yet, so the reported loss
 * is a share of these, not of all.
 */
export function packetsUpToReport(packets: number, nextSeq: number, report: ReceiverReportRecord): number {
  const notYet = (nextSeq - 1 - report.extendedHighestSeq) & 0xffff;
  return notYet < 0x8000 ? Math.max(0, packets - notYet) : packets;
}

function lossPercent(lost: number, packets: number): number {
  return packets > 0 ? Math.round((lost / packets) * 10000) / 100 : 0;
}

/** Figures of a session's end line from what it moved and the receivers' last reports. */
export function trafficFields(t: SessionTraffic | undefined): Record<string, unknown> {
  if (!t) return {};
  const reports = t.lastReports;
  const lost = reports.reduce((n, r) => n + r.qos.cumulativeLost, 0);
  const rtts = reports.flatMap((r) => (r.rttMs === undefined ? [] : [r.rttMs]));
  return {
    transport: t.transport,
    ...(t.packetsReceived !== undefined ? { packetsReceived: t.packetsReceived } : { packetsSent: t.packetsSent, bytesSent: t.bytesSent }),
    ...(reports.length > 0
      ? {
          // What the receivers said last: packets lost over the packets those reports cover (all
          // packets sent when the session cannot tell), the worst jitter, the mean RTT.
          lossPercent: lossPercent(lost, t.reportedPackets ?? t.packetsSent),
          jitterMs: Math.round(Math.max(...reports.map((r) => r.jitterMs)) * 10) / 10,
          ...(rtts.length > 0 ? { rttMs: Math.round((rtts.reduce((a, b) => a + b, 0) / rtts.length) * 10) / 10 } : {}),
        }
      : {}),
  };
}

/**
 * The operator's lines about sessions, at info: one when a session starts playing or recording
 * (client, path, transport), one when it ends (why, how long, what it moved, what the receivers
 * reported last). Later PLAYs of the same session are debug. Returns the unsubscriber.
 */
export function logSessions(events: SafeEmitter<ServerEvents>, log: Logger): () => void {
  const started = new Set<string>();
  const offStream = events.on('stream-started', (e) => {
    const fields = { session: e.id, kind: e.kind, client: e.client, path: e.media, transport: e.transport };
    if (started.has(e.id)) {
      log.debug('playing again', fields);
      return;
    }
    started.add(e.id);
    log.info(e.kind === 'publisher' ? 'publisher started' : 'session started', fields);
  });
  const offEnded = events.on('session-ended', (e) => {
    started.delete(e.id);
    log.info(e.kind === 'publisher' ? 'publisher ended' : 'session ended', {
      session: e.id,
      kind: e.kind,
      client: e.client,
      path: e.media,
      reason: e.reason,
      durationSec: Math.round(e.durationMs / 100) / 10,
      ...trafficFields(e.traffic),
    });
  });
  return () => {
    offStream();
    offEnded();
  };
}
