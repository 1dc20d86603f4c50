/**
 * Error codes of receiver/dts. Parameter sets come from the network (SDP sprop-parameter-sets,
 * in-band NAL units): parsing them returns a result with a stable code, never throws.
 */

export type DtsErrorCode =
  /** Not an SPS NAL unit (empty, or nal_unit_type is not 7). */
  | 'DTS_ERR_SPS_NOT_SPS'
  /** The SPS ended before a field it declares. */
  | 'DTS_ERR_SPS_TRUNCATED'
  /** A field out of its range (an Exp-Golomb code over 32 bits, chroma_format_idc > 3, ...). */
  | 'DTS_ERR_SPS_BAD_VALUE';

export interface DtsError {
  ok: false;
  code: DtsErrorCode;
  message: string;
}

export type DtsResult<T> = { ok: true; value: T } | DtsError;

export function dtsError(code: DtsErrorCode, message: string): DtsError {
  return { ok: false, code, message };
}
