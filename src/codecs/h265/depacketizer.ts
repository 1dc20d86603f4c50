/**
 * RFC 7798 depacketizer (no DONL: sprop-max-don-diff 0): single NAL unit packets (§4.4.1),
 * aggregation packets (AP, §4.4.2) and fragmentation units (FU, §4.4.3) in, access units of whole
 * NAL units out. The loss rules, caps and access-unit assembly are shared with H.264: see
 * ../nal-depacketizer.ts.
 *
 * Malformed: a payload under 2 bytes, a FU under 3 bytes or with S and E both set or a FuType that
 * cannot be fragmented (AP, FU, PACI, 51..63), AP sizes not adding up or fewer than 2 units.
 * Unsupported: PACI (type 50). Ignored: the unspecified types 51..63.
 */
import { NalDepacketizer } from '../nal-depacketizer.ts';
import type { NalDepacketizerOptions, NalDepacketizerStats, PendingAu } from '../nal-depacketizer.ts';
import { H265NalType, isH265Keyframe } from './nal.ts';

export const H265_DEFAULT_MAX_NAL_SIZE = 4 * 1024 * 1024;
export const H265_DEFAULT_MAX_NALUS_PER_ACCESS_UNIT = 1024;
export const H265_DEFAULT_MAX_ACCESS_UNIT_SIZE = 8 * 1024 * 1024;

export type H265DepacketizerOptions = NalDepacketizerOptions;
export type H265DepacketizerStats = NalDepacketizerStats;

const PAYLOAD_HDR = 2;
const FU_HEADERS = 3;

export class H265Depacketizer extends NalDepacketizer {
  constructor(opts: H265DepacketizerOptions = {}) {
    super(opts, {
      maxNalSize: H265_DEFAULT_MAX_NAL_SIZE,
      maxNalusPerAccessUnit: H265_DEFAULT_MAX_NALUS_PER_ACCESS_UNIT,
      maxAccessUnitSize: H265_DEFAULT_MAX_ACCESS_UNIT_SIZE,
    });
  }

  protected isKeyframe(nal: Buffer): boolean {
    return isH265Keyframe(nal);
  }

  protected handlePayload(payload: Buffer, au: PendingAu): void {
    if (payload.length < PAYLOAD_HDR) {
      this.dropFu();
      this.malformed(au);
      return;
    }
    const type = (payload.readUInt8(0) >> 1) & 0x3f;
    if (type === H265NalType.FU) {
      this.handleFu(payload, au);
      return;
    }
    this.notFragment();
    if (type < H265NalType.AP) {
      this.addNal(au, payload);
    } else if (type === H265NalType.AP) {
      // An AP carries at least two aggregation units (§4.4.2), each at least a NAL header.
      if (!this.aggregate(payload, PAYLOAD_HDR, 2, 2, au)) this.malformed(au);
    } else if (type === H265NalType.PACI) {
      this.unsupported(au);
    } else {
      this.stats.ignored++;
    }
  }

  private handleFu(payload: Buffer, au: PendingAu): void {
    const fuHeader = payload[2] ?? 0;
    const fuType = fuHeader & 0x3f;
    const start = (fuHeader & 0x80) !== 0;
    const end = (fuHeader & 0x40) !== 0;
    // S and E both set, or a FuType that cannot be fragmented (AP, FU, PACI, unspecified 51..63).
    if (payload.length <= FU_HEADERS || (start && end) || fuType >= H265NalType.AP) {
      this.notFragment();
      this.malformed(au);
      return;
    }
    // The NAL header: F, LayerId and TID from the PayloadHdr, type = FuType.
    const header = Buffer.of((payload.readUInt8(0) & 0x81) | (fuType << 1), payload.readUInt8(1));
    this.fragment({ start, end, header, type: fuType, data: payload.subarray(FU_HEADERS) }, au);
  }
}
