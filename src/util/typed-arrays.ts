/** A new array of `size` elements (zero beyond `a`'s) starting with `a`'s: a typed array's growth. */
export function grown<T extends Int32Array | Uint32Array | Uint8Array | Float64Array>(a: T, size: number): T {
  const b = new (a.constructor as new (length: number) => T)(size);
  b.set(a);
  return b;
}
