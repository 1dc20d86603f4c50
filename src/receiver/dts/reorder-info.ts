import { parseH264Fmtp, parseH265Fmtp } from '../../codecs/index.ts';
import type { FmtpInput } from '../../codecs/index.ts';
import { h264ReorderInfo, parseH264Sps } from './h264-sps.ts';
import type { ReorderInfo } from './h264-sps.ts';
import { h265ReorderInfo, parseH265Sps } from './h265-sps.ts';

/**
 * What the SDP's parameter sets say about a video track's reordering: H.264 `sprop-parameter-sets`
 * or H.265 `sprop-sps`, read by the SPS parsers. Empty when the codec has no reordering to derive,
 * the fmtp carries no SPS, or the SPS does not parse (the deriver then learns from the timestamps).
 */
export function reorderInfoFromFmtp(codec: string | undefined, fmtp: FmtpInput): ReorderInfo {
  if (codec === 'h264') {
    const f = parseH264Fmtp(fmtp);
    const sps = f.ok ? f.value.sps[0] : undefined;
    const parsed = sps ? parseH264Sps(sps) : undefined;
    return parsed?.ok ? h264ReorderInfo(parsed.value) : {};
  }
  if (codec === 'h265') {
    const f = parseH265Fmtp(fmtp);
    const sps = f.ok ? f.value.sps[0] : undefined;
    const parsed = sps ? parseH265Sps(sps) : undefined;
    return parsed?.ok ? h265ReorderInfo(parsed.value) : {};
  }
  return {};
}
