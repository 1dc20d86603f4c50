import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FateRecord } from '../../src/impair/index.ts';
import { capturePcap } from '../../src/lab/packet-capture.ts';
import { ipv4Checksum, pcapGlobalHeader, pcapRecord, rtpHeader } from '../../src/lab/pcap.ts';

describe('pcap bytes', () => {
  it('global header: µs magic, v2.4, snaplen 65535, Ethernet', () => {
    expect(pcapGlobalHeader().toString('hex')).toBe('d4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + 'ffff0000' + '01000000');
  });

  it('one record, byte-exact', () => {
    const payload = rtpHeader({ payloadType: 96, marker: true, seq: 0x1234, timestamp: 0x01020304, ssrc: 0xdeadbeef });
    const r = pcapRecord({ atMs: 1500.25, srcPort: 6970, dstPort: 5000, payload, payloadBytes: 100, ipId: 0x1234 });
    const hex = r.toString('hex');
    // record header: 1 s, 500250 µs, 54 captured, 142 on the wire
    expect(hex.slice(0, 32)).toBe('01000000' + '1aa20700' + '36000000' + '8e000000');
    // Ethernet: zero MACs, IPv4
    expect(hex.slice(32, 60)).toBe('000000000000' + '000000000000' + '0800');
    const ip = r.subarray(16 + 14, 16 + 34);
    // 45 00 | len 128 | id 1234 | DF | ttl 64 udp | csum | 127.0.0.1 ×2
    expect(ip.toString('hex').replace(ip.subarray(10, 12).toString('hex'), 'cccc')).toBe('45000080123440004011cccc7f0000017f000001');
    expect(ipv4Checksum(ip)).toBe(0); // a header with its checksum sums to 0xffff
    // UDP: 6970 → 5000, length 108, checksum 0
    expect(r.subarray(50, 58).toString('hex')).toBe('1b3a' + '1388' + '006c' + '0000');
    expect(r.subarray(58).toString('hex')).toBe('80e0' + '1234' + '01020304' + 'deadbeef');
  });

  it('RFC 1071 example checksum', () => {
    // IPv4 header from RFC 1071-style worked examples: 4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7 → b861
    expect(ipv4Checksum(Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex'))).toBe(0xb861);
  });
});

function fate(seq: number, sentAtMs: number, dropped: boolean, deliveredAtMs?: number, copy = 0): FateRecord {
  return { seq, id: seq, copy, bytes: 1200, sentAtMs, dropped, deliveredAtMs, delayMs: deliveredAtMs === undefined ? undefined : deliveredAtMs - sentAtMs, reordered: false, reorderDecision: false, duplicated: copy === 1, corrupted: false };
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

describe.skipIf(!haveTshark && process.env['STREAMLAB_REQUIRE_PEERS'] !== '1')('tshark reads the captures as RTP', () => {
  it('sent holds every packet, arrived the delivered copies in delivery order', () => {
    // 5 packets at 20 ms; #2 dropped, #3 delayed past #4, #4 duplicated.
    const fates = [
      fate(0, 0, false, 1), fate(1, 20, false, 21), fate(2, 40, true), fate(3, 60, false, 95), fate(4, 80, false, 81), fate(4, 80, false, 82, 1),
    ];
    const t = { track: 0, fates, seq0: 65534, payloadType: 96, clockRate: 90000 };
    const sent = path.join(dir, 'sent.pcap');
    const arrived = path.join(dir, 'arrived.pcap');
    writeFileSync(sent, capturePcap(t, 'sent'));
    writeFileSync(arrived, capturePcap(t, 'arrived'));
    const read = (f: string) =>
      execFileSync('tshark', ['-r', f, '-d', 'udp.port==5000,rtp', '-T', 'fields', '-e', 'frame.time_relative', '-e', 'ip.src', '-e', 'udp.dstport', '-e', 'rtp.seq', '-e', 'rtp.timestamp', '-e', 'frame.len'], { encoding: 'utf8' })
        .trim().split('\n').map((l) => l.split('\t'));
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
