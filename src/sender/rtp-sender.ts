import { writeRtpFixedHeader } from '../rtp/index.ts';
import type { SendLane } from '../transport/index.ts';
import { SenderStats } from '../stats/index.ts';
import { cryptoRandom } from '../util/random.ts';
import type { Random } from '../util/random.ts';

/**
 * Where a sender's packets go: an Egress (one client), or a fan-out over many (a live track's
 * viewers). `lane`: audio's packets leave a wake before video's (SendLane). `keyframeStart` marks
 * the first packet of an access unit a decoder can start from (always true for audio), so a
 * fan-out can hold a new video viewer until one comes.
 */
export interface RtpOutput {
  sendRtp(header: Buffer, payload: Buffer, lane: SendLane, keyframeStart: boolean): void;
  /** True when `header` is no longer read once sendRtp returns (Egress.copiesHeader). */
  readonly copiesHeader?: boolean;
}

/**
 * The 12-byte header memory of every sender whose output copies each header when handed it
 * (Egress.copiesHeader): one Buffer for the process, written again for every packet.
 */
const sharedHeader = Buffer.allocUnsafeSlow(12);

/** What a sender needs of its payload format. */
export interface SenderFormat {
  readonly payloadType: number;
  readonly clockRate: number;
  /** Session bandwidth in bit/s, the base of the RTCP interval (RFC 3550 §6.2). */
  readonly bitrate: number;
  /** 'audio' sends in the urgent lane (SendLane); anything else, or none, in the bulk lane. */
  readonly media?: string;
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
  /** The output copies each header: the shared header memory does. */
  private readonly reuseHeader: boolean;

  constructor(
    public format: SenderFormat,
    private readonly out: RtpOutput,
    private readonly random: Random = cryptoRandom,
  ) {
    this.ssrc = random.uint32();
    this.seq = random.uint16();
    this.timestampBase = random.uint32();
    this.reuseHeader = out.copiesHeader === true;
  }

  get clockRate(): number {
    return this.format.clockRate;
  }

  /**
   * Sends one packet with the next sequence number, or with `seq` (a relay keeps its publisher's
   * gaps; the next one is then the one after the highest sent).
   */
  send(marker: boolean, timestamp: number, payload: Buffer, keyframeStart = true, seq = this.seq): void {
    const header = this.reuseHeader ? sharedHeader : Buffer.allocUnsafe(12);
    writeRtpFixedHeader(header, 0, marker, this.format.payloadType, seq, timestamp >>> 0, this.ssrc);
    if (((seq - this.seq) & 0xffff) < 0x8000) this.seq = (seq + 1) & 0xffff;
    this.stats.onPacketSent(payload.length);
    this.out.sendRtp(header, payload, this.format.media === 'audio' ? 'urgent' : 'bulk', keyframeStart);
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
