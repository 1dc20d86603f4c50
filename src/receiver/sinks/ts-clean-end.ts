/**
 * A received MPEG-TS (an MP2T track's payload) ended on whole PES packets. A stop (--duration,
 * Ctrl-C) cuts the stream wherever it is, so its last video PES (a picture) is usually partial and
 * ffmpeg reports a decode error at the end of every cut recording. TS packets are held back from
 * the earliest PES still open on any PID; at a cut, each PID's open PES is dropped and everything
 * else (complete PES of other PIDs, tables) goes out; at the stream's own end, everything does.
 */

const TS_PACKET = 188;
const SYNC = 0x47;

interface Held {
  seq: number;
  pid: number;
  packet: Buffer;
}

export class TsCleanEnd {
  private held: Held[] = [];
  private seq = 0;
  /** Sequence number of the PUSI packet of the PES each PID has open. */
  private readonly open = new Map<number, number>();
  private partial: Buffer = Buffer.alloc(0);
  /** TS packets dropped by the last cut (the open PES). */
  dropped = 0;

  /** Takes received bytes; returns the TS packets that are safe to write now. */
  push(data: Buffer): Buffer[] {
    let buf = this.partial.length > 0 ? Buffer.concat([this.partial, data]) : data;
    let off = 0;
    for (; off + TS_PACKET <= buf.length; off += TS_PACKET) {
      const packet = buf.subarray(off, off + TS_PACKET);
      const pid = packet[0] === SYNC ? ((packet[1]! & 0x1f) << 8) | packet[2]! : -1;
      const seq = this.seq++;
      if (pid >= 0 && (packet[1]! & 0x40) !== 0 && isPesStart(packet)) this.open.set(pid, seq);
      this.held.push({ seq, pid, packet });
    }
    this.partial = Buffer.from(buf.subarray(off));
    buf = Buffer.alloc(0);
    const safeBefore = Math.min(...this.open.values(), this.seq);
    let n = 0;
    while (n < this.held.length && this.held[n]!.seq < safeBefore) n++;
    const out = this.held.slice(0, n).map((h) => h.packet);
    this.held = this.held.slice(n);
    return out;
  }

  /** What is left at the end: at a cut without each PID's open PES, else everything. */
  finish(cut: boolean): Buffer[] {
    const rest = cut ? this.held.filter((h) => !(this.open.has(h.pid) && h.seq >= this.open.get(h.pid)!)) : this.held;
    this.dropped = this.held.length - rest.length;
    this.held = [];
    this.open.clear();
    return rest.map((h) => h.packet);
  }
}

/** A PUSI packet whose payload starts a PES (00 00 01), not a PSI section. */
function isPesStart(p: Buffer): boolean {
  const afc = (p[3]! >> 4) & 0x3;
  if ((afc & 0x1) === 0) return false; // no payload
  const start = afc === 0x3 ? 5 + p[4]! : 4;
  return start + 3 <= TS_PACKET && p[start] === 0 && p[start + 1] === 0 && p[start + 2] === 1;
}
