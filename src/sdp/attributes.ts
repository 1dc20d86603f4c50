/**
 * Attribute lookup on a session or media section, and typed access to the rtpmap and fmtp of a
 * payload type. Names are matched case-insensitively.
 */

import { parseFmtp, type Fmtp } from './fmtp.ts';
import { parseRtpmap, type Rtpmap } from './rtpmap.ts';
import type { MediaDescription, SdpAttribute } from './types.ts';

interface HasAttributes {
  attributes: readonly SdpAttribute[];
}

/** Value of the first attribute `name`; '' for a flag attribute (a=recvonly); undefined if absent. */
export function getAttribute(s: HasAttributes, name: string): string | undefined {
  const n = name.toLowerCase();
  const a = s.attributes.find((x) => x.name.toLowerCase() === n);
  return a === undefined ? undefined : (a.value ?? '');
}

/** Values of every attribute `name`, in order. */
export function getAttributes(s: HasAttributes, name: string): string[] {
  const n = name.toLowerCase();
  return s.attributes.filter((x) => x.name.toLowerCase() === n).map((x) => x.value ?? '');
}

/** Parsed a=rtpmap for `payloadType` (default: the first format), or undefined. */
export function getRtpmap(m: MediaDescription, payloadType?: number): Rtpmap | undefined {
  const pt = payloadType ?? Number(m.formats[0]);
  for (const v of getAttributes(m, 'rtpmap')) {
    const r = parseRtpmap(v);
    if (r.ok && r.value.payloadType === pt) return r.value;
  }
  return undefined;
}

/** Parsed a=fmtp for `payloadType` (default: the first format), or undefined. */
export function getFmtp(m: MediaDescription, payloadType?: number): Fmtp | undefined {
  const pt = payloadType ?? Number(m.formats[0]);
  for (const v of getAttributes(m, 'fmtp')) {
    const r = parseFmtp(v);
    if (r.ok && r.value.payloadType === pt) return r.value;
  }
  return undefined;
}
