/** SDP for MPEG audio over RTP (RFC 3551 Table 4, RFC 2250 §3): static payload type 14, `MPA/90000`. */

export const MPA_PAYLOAD_TYPE = 14;

/** The rtpmap value: `MPA/90000` (the channel count is in the frame headers). */
export function mpaRtpmap(): string {
  return 'MPA/90000';
}
