/**
 * The index of an MPEG-TS file (ISO/IEC 13818-1) for serving it as RTP MP2T (RFC 2250 §2), built
 * once by reading the file front to back (pure: bytes in, tables out; never throws on bytes).
 *
 * The file is cut into payload units of up to 7 packets (1316 bytes). A unit starts at every
 * random access point so that a seek can start exactly there. A random access point is a packet
 * with the adaptation field's random_access_indicator on a video PID of the PMT (on any elementary
 * PID when the program has no video; for those, a PES start counts too), moved back to the PAT
 * just before it when the muxer wrote PAT/PMT in front of the keyframe (ffmpeg's
 * `-mpegts_flags +pat_pmt_at_frames`), so a client joining there gets the tables first.
 *
 * Each unit's time is the PCR clock at its first packet: linear between the PCRs of the program's
 * PCR PID (by packet position, the constant-rate assumption of §2.4.2.2), the first PCR's value
 * before it, extrapolated at the last rate after the last one; 33-bit wrap is unwrapped and the
 * clock is kept monotonic. Times are seconds from the first PCR: the send time of the unit and,
 * at 90 kHz, its RTP timestamp (RFC 2250 §2.1: the target transmission time of its first byte).
 */
import { MAX_SAMPLES_PER_TRACK } from '../limits.ts';
import type { TsIndexProblem } from './errors.ts';
import { at } from '../../util/narrow.ts';

export const TS_PACKET_SIZE = 188;
export const TS_PACKETS_PER_UNIT = 7;
const SYNC = 0x47;
const PCR_WRAP = 2 ** 33 * 300;
/** How far back from a random access point the PAT in front of it may be (packets). */
const RAP_LOOKBACK = 16;
/** PMT stream_type values that are video (MPEG-1/2, MPEG-4 Part 2, H.264, H.265, VC-1, CAVS). */
const VIDEO_STREAM_TYPES = new Set([0x01, 0x02, 0x10, 0x1b, 0x24, 0x42, 0xea]);

export interface TsIndex {
  packetCount: number;
  /** Per unit: first packet index, packet count, time in seconds from the first PCR, random access point (1/0). */
  unitFirstPacket: Uint32Array;
  unitPackets: Uint8Array;
  unitTimeSec: Float64Array;
  unitRap: Uint8Array;
  /** Clock time at the end of the last packet, from the first PCR. */
  durationSec: number;
  /** PIDs of the program's elementary streams and which of them are video. */
  esPids: number[];
  videoPids: number[];
  pcrPid?: number;
  /** Problems found (the first fatal one ends the index; TS_ERR_TRUNCATED is not fatal). */
  problems: TsIndexProblem[];
}

/** Feeds the file in chunks of any size; finish() returns the index. */
export class TsIndexBuilder {
  private carry: Buffer = Buffer.alloc(0);
  private packets = 0;
  private stopped = false;
  private readonly problems: TsIndexProblem[] = [];
  private readonly pmtPids = new Set<number>();
  private readonly esPids = new Set<number>();
  private readonly videoPids = new Set<number>();
  private pcrPid: number | undefined;
  private readonly pcrPackets: number[] = [];
  private readonly pcrValues: number[] = [];
  private readonly rapStarts: number[] = [];
  private lastPat = -1;

