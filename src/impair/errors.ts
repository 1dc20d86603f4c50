/**
 * Error codes for the netem grammar and loss traces. User input (CLI flags, URL parameters, trace
 * files) never throws: parsers return `ImpairResult`. Tests check codes, not message text.
 */

export type ImpairErrorCode =
  /** A word that is not a netem keyword (tc: `What is "x"?`). */
  | 'IMPAIR_ERR_UNKNOWN_KEYWORD'
  /** `loss <model>` or `distribution <name>` names something we do not know. */
  | 'IMPAIR_ERR_UNKNOWN_MODEL'
  /** A keyword that needs a value came last. */
  | 'IMPAIR_ERR_MISSING_VALUE'
  /** A value that is not a number, or has a unit tc does not accept for it. */
  | 'IMPAIR_ERR_BAD_NUMBER'
  /** A percentage outside [0 %, 100 %], a limit/gap that is not a non-negative integer, etc. */
  | 'IMPAIR_ERR_OUT_OF_RANGE'
  /** A negative delay or jitter. */
  | 'IMPAIR_ERR_NEGATIVE_TIME'
  /** The same option twice where tc refuses it (`loss` twice, `loss` plus `trace`). */
  | 'IMPAIR_ERR_DUPLICATE_OPTION'
  /** Options that tc refuses together: reorder without delay, gap without reorder, ... */
  | 'IMPAIR_ERR_CONFLICT'
  /** Valid netem, but not emulated here: `slot`, `ecn`, `rate N%`, custom distribution tables. */
  | 'IMPAIR_ERR_UNSUPPORTED'
  /** A loss trace file with something other than 0/1 samples, or too many samples. */
  | 'IMPAIR_ERR_BAD_TRACE';

export interface ImpairError {
  ok: false;
  code: ImpairErrorCode;
  message: string;
  /** The offending word (or trace line), as the user wrote it; '' when there is none. */
  token: string;
}

export type ImpairResult<T> = { ok: true; value: T } | ImpairError;

export function impairError(code: ImpairErrorCode, message: string, token: string): ImpairError {
  return { ok: false, code, message, token };
}
