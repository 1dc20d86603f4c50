/**
 * SDP for G.711 (RFC 3551 §4.5.14, Table 4): static payload types 0 (PCMU, µ-law) and 8 (PCMA,
 * A-law), clock 8000, one channel; rtpmap `PCMU/8000` / `PCMA/8000`, no fmtp.
 */

export type G711Law = 'PCMU' | 'PCMA';

export const PCMU_PAYLOAD_TYPE = 0;
export const PCMA_PAYLOAD_TYPE = 8;
export const G711_CLOCK_RATE = 8000;

/** The static payload type of the law: 0 or 8. */
export function g711PayloadType(law: G711Law): number {
  return law === 'PCMU' ? PCMU_PAYLOAD_TYPE : PCMA_PAYLOAD_TYPE;
}

/** The rtpmap value: `PCMU/8000` or `PCMA/8000`. */
export function g711Rtpmap(law: G711Law): string {
  return `${law}/${G711_CLOCK_RATE}`;
}
