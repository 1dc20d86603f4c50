/**
 * What an RTSP request URI names on this server: the media path inside the media directory, the
 * track control (`trackID=N`) if any, and the URL prefix to build Content-Base and RTP-Info URLs.
 * Aggregate URLs with and without a trailing slash name the same thing.
 */
export interface RequestTarget {
  /** Raw (still percent-encoded) media path without leading or trailing slash. */
  mediaPath: string;
  /** `trackID=N` when the URI names one track. */
  control: string | undefined;
  /** `rtsp://host:port/<mediaPath>` as the client wrote it (no query), for building URLs. */
  aggregateUrl: string;
  query: string;
}

const CONTROL = /^trackID=\d{1,4}$/;
const MAX_URI_LENGTH = 4096;

export function parseRequestTarget(uri: string): RequestTarget | undefined {
  if (uri.length > MAX_URI_LENGTH) return undefined;
  const m = /^(rtsps?):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?/i.exec(uri);
  let prefix: string;
  let path: string;
  let query = '';
  if (m) {
    prefix = `${m[1]!.toLowerCase()}://${m[2]}`;
    path = m[3] ?? '';
    query = m[4] ?? '';
  } else if (uri.startsWith('/')) {
    // Some clients send an absolute path instead of an absolute URI.
    const q = uri.indexOf('?');
    prefix = '';
    path = q < 0 ? uri : uri.slice(0, q);
    query = q < 0 ? '' : uri.slice(q);
  } else {
    return undefined;
  }
  const segments = path.split('/').filter((s) => s.length > 0);
  let control: string | undefined;
  const last = segments[segments.length - 1];
  if (last && CONTROL.test(last)) {
    control = last;
    segments.pop();
  }
  const mediaPath = segments.join('/');
  return { mediaPath, control, aggregateUrl: `${prefix}/${mediaPath}`, query };
}
