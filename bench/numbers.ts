/** Small numeric helpers the benches share. */

/** The median of `xs` (the mean of the two middle ones for an even count); NaN when none is finite. */
export function median(xs: readonly number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A command-line option that must be an integer in min..max; throws a message naming the option. */
export function intOption(name: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} wants ${min}..${max}, got ${value}`);
  return n;
}
