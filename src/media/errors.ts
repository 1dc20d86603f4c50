/**
 * Media errors: one Error subclass with a stable `code`. Tests check codes, not messages.
 */

export type MediaErrorCode =
  /** The path does not exist. */
  | 'MEDIA_ERR_NOT_FOUND'
  /** Any other file system error (permissions, EISDIR, ...). */
  | 'MEDIA_ERR_IO'
  /** The first box is not an ISO BMFF / QuickTime top-level box. */
  | 'MEDIA_ERR_NOT_MP4'
  /** A box or a sample extends past the end of the file. */
  | 'MEDIA_ERR_TRUNCATED'
  /** No moov box at top level. */
  | 'MEDIA_ERR_NO_MOOV'
  /** Fragmented MP4 (moof / mvex): not supported yet. */
  | 'MEDIA_ERR_FRAGMENTED'
  /** A box inside moov is malformed (size smaller than its header or past its parent, short payload). */
  | 'MEDIA_ERR_BAD_BOX'
  /** Sample tables are inconsistent (stsc beyond the sample count, missing chunk offsets, ...). */
  | 'MEDIA_ERR_BAD_SAMPLE_TABLE'
  /** A zero timescale in mvhd or mdhd. */
  | 'MEDIA_ERR_BAD_TIMESCALE'
  /** A named cap was exceeded (moov bytes, samples per track, boxes, tracks). */
  | 'MEDIA_ERR_TOO_LARGE'
  /** readSample(s) index out of range or track not from this file. */
  | 'MEDIA_ERR_BAD_INDEX'
  /** The file was closed. */
  | 'MEDIA_ERR_CLOSED';

export class MediaError extends Error {
  readonly code: MediaErrorCode;
  /** Byte offset in the file (or in the moov payload for parse errors) when known. */
  readonly offset?: number;

  constructor(code: MediaErrorCode, message: string, offset?: number) {
    super(`${code}: ${message}`);
    this.name = 'MediaError';
    this.code = code;
    if (offset !== undefined) this.offset = offset;
  }
}

export function isMediaError(e: unknown): e is MediaError {
  return e instanceof MediaError;
}

export type MediaResult<T> = { ok: true; value: T } | { ok: false; error: MediaError };
