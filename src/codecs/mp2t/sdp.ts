/** SDP for MPEG-2 TS over RTP (RFC 3551 Table 5, RFC 2250): static payload type 33, `MP2T/90000`. */

export const MP2T_PAYLOAD_TYPE = 33;
export const MP2T_CLOCK_RATE = 90000;

/** The rtpmap value: `MP2T/90000`. */
export function mp2tRtpmap(): string {
  return `MP2T/${MP2T_CLOCK_RATE}`;
}
