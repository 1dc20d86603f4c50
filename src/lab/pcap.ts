/**
 * A pure pcap writer (libpcap format, microsecond timestamps, LINKTYPE_ETHERNET) for the lab's
 * packet-level output: each packet framed as Ethernet / IPv4 / UDP between synthetic 127.0.0.1
 * addresses. When the RTP bytes are not kept, a record holds the headers only (Ethernet, IP, UDP and
 * a 12-byte RTP header) and states the original length, as a capture with a short snap length does.
 */

export const PCAP_LINKTYPE_ETHERNET = 1;
const ETH = 14;
const IP = 20;
const UDP = 8;

export interface PcapPacket {
  /** Capture time, ms (any epoch; fast runs use simulated time from 0). */
  atMs: number;
  srcPort: number;
  dstPort: number;
  /** UDP payload as captured (may be shorter than `payloadBytes`). */
  payload: Uint8Array;
  /** Full UDP payload size on the wire (≥ payload.length). */
  payloadBytes: number;
  /** IPv4 identification field. */
  ipId?: number;
}

export function pcapGlobalHeader(snaplen = 65535): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(0xa1b2c3d4, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeInt32LE(0, 8);
  b.writeUInt32LE(0, 12);
  b.writeUInt32LE(snaplen, 16);
  b.writeUInt32LE(PCAP_LINKTYPE_ETHERNET, 20);
  return b;
}

/** RFC 791 header checksum: one's complement of the one's-complement sum of 16-bit words. */
export function ipv4Checksum(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < h.length; i += 2) sum += (h[i]! << 8) | h[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** One record: header + Ethernet/IPv4/UDP frame from 127.0.0.1 to 127.0.0.1. */
export function pcapRecord(p: PcapPacket): Buffer {
  const captured = Math.min(p.payload.length, p.payloadBytes);
  const frame = Buffer.alloc(ETH + IP + UDP + captured);
  // Ethernet: locally administered zero MACs, as on loopback captures converted to Ethernet.
  frame.writeUInt16BE(0x0800, 12);
  const ip = frame.subarray(ETH, ETH + IP);
  ip[0] = 0x45;
  ip.writeUInt16BE(Math.min(0xffff, IP + UDP + p.payloadBytes), 2);
  ip.writeUInt16BE((p.ipId ?? 0) & 0xffff, 4);
  ip.writeUInt16BE(0x4000, 6); // don't fragment
  ip[8] = 64;
  ip[9] = 17;
  ip.set([127, 0, 0, 1], 12);
  ip.set([127, 0, 0, 1], 16);
  ip.writeUInt16BE(ipv4Checksum(ip), 10);
  const udp = frame.subarray(ETH + IP, ETH + IP + UDP);
  udp.writeUInt16BE(p.srcPort, 0);
  udp.writeUInt16BE(p.dstPort, 2);
  udp.writeUInt16BE(Math.min(0xffff, UDP + p.payloadBytes), 4);
  // UDP checksum 0: not computed (allowed for IPv4).
  frame.set(p.payload.subarray(0, captured), ETH + IP + UDP);
  const rec = Buffer.alloc(16);
  const us = Math.max(0, Math.round(p.atMs * 1000));
  rec.writeUInt32LE(Math.floor(us / 1e6), 0);
  rec.writeUInt32LE(us % 1e6, 4);
  rec.writeUInt32LE(frame.length, 8);
  rec.writeUInt32LE(ETH + IP + UDP + p.payloadBytes, 12);
  return Buffer.concat([rec, frame]);
}

export function pcapFile(packets: readonly PcapPacket[]): Buffer {
  return Buffer.concat([pcapGlobalHeader(), ...packets.map(pcapRecord)]);
}

/** A 12-byte RTP header (V=2, no padding/extension/CSRC). */
export function rtpHeader(o: { payloadType: number; marker?: boolean; seq: number; timestamp: number; ssrc: number }): Uint8Array {
  const b = Buffer.alloc(12);
  b[0] = 0x80;
  b[1] = ((o.marker ? 1 : 0) << 7) | (o.payloadType & 0x7f);
  b.writeUInt16BE(o.seq & 0xffff, 2);
  b.writeUInt32BE(o.timestamp >>> 0, 4);
  b.writeUInt32BE(o.ssrc >>> 0, 8);
  return b;
}
