/**
 * The `a=fmtp:<pt> <params>` parameter list shared by payload formats (RFC 8866 §6.15): `;`
 * separated `name=value` pairs. Names are case-insensitive and returned lower-case.
 */

export type FmtpInput = string | Readonly<Record<string, string>> | ReadonlyMap<string, string>;

/** Parses `a; b=1;c = x` into a Map with lower-case names (a name without `=` maps to ''). */
export function parseFmtpParameters(input: FmtpInput): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof input !== 'string') {
    const entries = input instanceof Map ? input.entries() : Object.entries(input);
    for (const [k, v] of entries) out.set(k.trim().toLowerCase(), String(v).trim());
    return out;
  }
  for (const part of input.split(';')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name === '') continue;
    out.set(name, eq < 0 ? '' : part.slice(eq + 1).trim());
  }
  return out;
}
