/**
 * Types shared by every payload format: what a packetizer produces (payloads without the RTP
 * header, shared by all sessions) and what a depacketizer consumes and produces.
 */

/** One RTP payload, without the 12-byte header: each session writes its own header in front. */
export interface RtpPayload {
  payload: Buffer;
  /** The RTP marker bit for this packet (last packet of an access unit). */
  marker: boolean;
}

/** A depacketizer's input: a received RTP packet's relevant fields. */
export interface RtpPayloadInput {
  payload: Buffer;
  /** Extended sequence number (monotonic, more than 16 bits): gaps mean lost packets. */
  sequence: number;
  /** RTP timestamp (32-bit; an extended timestamp also works, it is never wrapped then). */
  timestamp: number;
  marker: boolean;
}

/** What a depacketizer hands on: one access unit (H.264) or one audio frame (AAC). */
export interface DepacketizedUnit {
  timestamp: number;
  /** NAL units without start codes (H.264), or one AAC access unit. Empty when all was lost. */
  data: Buffer[];
  /** H.264: the unit holds an IDR slice. AAC: true for every complete frame. */
  keyframe: boolean;
  /** False when a packet or fragment of this unit was lost or malformed: what `data` holds is
   * still whole (never a partial NAL or AU), but something is missing. */
  complete: boolean;
}

/** The push/flush contract of every depacketizer. */
export interface Depacketizer {
  push(p: RtpPayloadInput): DepacketizedUnit[];
  /** Hands on what is pending (end of stream, or before a seek/resync). */
  flush(): DepacketizedUnit[];
}
