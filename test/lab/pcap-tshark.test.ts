/** The lab's pcaps read by tshark as RTP: every sent packet, the delivered copies in delivery order. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FateRecord } from '../../src/impair/index.ts';
import { capturePcap } from '../../src/lab/packet-capture.ts';
import { peersRequired } from '../helpers/peers.ts';

function fate(seq: number, sentAtMs: number, dropped: boolean, deliveredAtMs?: number, copy = 0): FateRecord {
  return {
    seq,
    id: seq,
    copy,
    bytes: 1200,
    sentAtMs,
    dropped,
    deliveredAtMs,
    delayMs: deliveredAtMs === undefined ? undefined : deliveredAtMs - sentAtMs,
    reordered: false,
    reorderDecision: false,
    duplicated: copy === 1,
    corrupted: false,
  };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'streamlab-pcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const haveTshark = (() => {
  try {
    execFileSync('tshark', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

if (!haveTshark && process.env['STREAMLAB_REQUIRE_PEERS'] === '1') throw new Error('tshark is required (STREAMLAB_REQUIRE_PEERS=1)');

describe.skipIf(!haveTshark && !peersRequired())('tshark reads the captures as RTP', () => {
  it('sent holds every packet, arrived the delivered copies in delivery order', () => {
    // 5 packets at 20 ms; #2 dropped, #3 delayed past #4, #4 duplicated.
    const fates = [
      fate(0, 0, false, 1),
      fate(1, 20, false, 21),
      fate(2, 40, true),
      fate(3, 60, false, 95),
      fate(4, 80, false, 81),
      fate(4, 80, false, 82, 1),
    ];
    const t = { track: 0, fates, seq0: 65534, payloadType: 96, clockRate: 90000 };
    const sent = path.join(dir, 'sent.pcap');
    const arrived = path.join(dir, 'arrived.pcap');
    writeFileSync(sent, capturePcap(t, 'sent'));
    writeFileSync(arrived, capturePcap(t, 'arrived'));
    const read = (f: string) =>
      execFileSync(
        'tshark',
        [
          '-r',
          f,
          '-d',
          'udp.port==5000,rtp',
          '-T',
          'fields',
          '-e',
          'frame.time_relative',
          '-e',
          'ip.src',
          '-e',
          'udp.dstport',
          '-e',
          'rtp.seq',
          '-e',
          'rtp.timestamp',
          '-e',
          'frame.len',
        ],
        { encoding: 'utf8' },
      )
        .trim()
        .split('\n')
        .map((l) => l.split('\t'));
    const s = read(sent);
    // RTP sequence numbers wrap from 65534; timestamps 90 kHz from send times; original length 1242.
    expect(s.map((c) => c[3])).toEqual(['65534', '65535', '0', '1', '2']);
    expect(s.map((c) => c[4])).toEqual(['0', '1800', '3600', '5400', '7200']);
    expect(s.every((c) => c[1] === '127.0.0.1' && c[2] === '5000' && c[5] === '1242')).toBe(true);
    const a = read(arrived);
    expect(a.map((c) => c[3])).toEqual(['65534', '65535', '2', '2', '1']);
    expect(a.map((c) => Number(c[0]))).toEqual([0, 0.02, 0.08, 0.081, 0.094]);
  });
});
