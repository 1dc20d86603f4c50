/**
 * Error codes of the MPEG-TS muxer. Stream configuration and access units come from the network
 * (SDP `config=`, depacketized frames), so problems with them are returned as values with a
 * stable code, never thrown; misuse of the API (an unknown PID, a non-finite timestamp) throws.
 */

export type TsErrorCode =
  /** AAC sampling rate not in the ADTS sampling_frequency_index table (ISO/IEC 14496-3 Table 1.18). */
  | 'TS_ERR_ADTS_UNSUPPORTED_RATE'
  /** AAC object type that ADTS cannot carry (its 2-bit profile holds Main, LC, SSR and LTP only). */
  | 'TS_ERR_ADTS_UNSUPPORTED_OBJECT_TYPE'
  /** channelConfiguration 0 (a program_config_element) or above 7: not expressible in ADTS. */
  | 'TS_ERR_ADTS_UNSUPPORTED_CHANNELS'
  /** An AAC access unit longer than ADTS's 13-bit frame_length allows (8191 - 7 bytes). */
  | 'TS_ERR_ADTS_FRAME_TOO_LARGE'
  /** Opus channel count outside 1..8. */
  | 'TS_ERR_OPUS_UNSUPPORTED_CHANNELS'
  /** An access unit with no bytes (or no NAL units). */
  | 'TS_ERR_EMPTY_ACCESS_UNIT'
  /** An access unit above TS_MAX_ACCESS_UNIT_SIZE. */
  | 'TS_ERR_ACCESS_UNIT_TOO_LARGE';

export interface TsError {
  ok: false;
  code: TsErrorCode;
  message: string;
}

export type TsResult<T> = { ok: true; value: T } | TsError;

export function tsError(code: TsErrorCode, message: string): TsError {
  return { ok: false, code, message };
}
