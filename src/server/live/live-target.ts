import { parseRequestTarget } from '../request-target.ts';
import { CHANNEL_NAME } from './live-channel.ts';

/** What a request URI names under `live/` (or a path a rule opens): the channel, the part after it (a track), the URL bases. */
export interface LiveTarget {
  /** The channel's name: NAME under `live/`, the whole path for a rule's path. */
  name: string;
  /** The channel's URL path (`live/NAME`, `studio/cam1`): channels are keyed by it. */
  path: string;
  /** The path segment after the channel name (`trackID=1`, a publisher's `streamid=0`), if any. */
  control: string | undefined;
  /** `rtsp://host:port/live/NAME` as the client wrote it. */
  aggregateUrl: string;
  query: URLSearchParams;
}

/**
 * 'other' when the URI is not under `live/` nor on a path `isLivePath` accepts (config rules);
 * undefined when it is under `live/` but names no valid channel.
 */
export function parseLiveTarget(uri: string, isLivePath?: (path: string) => boolean): LiveTarget | undefined | 'other' {
  const t = parseRequestTarget(uri);
  if (!t) return 'other';
  const segments = t.mediaPath.split('/');
  const base = t.aggregateUrl.slice(0, t.aggregateUrl.length - t.mediaPath.length);
  // Made only for a live target: every request of every file session asks first (handlers.ts).
  const query = (): URLSearchParams => new URLSearchParams(t.query.replace(/^\?/, ''));
  if (isLivePath) {
    // A rule's channel: the whole path, or the path without its last segment (a publisher's `streamid=0`).
    if (isLivePath(t.mediaPath))
      return { name: t.mediaPath, path: t.mediaPath, control: t.control, aggregateUrl: t.aggregateUrl, query: query() };
    const parent = segments.slice(0, -1).join('/');
    if (t.control === undefined && segments.length > 1 && isLivePath(parent))
      return { name: parent, path: parent, control: segments[segments.length - 1], aggregateUrl: `${base}${parent}`, query: query() };
  }
  if (segments[0] !== 'live') return 'other';
  const name = segments[1];
  if (name === undefined || !CHANNEL_NAME.test(name) || segments.length > 3) return undefined;
  const control = segments[2] ?? t.control;
  return { name, path: `live/${name}`, control, aggregateUrl: `${base}live/${name}`, query: query() };
}
