import { describe, expect, it } from 'vitest';
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
