/**
 * Transport header (RFC 2326 §12.39).
 *
 *   Transport      = "Transport" ":" 1#transport-spec
 *   transport-spec = transport-protocol/profile[/lower-transport] *parameter
 *   parameter      = ( "unicast" | "multicast" ) | ";" "destination" [ "=" address ]
 *                  | ";" "interleaved" "=" channel [ "-" channel ] | ";" "append"
 *                  | ";" "ttl" "=" ttl | ";" "layers" "=" 1*DIGIT
 *                  | ";" ( "port" | "client_port" | "server_port" ) "=" port [ "-" port ]
 *                  | ";" "ssrc" "=" ssrc | ";" "mode" = <"> 1#mode <">
 *
 * Parsing is lenient on case and whitespace. A single port or channel `n` means the pair n..n+1.
 * Malformed port, channel or protocol values reject that alternative; malformed ssrc/ttl/layers
 * (seen from real cameras) and unknown parameters are kept verbatim in `unknownParams`.
 */

import { rtspError, rtspOk, type RtspResult } from '../errors.ts';
import { parseUint, splitOutsideQuotes, unquote } from './split.ts';
import { group } from '../../util/narrow.ts';

export interface TransportSpec {
  protocol: 'RTP';
  /** 'AVP', 'SAVP', 'AVPF', ... (upper-cased). */
  profile: 'AVP' | string;
  /** 'UDP' when the spec names no lower transport. */
  lowerTransport: 'UDP' | 'TCP';
  delivery?: 'unicast' | 'multicast';
  /** '' when `destination` appears without a value. */
  destination?: string;
  source?: string;
  clientPort?: [number, number];
  serverPort?: [number, number];
  interleaved?: [number, number];
  ttl?: number;
  port?: [number, number];
  ssrc?: number;
  /** Unquoted, e.g. 'PLAY', 'record', 'PLAY,RECORD'. */
  mode?: string;
  layers?: number;
  append?: boolean;
  /** Parameters we do not interpret, verbatim (e.g. 'foo=bar', 'ssrc=xyz'). */
  unknownParams: string[];
}

function parseRange(v: string, max: number): [number, number] | undefined {
  const m = /^(\d+)(?:[ \t]*-[ \t]*(\d+))?$/.exec(v);
  if (m === null) return undefined;
  const a = parseUint(group(m, 1), max, 5);
  if (a === undefined) return undefined;
  const b = m[2] === undefined ? a + 1 : parseUint(m[2], max, 5);
  if (b === undefined || b > max) return undefined;
  return [a, b];
}

/** Parse one transport-spec (no top-level commas). */
export function parseTransportSpec(value: string): RtspResult<TransportSpec> {
  const params = splitOutsideQuotes(value, ';');
  const proto = params[0].split('/');
  const [family, profile, lowerName] = proto;
  if (family === undefined || profile === undefined || proto.length > 3 || proto.some((p) => p === '')) {
    return rtspError('RTSP_ERR_BAD_TRANSPORT', `bad transport protocol ${JSON.stringify(params[0])}`);
  }
  if (family.toUpperCase() !== 'RTP') {
    return rtspError('RTSP_ERR_UNSUPPORTED_TRANSPORT', `unsupported transport ${JSON.stringify(params[0])}`);
  }
  const lower = lowerName === undefined ? 'UDP' : lowerName.toUpperCase();
  if (lower !== 'UDP' && lower !== 'TCP') {
    return rtspError('RTSP_ERR_UNSUPPORTED_TRANSPORT', `unsupported lower transport ${JSON.stringify(lowerName)}`);
  }
  const spec: TransportSpec = {
    protocol: 'RTP',
    profile: profile.toUpperCase(),
    lowerTransport: lower,
    unknownParams: [],
  };
  for (const p of params.slice(1)) {
    if (p === '') continue;
    const eq = p.indexOf('=');
    const name = (eq === -1 ? p : p.slice(0, eq)).trim().toLowerCase();
    const v = eq === -1 ? undefined : unquote(p.slice(eq + 1).trim());
    const bad = (): RtspResult<TransportSpec> => rtspError('RTSP_ERR_BAD_TRANSPORT', `bad transport parameter ${JSON.stringify(p)}`);
    switch (name) {
      case 'unicast':
      case 'multicast':
        spec.delivery = name;
        break;
      case 'append':
        spec.append = true;
        break;
      case 'destination':
        spec.destination = v ?? '';
        break;
      case 'source':
        spec.source = v ?? '';
        break;
      case 'mode':
        if (v === undefined) return bad();
        spec.mode = v;
        break;
      case 'client_port':
      case 'server_port':
      case 'port':
      case 'interleaved': {
        const range = v === undefined ? undefined : parseRange(v, name === 'interleaved' ? 255 : 65535);
        if (range === undefined) return bad();
        if (name === 'client_port') spec.clientPort = range;
        else if (name === 'server_port') spec.serverPort = range;
        else if (name === 'port') spec.port = range;
        else spec.interleaved = range;
        break;
      }
      case 'ssrc': {
        const ok = v !== undefined && /^[0-9A-Fa-f]{1,8}$/.test(v);
        if (ok) spec.ssrc = parseInt(v, 16);
        else spec.unknownParams.push(p);
        break;
      }
      case 'ttl':
      case 'layers': {
        const n = v === undefined ? undefined : parseUint(v, name === 'ttl' ? 255 : 0xffff, 5);
        if (n === undefined) spec.unknownParams.push(p);
        else if (name === 'ttl') spec.ttl = n;
        else spec.layers = n;
        break;
      }
      default:
        spec.unknownParams.push(p);
    }
  }
  return rtspOk(spec);
}

