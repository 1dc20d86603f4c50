/**
 * RFC 6184 depacketizer (packetization-mode 0 and 1): single NAL unit packets (§5.6), STAP-A
 * (§5.7.1) and FU-A (§5.8) in, access units of whole NAL units out. The loss rules, caps and
 * access-unit assembly are shared with H.265: see ../nal-depacketizer.ts.
 *
 * Malformed: an empty payload, a FU-A shorter than 2 bytes, STAP-A sizes not adding up.
 * Unsupported (interleaved mode): STAP-B, MTAP16, MTAP24, FU-B. Ignored (§5.4): NAL types 0, 30, 31.
 */
import { NalDepacketizer } from '../nal-depacketizer.ts';
import type { NalDepacketizerOptions, NalDepacketizerStats, PendingAu } from '../nal-depacketizer.ts';
import { NalType } from './nal.ts';

/** Largest NAL unit reassembled from FU-A or accepted whole. */
export const H264_DEFAULT_MAX_NAL_SIZE = 4 * 1024 * 1024;
/** Most NAL units kept in one access unit (slices, SEI, parameter sets). */
export const H264_DEFAULT_MAX_NALUS_PER_ACCESS_UNIT = 1024;
/** Most bytes kept in one access unit. */
export const H264_DEFAULT_MAX_ACCESS_UNIT_SIZE = 8 * 1024 * 1024;

export type H264DepacketizerOptions = NalDepacketizerOptions;
export type H264DepacketizerStats = NalDepacketizerStats;

export class H264Depacketizer extends NalDepacketizer {
  constructor(opts: H264DepacketizerOptions = {}) {
    super(opts, {
      maxNalSize: H264_DEFAULT_MAX_NAL_SIZE,
      maxNalusPerAccessUnit: H264_DEFAULT_MAX_NALUS_PER_ACCESS_UNIT,
      maxAccessUnitSize: H264_DEFAULT_MAX_ACCESS_UNIT_SIZE,
    });
  }

  protected isKeyframe(nal: Buffer): boolean {
    return nal.length > 0 && (nal.readUInt8(0) & 0x1f) === NalType.IDR_SLICE;
  }

  protected handlePayload(payload: Buffer, au: PendingAu): void {
    if (payload.length === 0) {
      this.malformed(au);
      return;
    }
    const type = payload.readUInt8(0) & 0x1f;
    if (type === NalType.FU_A) {
      if (payload.length < 2) {
        this.dropFu();
        this.malformed(au);
        return;
      }
      const indicator = payload.readUInt8(0);
      const fuHeader = payload.readUInt8(1);
      this.fragment(
        {
          start: (fuHeader & 0x80) !== 0,
          end: (fuHeader & 0x40) !== 0,
          // F and NRI from the FU indicator, type from the FU header.
          header: Buffer.of((indicator & 0xe0) | (fuHeader & 0x1f)),
          type: fuHeader & 0x1f,
          data: payload.subarray(2),
        },
        au,
      );
      return;
    }
    this.notFragment();
    if (type >= 1 && type <= 23) {
      this.addNal(au, payload);
    } else if (type === NalType.STAP_A) {
      if (!this.aggregate(payload, 1, 1, 1, au)) this.malformed(au);
    } else if (type === NalType.STAP_B || type === NalType.MTAP16 || type === NalType.MTAP24 || type === NalType.FU_B) {
      this.unsupported(au);
    } else {
      this.stats.ignored++;
    }
  }
}
