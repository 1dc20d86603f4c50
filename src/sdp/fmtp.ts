/**
 * a=fmtp (RFC 4566 §6): `<format> <format specific parameters>`. For RTP payload formats the
 * parameters are `key=value` pairs separated by ';' (RFC 6184 §8.2.1, RFC 3640 §4.1), e.g.
 * `96 packetization-mode=1;profile-level-id=42e01e;sprop-parameter-sets=Z0IAHp...,aM4G4g==`.
 * Order is kept; values are split at the first '=' (base64 padding survives); keys are compared
 * case-insensitively on lookup. A parameter without '=' (e.g. `0-15` for telephone-event) has no
 * value.
 */

import { sdpError, type SdpResult } from './errors.ts';

export interface FmtpParam {
  key: string;
  value?: string;
}

export interface Fmtp {
  payloadType: number;
  params: FmtpParam[];
}

export function parseFmtp(value: string): SdpResult<Fmtp> {
  const m = /^[ \t]*(\d{1,3})(?:[ \t]+(.*))?$/s.exec(value);
  if (m === null || Number(m[1]) > 127) {
    return sdpError('SDP_ERR_BAD_FMTP', `bad fmtp ${JSON.stringify(value.slice(0, 80))}`);
  }
  const params: FmtpParam[] = [];
  for (const raw of (m[2] ?? '').split(';')) {
    const p = raw.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    params.push(eq === -1 ? { key: p } : { key: p.slice(0, eq).trim(), value: p.slice(eq + 1).trim() });
  }
  return { ok: true, value: { payloadType: Number(m[1]), params } };
}

export function formatFmtp(f: Fmtp): string {
  const params = f.params.map((p) => (p.value === undefined ? p.key : `${p.key}=${p.value}`)).join(';');
  return params === '' ? `${f.payloadType}` : `${f.payloadType} ${params}`;
}

/** Value of the first parameter named `key` (case-insensitive); '' for a valueless one. */
export function getFmtpParam(f: Fmtp, key: string): string | undefined {
  const k = key.toLowerCase();
  const p = f.params.find((x) => x.key.toLowerCase() === k);
  return p === undefined ? undefined : (p.value ?? '');
}