  push(chunk: Buffer): void {
    if (this.stopped) return;
    let buf = chunk;
    if (this.carry.length > 0) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = Buffer.alloc(0);
    }
    let off = 0;
    for (; off + TS_PACKET_SIZE <= buf.length; off += TS_PACKET_SIZE) {
      if (!this.packet(buf.subarray(off, off + TS_PACKET_SIZE))) return;
    }
    if (off < buf.length) this.carry = Buffer.from(buf.subarray(off));
  }

  private stop(code: TsIndexProblem['code'], message: string): false {
    this.problems.push({ code, message, offset: this.packets * TS_PACKET_SIZE });
    this.stopped = true;
    return false;
  }

  private packet(p: Buffer): boolean {
    const index = this.packets;
    if (p[0] !== SYNC) return this.stop('TS_ERR_NO_SYNC', `no sync byte in packet ${index}`);
    const pusi = (p.readUInt8(1) & 0x40) !== 0;
    const pid = ((p.readUInt8(1) & 0x1f) << 8) | p.readUInt8(2);
    const afc = (p.readUInt8(3) >> 4) & 3;
    let payloadAt = 4;
    let rai = false;
    if (afc & 2) {
      const afLen = p.readUInt8(4);
      payloadAt = 5 + afLen;
      if (afLen > 0) {
        const flags = p.readUInt8(5);
        rai = (flags & 0x40) !== 0;
        if (flags & 0x10 && afLen >= 7 && (this.pcrPid === undefined || pid === this.pcrPid)) this.notePcr(index, p);
      }
    }
    if (afc & 1 && pusi && payloadAt < TS_PACKET_SIZE) {
      if (pid === 0) {
        this.lastPat = index;
        this.parsePat(p.subarray(payloadAt));
      } else if (this.pmtPids.has(pid)) {
        this.parsePmt(p.subarray(payloadAt));
      }
    }
    const lead = this.videoPids.size > 0 ? this.videoPids.has(pid) : this.esPids.has(pid);
    if (lead && index > 0 && (rai || (this.videoPids.size === 0 && pusi))) {
      const last = this.rapStarts.length > 0 ? at(this.rapStarts, this.rapStarts.length - 1) : 0;
      // The PAT/PMT just before the keyframe belong to it (unless an earlier point already took them).
      const start = this.lastPat >= last && index - this.lastPat <= RAP_LOOKBACK ? this.lastPat : index;
      if (start > last) this.rapStarts.push(start);
    }
    this.packets++;
    return true;
  }

  private notePcr(index: number, p: Buffer): void {
    const base = p.readUInt8(6) * 2 ** 25 + p.readUInt8(7) * 2 ** 17 + p.readUInt8(8) * 2 ** 9 + p.readUInt8(9) * 2 + (p.readUInt8(10) >> 7);
    const ext = ((p.readUInt8(10) & 1) << 8) | p.readUInt8(11);
    let pcr = base * 300 + ext;
    const n = this.pcrValues.length;
    if (n > 0) {
      const prev = at(this.pcrValues, n - 1);
      while (pcr < prev - PCR_WRAP / 2) pcr += PCR_WRAP;
      if (pcr < prev) pcr = prev; // a step back (discontinuity): keep the clock monotonic
    }
    this.pcrPackets.push(index);
    this.pcrValues.push(pcr);
  }

  /** The section after the pointer field, bounds-checked; undefined when it does not fit. */
  private section(payload: Buffer, tableId: number): Buffer | undefined {
    if (payload.length < 1) return undefined;
    const at = 1 + payload.readUInt8(0);
    if (at + 3 > payload.length || payload[at] !== tableId) return undefined;
    const len = ((payload.readUInt8(at + 1) & 0x0f) << 8) | payload.readUInt8(at + 2);
    if (at + 3 + len > payload.length || len < 9) return undefined;
    return payload.subarray(at, at + 3 + len - 4); // without the CRC
  }

  private parsePat(payload: Buffer): void {
    const s = this.section(payload, 0x00);
    if (!s) return;
    for (let i = 8; i + 4 <= s.length; i += 4) {
      const program = s.readUInt16BE(i);
      if (program !== 0) this.pmtPids.add(s.readUInt16BE(i + 2) & 0x1fff);
    }
  }

  private parsePmt(payload: Buffer): void {
    const s = this.section(payload, 0x02);
    if (!s || s.length < 12) return;
    this.pcrPid = s.readUInt16BE(8) & 0x1fff;
    let i = 12 + (s.readUInt16BE(10) & 0x0fff);
    while (i + 5 <= s.length) {
      const type = s.readUInt8(i);
      const pid = s.readUInt16BE(i + 1) & 0x1fff;
      this.esPids.add(pid);
      if (VIDEO_STREAM_TYPES.has(type)) this.videoPids.add(pid);
      i += 5 + (s.readUInt16BE(i + 3) & 0x0fff);
    }
  }

  finish(): TsIndex {
    if (!this.stopped && this.carry.length > 0) {
      this.problems.push({ code: 'TS_ERR_TRUNCATED', message: `${this.carry.length} bytes after the last whole packet`, offset: this.packets * TS_PACKET_SIZE });
    }
    const index = this.build(this.packets, true);
    if (index.problems.length > this.problems.length) this.problems.push(...index.problems.slice(this.problems.length));
    return index;
  }

  /**
   * The part of the index that more bytes can no longer change (a file still being written): the
   * units that end at or before the last PCR seen (so their times are interpolated between known
   * PCRs, never extrapolated) and more than 16 packets before the end of what was pushed (a random
   * access point found later may move back to a PAT at most 16 packets before it, which would cut
   * a unit there). Every unit of it is the same unit, with the same time, in the finished index.
   * Empty (no units) until two PCRs are known. Does not change the builder.
   */
  stable(): TsIndex {
    const lastPcr = this.pcrPackets.length > 0 ? at(this.pcrPackets, this.pcrPackets.length - 1) : 0;
    return this.build(this.packets, false, Math.min(lastPcr, this.packets - RAP_LOOKBACK - 1));
  }

  /** Where takeStableUnits() goes on: the next unit's first packet, and the first RAP start after it. */
  private taken = { next: 0, rap: 0, count: 0 };

  /**
   * The units stable() would add since the last call, without rebuilding the whole index (a
   * growing file's reader calls this at every look: cost proportional to what is new). The units
   * are the same, with the same times, as stable()'s and the finished index's; `endSec` is the
   * clock at the end of the last one (stable().durationSec).
   */
  takeStableUnits(): { first: number[]; packets: number[]; timeSec: number[]; rap: number[]; endSec: number } {
    const out = { first: [] as number[], packets: [] as number[], timeSec: [] as number[], rap: [] as number[], endSec: 0 };
    const pk = this.pcrPackets;
    if (pk.length < 2 || pk[pk.length - 1] === pk[0]) return out;
    const limit = Math.min(at(pk, pk.length - 1), this.packets - RAP_LOOKBACK - 1);
    const raps = this.rapStarts;
    const t = this.taken;
    for (;;) {
      while (t.rap < raps.length && at(raps, t.rap) <= t.next) t.rap++;
      const end = Math.min(t.next + TS_PACKETS_PER_UNIT, t.rap < raps.length ? at(raps, t.rap) : Infinity);
      if (end > limit || t.count >= MAX_SAMPLES_PER_TRACK) break;
      out.first.push(t.next);
      out.packets.push(end - t.next);
      out.timeSec.push(this.clockAt(t.next));
      out.rap.push(t.next === 0 || (t.rap > 0 && raps[t.rap - 1] === t.next) ? 1 : 0);
      t.next = end;
      t.count++;
    }
    out.endSec = this.clockAt(t.next);
    return out;
  }

  /** The clock() function's value at packet i (same arithmetic), by binary search. */
  private clockAt(i: number): number {
    const pk = this.pcrPackets;
    const v = this.pcrValues;
    const last = pk.length - 1;
    const t0 = at(v, 0);
    let pcr: number;
    if (i <= at(pk, 0)) pcr = t0;
    else if (i >= at(pk, last)) pcr = at(v, last) + (i - at(pk, last)) * ((at(v, last) - at(v, last - 1)) / Math.max(1, at(pk, last) - at(pk, last - 1)));
    else {
      let lo = 0;
      let hi = last - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (at(pk, mid) <= i) lo = mid;
        else hi = mid - 1;
      }
      const a = at(pk, lo);
      const b = at(pk, lo + 1);
      pcr = at(v, lo) + ((at(v, lo + 1) - at(v, lo)) * (i - a)) / (b - a);
    }
    return (pcr - t0) / 27_000_000;
  }

  /** Units over packets [0, n): all of them (final), or those ending at or before `limit`. */
  private build(n: number, final: boolean, limit = n): TsIndex {
    const problems = [...this.problems];
    const clock = this.clock();
    // Unit boundaries: packet 0, every random access point, and every 7 packets in between.
    const starts: number[] = [];
    const raps = [0, ...this.rapStarts, n];
    for (let r = 0; r + 1 < raps.length; r++) {
      for (let p = at(raps, r); p < at(raps, r + 1); p += TS_PACKETS_PER_UNIT) starts.push(p);
    }
    let count = starts.length;
    if (!final) {
      // Only whole units that end by `limit`, and none without a clock.
      count = 0;
      if (clock) while (count < starts.length && (count + 1 < starts.length ? at(starts, count + 1) : n) <= limit) count++;
    }
    if (count > MAX_SAMPLES_PER_TRACK) {
      problems.push({ code: 'TS_ERR_TOO_LARGE', message: `${count} units exceed ${MAX_SAMPLES_PER_TRACK}`, offset: at(starts, MAX_SAMPLES_PER_TRACK) * TS_PACKET_SIZE });
      count = MAX_SAMPLES_PER_TRACK;
    }
    const unitFirstPacket = new Uint32Array(count);
    const unitPackets = new Uint8Array(count);
    const unitTimeSec = new Float64Array(count);
    const unitRap = new Uint8Array(count);
    const rapSet = new Set(this.rapStarts);
    let end = n;
    if (count < starts.length) end = at(starts, count);
    for (let u = 0; u < count; u++) {
      const first = at(starts, u);
      const next = u + 1 < starts.length ? at(starts, u + 1) : n;
      unitFirstPacket[u] = first;
      unitPackets[u] = Math.min(next, end) - first;
      unitTimeSec[u] = clock ? clock(first) : 0;
      unitRap[u] = first === 0 || rapSet.has(first) ? 1 : 0;
    }
    if (!clock && final) problems.push({ code: 'TS_ERR_NO_PCR', message: `${this.pcrValues.length} PCR(s): cannot pace the stream`, offset: 0 });
    return {
      packetCount: final ? n : end,
      unitFirstPacket,
      unitPackets,
      unitTimeSec,
      unitRap,
      durationSec: clock && (final || count > 0) ? clock(end) : 0,
      esPids: [...this.esPids],
      videoPids: [...this.videoPids],
      ...(this.pcrPid !== undefined ? { pcrPid: this.pcrPid } : {}),
      problems,
    };
  }

  /** Seconds from the first PCR at the start of packet `i`; undefined without two distinct PCR points. */
  private clock(): ((i: number) => number) | undefined {
    const pk = this.pcrPackets;
    const v = this.pcrValues;
    if (pk.length < 2 || pk[pk.length - 1] === pk[0]) return undefined;
    const t0 = at(v, 0);
    const last = pk.length - 1;
    const lastRate = (at(v, last) - at(v, last - 1)) / Math.max(1, at(pk, last) - at(pk, last - 1));
    let seg = 0;
    return (i: number) => {
      let pcr: number;
      if (i <= at(pk, 0)) pcr = t0;
      else if (i >= at(pk, last)) pcr = at(v, last) + (i - at(pk, last)) * lastRate;
      else {
        // Queries come in increasing order; restart the segment search when they do not.
        if (at(pk, seg) > i) seg = 0;
        while (at(pk, seg + 1) <= i) seg++;
        const a = at(pk, seg);
        const b = at(pk, seg + 1);
        pcr = at(v, seg) + ((at(v, seg + 1) - at(v, seg)) * (i - a)) / (b - a);
      }
      return (pcr - t0) / 27_000_000;
    };
  }
}

/** Index of a whole TS held in memory (tests, small files). */
export function indexTs(buf: Buffer): TsIndex {
  const b = new TsIndexBuilder();
  b.push(buf);
  return b.finish();
}
