/**
 * An independent MPEG-TS reader for the tests (written from ISO/IEC 13818-1, not from the
 * muxer): splits packets, checks their fixed fields, reassembles PES packets per PID and
 * decodes PES timestamps and PCRs with BigInt arithmetic.
 */

export interface TsPacketView {
  pid: number;
  pusi: boolean;
  afc: number;
  cc: number;
  /** adaptation_field_length when afc has an adaptation field. */
  afLength?: number;
  randomAccess: boolean;
  pcr?: bigint;
  payload: Buffer;
}

export function parsePacket(p: Buffer): TsPacketView {
  if (p.length !== 188) throw new Error(`packet of ${p.length} bytes`);
  if (p[0] !== 0x47) throw new Error('no sync byte');
  if (p[1]! & 0x80) throw new Error('transport_error_indicator set');
  const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
  const afc = (p[3]! >> 4) & 3;
  if ((p[3]! & 0xc0) !== 0) throw new Error('scrambled');
  const v: TsPacketView = { pid, pusi: (p[1]! & 0x40) !== 0, afc, cc: p[3]! & 0x0f, randomAccess: false, payload: Buffer.alloc(0) };
  let off = 4;
  if (afc & 2) {
    const len = p[4]!;
    v.afLength = len;
    if (len > 0) {
      const flags = p[5]!;
      v.randomAccess = (flags & 0x40) !== 0;
      if (flags & 0x10) {
        let base = 0n;
        for (let i = 0; i < 4; i++) base = (base << 8n) | BigInt(p[6 + i]!);
        base = (base << 1n) | BigInt(p[10]! >> 7);
        const ext = (BigInt(p[10]! & 1) << 8n) | BigInt(p[11]!);
        v.pcr = base * 300n + ext;
        if ((p[10]! & 0x7e) !== 0x7e) throw new Error('PCR reserved bits not set');
      }
      // Everything after the fields must be stuffing.
      const used = 1 + ((flags & 0x10) ? 6 : 0);
      for (let i = 5 + used; i < 5 + len; i++) if (p[i] !== 0xff) throw new Error(`non-0xFF stuffing at ${i}`);
    }
    off = 5 + len;
  }
  if (afc & 1) v.payload = p.subarray(off);
  return v;
}

/** Decodes a 5-byte PTS/DTS field; checks the prefix and marker bits. */
export function decodeTimestamp(b: Buffer, off: number, prefix: number): bigint {
  if (b[off]! >> 4 !== prefix) throw new Error(`timestamp prefix ${b[off]! >> 4} != ${prefix}`);
  if ((b[off]! & 1) !== 1 || (b[off + 2]! & 1) !== 1 || (b[off + 4]! & 1) !== 1) throw new Error('marker bit missing');
  const hi = BigInt((b[off]! >> 1) & 7);
  const mid = BigInt((b.readUInt16BE(off + 1) >> 1) & 0x7fff);
  const lo = BigInt((b.readUInt16BE(off + 3) >> 1) & 0x7fff);
  return (hi << 30n) | (mid << 15n) | lo;
}

export interface PesView {
  pid: number;
  streamId: number;
  pesPacketLength: number;
  pts: bigint;
  dts?: bigint;
  dataAlignment: boolean;
  payload: Buffer;
  /** From the first TS packet of the PES. */
  randomAccess: boolean;
  pcr?: bigint;
}

export function parsePes(pid: number, bytes: Buffer, first: TsPacketView): PesView {
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 1) throw new Error('no PES start code');
  const flags = bytes[7]!;
  const hdrLen = bytes[8]!;
  const ptsDts = flags >> 6;
  const v: PesView = {
    pid,
    streamId: bytes[3]!,
    pesPacketLength: bytes.readUInt16BE(4),
    pts: decodeTimestamp(bytes, 9, ptsDts === 3 ? 3 : 2),
    dataAlignment: (bytes[6]! & 0x04) !== 0,
    payload: bytes.subarray(9 + hdrLen),
    randomAccess: first.randomAccess,
  };
  if ((bytes[6]! & 0xc0) !== 0x80) throw new Error('PES header marker bits');
  if (ptsDts === 3) v.dts = decodeTimestamp(bytes, 14, 1);
  if (first.pcr !== undefined) v.pcr = first.pcr;
  if (v.pesPacketLength !== 0 && v.pesPacketLength !== bytes.length - 6) throw new Error('PES_packet_length mismatch');
  return v;
}

