/**
 * a=rtpmap (RFC 4566 §6): `<payload type> <encoding name>/<clock rate>[/<encoding parameters>]`,
 * e.g. `96 H264/90000`, `97 mpeg4-generic/48000/2`. For audio the encoding parameter is the
 * channel count.
 */

import { sdpError, type SdpResult } from './errors.ts';
import { group } from '../util/narrow.ts';

export interface Rtpmap {
  payloadType: number;
  /** As written (case is not significant: compare with toUpperCase()). */
  encodingName: string;
  clockRate: number;
  /** Audio channel count (the optional third field). */
  channels?: number;
}

export function parseRtpmap(value: string): SdpResult<Rtpmap> {
  const m = /^[ \t]*(\d{1,3})[ \t]+([^/\s]+)\/(\d{1,10})(?:\/(\d{1,3}))?[ \t]*$/.exec(value);
  if (m === null || Number(m[1]) > 127) {
    return sdpError('SDP_ERR_BAD_RTPMAP', `bad rtpmap ${JSON.stringify(value.slice(0, 80))}`);
  }
  const r: Rtpmap = { payloadType: Number(m[1]), encodingName: group(m, 2), clockRate: Number(m[3]) };
  if (m[4] !== undefined) r.channels = Number(m[4]);
  return { ok: true, value: r };
}

export function formatRtpmap(r: Rtpmap): string {
  const base = `${r.payloadType} ${r.encodingName}/${r.clockRate}`;
  return r.channels === undefined ? base : `${base}/${r.channels}`;
}
