/**
 * SDP parser (RFC 4566 §5). Lines may end in CRLF or LF; empty lines are skipped. Lines whose
 * type we do not model (r=, z=, k=, unknown letters, a second t= or c=) are kept in `otherLines`
 * of the session or of the current media section. Attribute values are kept verbatim.
 * Lenient where real servers are sloppy: a missing s= gives '' and a missing t= gives 0 0.
 */

import { sdpError, type SdpResult } from './errors.ts';
import type { MediaDescription, SdpAttribute, SdpBandwidth, SdpConnection, SdpLine, SessionDescription } from './types.ts';
import { at, group } from '../util/narrow.ts';

/** Cap on the number of lines in one description. */
export const MAX_SDP_LINES = 4096;

const LINE_RE = /^([a-zA-Z])=(.*)$/s;

function fields(v: string): string[] {
  return v.split(/[ \t]+/).filter((f) => f !== '');
}

function parseConnection(v: string): SdpConnection | undefined {
  const f = fields(v);
  if (f.length !== 3) return undefined;
  return { netType: at(f, 0), addrType: at(f, 1), address: at(f, 2) };
}

function parseBandwidth(v: string): SdpBandwidth | undefined {
  const m = /^([^:\s]+):[ \t]*(\d{1,15})[ \t]*$/.exec(v);
  return m === null ? undefined : { type: group(m, 1), value: Number(group(m, 2)) };
}

export function parseAttribute(v: string): SdpAttribute {
  const colon = v.indexOf(':');
  return colon === -1 ? { name: v } : { name: v.slice(0, colon), value: v.slice(colon + 1) };
}

function parseMediaLine(v: string): MediaDescription | undefined {
  const f = fields(v);
  if (f.length < 3) return undefined;
  const pm = /^(\d{1,5})(?:\/(\d{1,5}))?$/.exec(at(f, 1));
  const port = pm === null ? undefined : Number(group(pm, 1));
  if (pm === null || port === undefined || port > 65535) return undefined;
  const media: MediaDescription = {
    type: at(f, 0),
    port,
    protocol: at(f, 2),
    formats: f.slice(3),
    attributes: [],
  };
  if (pm[2] !== undefined) media.numPorts = Number(pm[2]);
  return media;
}

export function parseSdp(text: string): SdpResult<SessionDescription> {
  const lines = text.split('\n');
  if (lines.length > MAX_SDP_LINES) {
    return sdpError('SDP_ERR_TOO_LARGE', `more than ${MAX_SDP_LINES} lines`);
  }
  let session: SessionDescription | undefined;
  let hasOrigin = false;
  let hasTiming = false;
  let media: MediaDescription | undefined;

  for (const [k, raw] of lines.entries()) {
    const lineNo = k + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    const m = LINE_RE.exec(line);
    if (m === null) return sdpError('SDP_ERR_BAD_LINE', `not a type=value line: ${JSON.stringify(line.slice(0, 80))}`, lineNo);
    const type = group(m, 1);
    const v = group(m, 2);
    if (session === undefined) {
      if (type !== 'v' || !/^\d{1,9}$/.test(v.trim())) {
        return sdpError('SDP_ERR_BAD_VERSION', 'description does not start with v=<digits>', lineNo);
      }
      session = {
        version: Number(v.trim()),
        origin: { username: '-', sessionId: '0', sessionVersion: '0', netType: 'IN', addrType: 'IP4', address: '0.0.0.0' },
        sessionName: '',
        timing: { start: 0, stop: 0 },
        attributes: [],
        media: [],
      };
      continue;
    }
    const desc = session;
    const other = (): void => {
      const target = media ?? desc;
      (target.otherLines ??= []).push({ type, value: v } satisfies SdpLine);
    };
    switch (type) {
      case 'm': {
        const md = parseMediaLine(v);
        if (md === undefined) return sdpError('SDP_ERR_BAD_MEDIA', `bad media line ${JSON.stringify(v.slice(0, 80))}`, lineNo);
        session.media.push(md);
        media = md;
        break;
      }
      case 'a':
        (media ?? session).attributes.push(parseAttribute(v));
        break;
      case 'c': {
        const target = media ?? session;
        if (target.connection !== undefined) {
          other();
          break;
        }
        const c = parseConnection(v);
        if (c === undefined) return sdpError('SDP_ERR_BAD_CONNECTION', `bad connection ${JSON.stringify(v)}`, lineNo);
        target.connection = c;
        break;
      }
      case 'b': {
        const b = parseBandwidth(v);
        if (b === undefined) return sdpError('SDP_ERR_BAD_BANDWIDTH', `bad bandwidth ${JSON.stringify(v)}`, lineNo);
        ((media ?? session).bandwidth ??= []).push(b);
        break;
      }
      case 'i':
        if ((media ?? session).info === undefined) (media ?? session).info = v;
        else other();
        break;
      case 'o': {
        if (media !== undefined || hasOrigin) {
          other();
          break;
        }
        const f = fields(v);
        if (f.length !== 6) return sdpError('SDP_ERR_BAD_ORIGIN', `bad origin ${JSON.stringify(v)}`, lineNo);
        session.origin = {
          username: at(f, 0),
          sessionId: at(f, 1),
          sessionVersion: at(f, 2),
          netType: at(f, 3),
          addrType: at(f, 4),
          address: at(f, 5),
        };
        hasOrigin = true;
        break;
      }
      case 's':
        if (media !== undefined) other();
        else session.sessionName = v;
        break;
      case 'u':
        if (media !== undefined || session.uri !== undefined) other();
        else session.uri = v;
        break;
      case 'e':
        if (media !== undefined) other();
        else (session.emails ??= []).push(v);
        break;
      case 'p':
        if (media !== undefined) other();
        else (session.phones ??= []).push(v);
        break;
      case 't': {
        if (media !== undefined || hasTiming) {
          other();
          break;
        }
        const t = /^[ \t]*(\d{1,15})[ \t]+(\d{1,15})[ \t]*$/.exec(v);
        if (t === null) return sdpError('SDP_ERR_BAD_TIMING', `bad timing ${JSON.stringify(v)}`, lineNo);
        session.timing = { start: Number(group(t, 1)), stop: Number(group(t, 2)) };
        hasTiming = true;
        break;
      }
      default:
        other();
    }
  }
  if (session === undefined) return sdpError('SDP_ERR_BAD_VERSION', 'empty description');
  if (!hasOrigin) return sdpError('SDP_ERR_BAD_ORIGIN', 'no o= line');
  return { ok: true, value: session };
}