/**
 * Parse a Transport header value: the alternatives the peer accepts, in preference order.
 * Alternatives that fail to parse are skipped; if none parses, the first failure is returned.
 */
export function parseTransport(value: string): RtspResult<TransportSpec[]> {
  const specs: TransportSpec[] = [];
  let firstError: RtspResult<TransportSpec[]> | undefined;
  for (const alt of splitOutsideQuotes(value, ',')) {
    if (alt === '') continue;
    const r = parseTransportSpec(alt);
    if (r.ok) specs.push(r.value);
    else firstError ??= r;
  }
  if (specs.length > 0) return rtspOk(specs);
  return firstError ?? rtspError('RTSP_ERR_BAD_TRANSPORT', 'empty Transport header');
}

function pair(p: [number, number]): string {
  return `${p[0]}-${p[1]}`;
}

/**
 * Format one spec or a list of alternatives. UDP is written as `RTP/AVP` (no lower transport),
 * TCP as `RTP/AVP/TCP`. Parameter order: delivery, destination, source, interleaved, append, ttl,
 * layers, port, client_port, server_port, ssrc (8 upper-case hex digits), mode, unknownParams.
 */
export function formatTransport(spec: TransportSpec | readonly TransportSpec[]): string {
  if (Array.isArray(spec)) return (spec as readonly TransportSpec[]).map(formatOne).join(',');
  return formatOne(spec as TransportSpec);
}

function formatOne(s: TransportSpec): string {
  const parts = [`${s.protocol}/${s.profile}${s.lowerTransport === 'TCP' ? '/TCP' : ''}`];
  if (s.delivery !== undefined) parts.push(s.delivery);
  if (s.destination !== undefined) parts.push(s.destination === '' ? 'destination' : `destination=${s.destination}`);
  if (s.source !== undefined) parts.push(s.source === '' ? 'source' : `source=${s.source}`);
  if (s.interleaved !== undefined) parts.push(`interleaved=${pair(s.interleaved)}`);
  if (s.append) parts.push('append');
  if (s.ttl !== undefined) parts.push(`ttl=${s.ttl}`);
  if (s.layers !== undefined) parts.push(`layers=${s.layers}`);
  if (s.port !== undefined) parts.push(`port=${pair(s.port)}`);
  if (s.clientPort !== undefined) parts.push(`client_port=${pair(s.clientPort)}`);
  if (s.serverPort !== undefined) parts.push(`server_port=${pair(s.serverPort)}`);
  if (s.ssrc !== undefined) parts.push(`ssrc=${(s.ssrc >>> 0).toString(16).toUpperCase().padStart(8, '0')}`);
  if (s.mode !== undefined) parts.push(/^[A-Za-z_]+$/.test(s.mode) ? `mode=${s.mode}` : `mode="${s.mode}"`);
  parts.push(...s.unknownParams);
  return parts.join(';');
}
