import { parseRequestTarget } from '../request-target.ts';
import { CHANNEL_NAME } from './live-channel.ts';

/** What a request URI names under `live/`: the channel, the part after it (a track), the URL bases. */
export interface LiveTarget {
  name: string;
  /** The path segment after the channel name (`trackID=1`, a publisher's `streamid=0`), if any. */
  control: string | undefined;
  /** `rtsp://host:port/live/NAME` as the client wrote it. */
  aggregateUrl: string;
  query: URLSearchParams;
}

/** 'other' when the URI is not under `live/`; undefined when it is but names no valid channel. */
export function parseLiveTarget(uri: string): LiveTarget | undefined | 'other' {
  const t = parseRequestTarget(uri);
  if (!t) return 'other';
  const segments = t.mediaPath.split('/');
  if (segments[0] !== 'live') return 'other';
  const name = segments[1];
  if (name === undefined || !CHANNEL_NAME.test(name) || segments.length > 3) return undefined;
  const control = segments[2] ?? t.control;
  const base = t.aggregateUrl.slice(0, t.aggregateUrl.length - t.mediaPath.length);
  return { name, control, aggregateUrl: `${base}live/${name}`, query: new URLSearchParams(t.query.replace(/^\?/, '')) };
}
