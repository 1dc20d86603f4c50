/**
 * Splitting of RTSP header values on a separator outside double quotes (RFC 2326 §15.1
 * quoted-string), shared by the header parsers. Pieces are trimmed of spaces and tabs.
 */

/** Never empty: a value without the separator is one piece. */
export function splitOutsideQuotes(value: string, sep: string): [string, ...string[]] {
  const out: string[] = [];
  let inQuotes = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"') inQuotes = !inQuotes;
    else if (c === sep && !inQuotes) {
      out.push(trimWs(value.slice(start, i)));
      start = i + 1;
    }
  }
  out.push(trimWs(value.slice(start)));
  return out as [string, ...string[]]; // the push above makes it non-empty
}

export function trimWs(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '');
}

export function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/** A decimal integer of at most `maxDigits` digits within [0, max], else undefined. */
export function parseUint(s: string, max: number, maxDigits = 10): number | undefined {
  if (s.length === 0 || s.length > maxDigits || !/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= max ? n : undefined;
}
