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

/** Headers the arena holds: more packets than any wake of this machine sends (the rest get fresh Buffers). */
export const HEADER_ARENA_SLOTS = 8192;

/**
 * 12-byte headers for outputs that are done with each header by the end of the wake's flush (sent
 * or copied): one arena for the whole process, handed out again from its start in every flush epoch,
 * so no Buffer is made per packet and the memory follows the busiest wake, not the number of
 * streams (a ring per stream cost ~25 KB of Buffer views each: 50 KB per session). Views are made
 * on first use; a wake that needs more than HEADER_ARENA_SLOTS headers gets fresh Buffers for the
 * rest.
 */
export class HeaderArena {
  private readonly slab = Buffer.allocUnsafeSlow(12 * HEADER_ARENA_SLOTS);
  private readonly views: Buffer[] = [];
  private epoch = -1;
  private used = 0;
  /** Headers that could not come from the arena (its wake had used every slot). */
  overflows = 0;

  take(): Buffer {
    const epoch = sendEpoch();
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.used = 0;
    }
    const i = this.used;
    if (i === HEADER_ARENA_SLOTS) {
      this.overflows++;
      return Buffer.allocUnsafe(12);
    }
    this.used = i + 1;
    return (this.views[i] ??= this.slab.subarray(12 * i, 12 * i + 12));
  }

  /** Views made so far: the busiest wake's header count. */
  get size(): number {
    return this.views.length;
  }
}

/** The process's arena, shared by every sender whose output copies headers. */
export const headerArena = new HeaderArena();

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
  /** Header memory reused from wake to wake, when the output allows it. */
  private readonly headers: HeaderArena | undefined;

  constructor(
    public format: SenderFormat,
    private readonly out: RtpOutput,
    private readonly random: Random = cryptoRandom,
  ) {
    this.ssrc = random.uint32();
    this.seq = random.uint16();
    this.timestampBase = random.uint32();
    this.headers = out.copiesHeader === true ? headerArena : undefined;
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
