/**
 * MPEG-TS constants (ISO/IEC 13818-1): packet size, stream_type and stream_id values, default PIDs
 * and intervals, and the muxer's named limits.
 */

export const TS_PACKET_SIZE = 188;
export const TS_SYNC_BYTE = 0x47;
/** Payload bytes of a packet without an adaptation field. */
export const TS_PACKET_PAYLOAD_SIZE = 184;

/** PTS/DTS/PCR base wrap: timestamps are 33-bit counts of a 90 kHz clock. */
export const TS_TIMESTAMP_WRAP = 2 ** 33;

/** stream_type (Table 2-34 and its amendments). */
export const TsStreamType = {
  /** ISO/IEC 13818-7 audio with ADTS transport syntax. */
  /** ISO/IEC 11172-3 audio (MPEG-1 Layer I/II/III). */
  MPEG1_AUDIO: 0x03,
  /** ISO/IEC 13818-3 audio (MPEG-2 and MPEG-2.5 lower sampling rates, Layer I/II/III). */
  MPEG2_AUDIO: 0x04,
  AAC_ADTS: 0x0f,
  H264: 0x1b,
  H265: 0x24,
  /** PES packets with private data (Opus, with a registration descriptor 'Opus'). */
  PRIVATE_PES: 0x06,
} as const;

/** PES stream_id (Table 2-22). */
export const TsStreamId = {
  VIDEO: 0xe0,
  AUDIO: 0xc0,
  PRIVATE_STREAM_1: 0xbd,
} as const;

export const TS_PID_PAT = 0x0000;
/** ffmpeg's defaults, so our files look like the ones people know. */
export const TS_DEFAULT_PMT_PID = 0x1000;
export const TS_DEFAULT_FIRST_ES_PID = 0x0100;
/** PIDs 0x0010..0x1FFE are free for PMTs and elementary streams. */
export const TS_MIN_USER_PID = 0x0010;
export const TS_MAX_USER_PID = 0x1ffe;

/** PAT/PMT repetition, in 90 kHz ticks of the access units' DTS (ffmpeg's pat_period: 0.1 s). */
export const TS_DEFAULT_PSI_INTERVAL_90K = 9000;
/** Longest gap between PCRs on the PCR PID, in 90 kHz ticks (ISO/IEC 13818-1 §2.7.2: ≤ 0.1 s). */
export const TS_DEFAULT_PCR_INTERVAL_90K = 3600;
/**
 * PCR = DTS of the access unit it rides on minus this delay (the T-STD buffering time). 0 by
 * default: recordings are read by demuxers that go by PTS/DTS; raise it for hardware decoders.
 */
export const TS_DEFAULT_PCR_DELAY_90K = 0;

/** Largest access unit the muxer takes (bytes of NAL units or of one audio frame). */
export const TS_MAX_ACCESS_UNIT_SIZE = 16 * 1024 * 1024;
/** Most elementary streams in the one program (the PMT must fit one TS packet). */
export const TS_MAX_STREAMS = 16;
