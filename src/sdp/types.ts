/**
 * SDP session model (RFC 4566 §5). Fields keep the text as written where SDP leaves it open
 * (addresses, session id/version which may exceed 2^53), numbers where the grammar says digits.
 */

/** o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> */
export interface SdpOrigin {
  username: string;
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

/** c=<nettype> <addrtype> <connection-address> (address may carry /ttl[/count]). */
export interface SdpConnection {
  netType: string;
  addrType: string;
  address: string;
}

/** b=<bwtype>:<bandwidth> (kbit/s for AS/CT). */
export interface SdpBandwidth {
  type: string;
  value: number;
}

/** t=<start-time> <stop-time> (NTP seconds; 0 0 = unbounded). */
export interface SdpTiming {
  start: number;
  stop: number;
}

/** a=<name>[:<value>]; `value` absent for flag attributes such as a=recvonly. */
export interface SdpAttribute {
  name: string;
  value?: string;
}

/** A line kept verbatim (r=, z=, k=, a second t= or c=, unknown letters). */
export interface SdpLine {
  type: string;
  value: string;
}

/** m=<media> <port>[/<number of ports>] <proto> <fmt> ... and the lines of its section. */
export interface MediaDescription {
  type: 'video' | 'audio' | 'application' | 'text' | 'message' | string;
  port: number;
  numPorts?: number;
  protocol: 'RTP/AVP' | string;
  formats: string[];
  info?: string;
  connection?: SdpConnection;
  bandwidth?: SdpBandwidth[];
  /** Written after b= and before a= lines. */
  otherLines?: SdpLine[];
  attributes: SdpAttribute[];
}

export interface SessionDescription {
  version: number;
  origin: SdpOrigin;
  sessionName: string;
  info?: string;
  uri?: string;
  emails?: string[];
  phones?: string[];
  connection?: SdpConnection;
  bandwidth?: SdpBandwidth[];
  timing: SdpTiming;
  /** Written after t= and before session a= lines (r=, z=, k=, extra t=, unknown). */
  otherLines?: SdpLine[];
  attributes: SdpAttribute[];
  media: MediaDescription[];
}
