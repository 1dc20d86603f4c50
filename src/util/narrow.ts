/**
 * Narrowing helpers for `noUncheckedIndexedAccess`. Each states an invariant the caller has already
 * established (a bounds check, a regex group that is not optional); a broken invariant is a
 * programmer error, so they throw instead of returning a value. Parsers of network input check
 * lengths themselves and return their own error code before relying on these.
 */

/** `list[index]` where the caller has checked that `index` is in range. */
export function at<T>(list: ArrayLike<T>, index: number): T {
  if (!Number.isInteger(index) || index < 0 || index >= list.length) {
    throw new RangeError(`index ${index} outside a list of ${list.length}`);
  }
  return list[index] as T;
}

/** Capture group `index` of a successful match, for a group that always takes part in it. */
export function group(m: RegExpExecArray | RegExpMatchArray, index: number): string {
  const g = m[index];
  if (g === undefined) throw new RangeError(`regex group ${index} did not take part in the match`);
  return g;
}

/** The last element of a list the caller knows is not empty. */
export function last<T>(list: ArrayLike<T>): T {
  return at(list, list.length - 1);
}
