/**
 * A run's packet-level output from the emulator's fate log, per RTP track: what was sent
 * (`track-N-sent.pcap`, every packet at its send time) and what arrived (`track-N-arrived.pcap`,
 * every delivered copy at its delivery time, duplicates included), readable by Wireshark/tshark
 * (`tshark -r track-0-sent.pcap -d udp.port==5000,rtp`), and the fate log itself
 * (`track-N-fates.jsonl`, one record a line), so any run can be re-analysed packet by packet.
 *
 * The fate log keeps no payload: each record holds a synthetic RTP header (sequence number
 * seq0 + id, the track's payload type and SSRC when known) and the original length. The RTP
 * timestamp is synthesized from the send time and the clock rate (the real one is not logged):
 * Wireshark's jitter on the sent capture is therefore 0 by construction, and on the arrived capture
 * it is the emulator's delay variation only.
 */

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FateRecord } from '../impair/index.ts';
import { pcapFile, rtpHeader } from './pcap.ts';
import type { PcapPacket } from './pcap.ts';

/** Synthetic ports: the server sends from 6970 + 2N to the receiver's 5000 + 2N (track N). */
export const CAPTURE_SERVER_PORT = 6970;
export const CAPTURE_CLIENT_PORT = 5000;

export interface CaptureTrack {
  track: number;
  fates: readonly FateRecord[];
  /** RTP sequence number of packet id 0. */
  seq0: number;
  payloadType?: number;
  ssrc?: number;
  clockRate?: number;
}

function packetsOf(t: CaptureTrack, side: 'sent' | 'arrived'): PcapPacket[] {
  const clock = t.clockRate ?? 90000;
  const srcPort = CAPTURE_SERVER_PORT + 2 * t.track;
  const dstPort = CAPTURE_CLIENT_PORT + 2 * t.track;
  const firstSent = t.fates.length ? Math.min(...t.fates.map((f) => f.sentAtMs)) : 0;
  const out: { at: number; seq: number; p: PcapPacket }[] = [];
  for (const f of t.fates) {
    if (side === 'sent' && f.copy !== 0) continue;
    if (side === 'arrived' && (f.dropped || f.deliveredAtMs === undefined)) continue;
    const at = side === 'sent' ? f.sentAtMs : f.deliveredAtMs!;
    const seq = (t.seq0 + f.id) & 0xffff;
    const timestamp = Math.round(((f.sentAtMs - firstSent) * clock) / 1000);
    const payload = rtpHeader({ payloadType: t.payloadType ?? 96, seq, timestamp, ssrc: t.ssrc ?? 0 });
    out.push({ at, seq: f.seq, p: { atMs: at, srcPort, dstPort, payload, payloadBytes: Math.max(12, f.bytes), ipId: seq } });
  }
  out.sort((a, b) => a.at - b.at || a.seq - b.seq);
  return out.map((o) => o.p);
}

export function capturePcap(t: CaptureTrack, side: 'sent' | 'arrived'): Buffer {
  return pcapFile(packetsOf(t, side));
}

/** Writes the two captures and the fate log of each track into `runDir`; returns the file names. */
export async function writePacketCaptures(runDir: string, tracks: readonly CaptureTrack[]): Promise<string[]> {
  const files: string[] = [];
  for (const t of tracks) {
    for (const side of ['sent', 'arrived'] as const) {
      const name = `track-${t.track}-${side}.pcap`;
      await writeFile(path.join(runDir, name), capturePcap(t, side));
      files.push(name);
    }
    const name = `track-${t.track}-fates.jsonl`;
    await writeFile(path.join(runDir, name), t.fates.map((f) => JSON.stringify(f)).join('\n') + (t.fates.length ? '\n' : ''));
    files.push(name);
  }
  return files;
}
