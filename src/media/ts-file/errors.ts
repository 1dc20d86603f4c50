/**
 * Error codes of the MPEG-TS file index. Parsing never throws on file bytes: a problem stops the
 * index where it is found and is reported with one of these codes and the byte offset.
 */
export type TsIndexErrorCode =
  /** A packet does not start with the sync byte 0x47 (the index ends before it). */
  | 'TS_ERR_NO_SYNC'
  /** Fewer than two PCRs: no clock to pace the stream by. */
  | 'TS_ERR_NO_PCR'
  /** More payload units than MAX_SAMPLES_PER_TRACK (the index ends there). */
  | 'TS_ERR_TOO_LARGE'
  /** The file ends inside a packet (the partial packet is left out). */
  | 'TS_ERR_TRUNCATED';

export interface TsIndexProblem {
  code: TsIndexErrorCode;
  message: string;
  /** Byte offset in the file. */
  offset: number;
}
