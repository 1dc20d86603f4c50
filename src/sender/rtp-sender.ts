import { writeRtpFixedHeader } from '../rtp/index.ts';
import { SenderStats } from '../stats/index.ts';
import { sendEpoch } from '../transport/index.ts';
import { cryptoRandom } from '../util/random.ts';
import type { Random } from '../util/random.ts';

/**
 * Where a sender's packets go: an Egress (one client), or a fan-out over many (a live track's
 * viewers). `keyframeStart` marks the first packet of an access unit a decoder can start from
 * (always true for audio), so a fan-out can hold a new video viewer until one comes.
 */
export interface RtpOutput {
  sendRtp(header: Buffer, payload: Buffer, keyframeStart: boolean): void;
  /** True when `header` is no longer read once the wake's flush is over (Egress.copiesHeader). */
  readonly copiesHeader?: boolean;
}

/** Headers in a sender's ring: a few seconds of any stream before a slot comes round again. */
export const HEADER_SLOTS = 256;

/**
 * A ring of preallocated 12-byte headers, for an output that is done with each header by the end
 * of the wake's flush (sent or copied): no Buffer made per packet. A slot comes round again only in
 * a later flush epoch; a wake that sends more than HEADER_SLOTS packets of one stream (a catch-up)
 * gets fresh Buffers for the rest.
 */
export class HeaderSlots {
  private readonly slots: Buffer[] = [];
  private readonly epochs = new Float64Array(HEADER_SLOTS).fill(-1);
  private next = 0;
  /** Headers that could not use a slot (its epoch was not over). */
  overflows = 0;

  constructor() {
    const slab = Buffer.allocUnsafeSlow(12 * HEADER_SLOTS);
    for (let i = 0; i < HEADER_SLOTS; i++) this.slots.push(slab.subarray(12 * i, 12 * i + 12));
  }

  take(): Buffer {
    const i = this.next;
    const epoch = sendEpoch();
    if (this.epochs[i] === epoch) {
      this.overflows++;
      return Buffer.allocUnsafe(12);
    }
    this.epochs[i] = epoch;
    this.next = i + 1 === HEADER_SLOTS ? 0 : i + 1;
    return this.slots[i]!;
  }
}

/** What a sender needs of its payload format. */
export interface SenderFormat {
  readonly payloadType: number;
  readonly clockRate: number;
  /** Session bandwidth in bit/s, the base of the RTCP interval (RFC 3550 §6.2). */
  readonly bitrate: number;
}

/**
 * One RTP source (RFC 3550 §5.1): the SSRC, the next sequence number and the random timestamp
 * base, the sender statistics an SR reports (§6.4.1), and the 12-byte fixed header written once per
 * packet, whatever the number of receivers. Every sending path uses it: a file session's track, a
 * live channel's track (one sender, every viewer), multicast, `push` and the lab.
 */
export class RtpSender {
  /** Random; a new one after a BYE (renewSsrc). */
  ssrc: number;
  /** Next sequence number to send. */
  seq: number;
  /** Added to a track's media RTP time to make its RTP timestamps. */
  readonly timestampBase: number;
  /** Packets and payload octets sent under the current SSRC, read by the SRs. */
  readonly stats = new SenderStats();
  /** Header memory reused from packet to packet, when the output allows it. */
  private readonly headers: HeaderSlots | undefined;

  constructor(
    public format: SenderFormat,
    private readonly out: RtpOutput,
    private readonly random: Random = cryptoRandom,
  ) {
    this.ssrc = random.uint32();
    this.seq = random.uint16();
    this.timestampBase = random.uint32();
    this.headers = out.copiesHeader === true ? new HeaderSlots() : undefined;
  }

  get clockRate(): number {
    return this.format.clockRate;
  }

  /**
   * Sends one packet with the next sequence number, or with `seq` (a relay keeps its publisher's
   * gaps; the next one is then the one after the highest sent).
   */
  send(marker: boolean, timestamp: number, payload: Buffer, keyframeStart = true, seq = this.seq): void {
    const header = this.headers ? this.headers.take() : Buffer.allocUnsafe(12);
    writeRtpFixedHeader(header, 0, marker, this.format.payloadType, seq, timestamp >>> 0, this.ssrc);
    if (((seq - this.seq) & 0xffff) < 0x8000) this.seq = (seq + 1) & 0xffff;
    this.stats.onPacketSent(payload.length);
    this.out.sendRtp(header, payload, keyframeStart);
  }

  /**
   * A new SSRC for a source that sends again after its BYE went out: the old identifier has left
   * the session (RFC 3550 §6.6) and the SR counts restart with the new one (§6.4.1). Sequence
   * numbers and timestamps continue.
   */
  renewSsrc(): void {
    const old = this.ssrc;
    while (this.ssrc === old) this.ssrc = this.random.uint32();
    this.stats.reset();
  }
}
