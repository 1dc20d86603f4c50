/**
 * Splits `ffmpeg:<input args>` text into arguments: whitespace separates, single or double quotes
 * group (no escapes inside single quotes, backslash escapes inside double quotes and bare words).
 * Its own module: parsing `--live` and the config file need it, the ffmpeg source
 * (ffmpeg-source.ts) is loaded only when the hub starts one.
 */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      has = true;
    } else {
      cur += c;
      has = true;
    }
  }
  if (quote) throw new Error(`unbalanced ${quote} in ffmpeg arguments`);
  if (has) out.push(cur);
  return out;
}