export interface Demuxed {
  packets: TsPacketView[];
  /** Sections (after the pointer field, up to section_length) by PID, in order. */
  sections: Map<number, Buffer[]>;
  pes: PesView[];
}

/** Splits a byte stream (or a list of packets) and reassembles; checks continuity counters. */
export function demux(input: Buffer | readonly Buffer[], psiPids: readonly number[] = [0, 0x1000]): Demuxed {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.concat(input);
  if (bytes.length % 188 !== 0) throw new Error(`${bytes.length} bytes is not a whole number of packets`);
  const packets: TsPacketView[] = [];
  const sections = new Map<number, Buffer[]>();
  const pes: PesView[] = [];
  // PES packets in the order they start; each slot is filled when its PES ends.
  const open = new Map<number, { first: TsPacketView; parts: Buffer[]; slot: number }>();
  const lastCc = new Map<number, number>();
  const close = (pid: number) => {
    const o = open.get(pid);
    if (o) pes[o.slot] = parsePes(pid, Buffer.concat(o.parts), o.first);
    open.delete(pid);
  };
  for (let off = 0; off < bytes.length; off += 188) {
    const p = parsePacket(bytes.subarray(off, off + 188));
    packets.push(p);
    if (p.afc & 1) {
      const prev = lastCc.get(p.pid);
      if (prev !== undefined && p.cc !== ((prev + 1) & 15)) throw new Error(`CC jump on PID ${p.pid}: ${prev} -> ${p.cc}`);
      lastCc.set(p.pid, p.cc);
    }
    if (psiPids.includes(p.pid)) {
      if (!p.pusi) throw new Error('multi-packet sections not expected');
      const ptr = p.payload[0]!;
      const s = p.payload.subarray(1 + ptr);
      const len = ((s[1]! & 0x0f) << 8) | s[2]!;
      let list = sections.get(p.pid);
      if (!list) sections.set(p.pid, (list = []));
      list.push(Buffer.from(s.subarray(0, 3 + len)));
      for (let i = 1 + ptr + 3 + len; i < p.payload.length; i++) if (p.payload[i] !== 0xff) throw new Error('PSI stuffing');
      continue;
    }
    if (p.pusi) {
      close(p.pid);
      open.set(p.pid, { first: p, parts: [p.payload], slot: pes.length });
      pes.length++;
    } else {
      const o = open.get(p.pid);
      if (!o) throw new Error(`payload without a PES start on PID ${p.pid}`);
      o.parts.push(p.payload);
    }
  }
  for (const pid of [...open.keys()]) close(pid);
  return { packets, sections, pes };
}

/** Bitwise CRC-32/MPEG-2 (poly 0x04C11DB7, init all ones, MSB first, no final xor), one bit at a time. */
export function crc32Mpeg2Reference(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    for (let bit = 7; bit >= 0; bit--) {
      const inBit = (byte >> bit) & 1;
      const top = (crc >>> 31) & 1;
      crc = (crc << 1) >>> 0;
      if (top ^ inBit) crc = (crc ^ 0x04c11db7) >>> 0;
    }
  }
  return crc >>> 0;
}

/** Splits Annex B with a plain scan (00 00 01 / 00 00 00 01), returning NAL units. */
export function splitAnnexBSimple(b: Buffer): Buffer[] {
  const starts: { sc: number; nal: number }[] = [];
  for (let i = 0; i + 2 < b.length; i++) {
    if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1) {
      starts.push({ sc: i > 0 && b[i - 1] === 0 ? i - 1 : i, nal: i + 3 });
      i += 2;
    }
  }
  return starts.map((s, k) => b.subarray(s.nal, k + 1 < starts.length ? starts[k + 1]!.sc : b.length));
}
