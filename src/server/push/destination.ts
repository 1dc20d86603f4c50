import { pushFail } from './errors.ts';
import type { PushResult } from './errors.ts';

/** Where one track goes: RTP to `rtp`, RTCP to `rtcp` (RTP + 1 unless the user said otherwise). */
export interface TrackPorts {
  rtp: number;
  rtcp: number;
}

/** The receivers' side of a push: one IPv4 address (unicast or multicast) and ports per track. */
export interface PushDestination {
  address: string;
  multicast: boolean;
  /** Multicast TTL (RFC 4566 §5.7 puts it in c=); ignored for unicast. */
  ttl: number;
  /** Local IPv4 address of the outgoing interface; undefined lets the OS choose. */
  interfaceAddress: string | undefined;
  ports: TrackPorts[];
}

/** Lowest port we send to: the well-known range is left alone. */
export const MIN_PUSH_PORT = 1024;
export const MAX_PUSH_PORT = 65534;
export const DEFAULT_MULTICAST_TTL = 1;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Dotted-quad IPv4 octets, or undefined (leading zeros refused: `010` is octal to some parsers). */
export function parseIpv4(s: string): number[] | undefined {
  const m = IPV4.exec(s);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  if (m.slice(1).some((o) => o.length > 1 && o.startsWith('0'))) return undefined;
  return octets.every((o) => o <= 255) ? octets : undefined;
}

/** IPv4 multicast: 224.0.0.0/4 (RFC 5771). */
export function isIpv4Multicast(octets: readonly number[]): boolean {
  return octets[0]! >= 224 && octets[0]! <= 239;
}

function checkRtpPort(port: number, what: string): PushResult<number> {
  if (!Number.isInteger(port) || port < MIN_PUSH_PORT || port > MAX_PUSH_PORT) {
    return pushFail('PUSH_ERR_PORT', `${what} ${port} is outside ${MIN_PUSH_PORT}-${MAX_PUSH_PORT}`);
  }
  if (port % 2 !== 0)
    return pushFail('PUSH_ERR_PORT', `${what} ${port} is odd: RTP goes to an even port, RTCP to the next one (RFC 3550 §11)`);
  return { ok: true, value: port };
}

/** `rtp://ADDR:PORT` (a trailing `/` is allowed; user info, paths and queries are not). */
export function parsePushUrl(url: string): PushResult<{ address: string; port: number; multicast: boolean }> {
  const bad = pushFail('PUSH_ERR_URL', `destination ${JSON.stringify(url)} is not rtp://ADDR:PORT`);
  const m = /^rtp:\/\/(.*?)\/?$/i.exec(url.trim());
  if (!m || /[/?#@\s]/.test(m[1]!)) return bad;
  const hostPort = m[1]!;
  if (hostPort.startsWith('[') || (hostPort.match(/:/g) ?? []).length > 1) {
    return pushFail('PUSH_ERR_NOT_IPV4', `destination ${url}: IPv6 is not supported, use an IPv4 address`);
  }
  const colon = hostPort.lastIndexOf(':');
  if (colon < 0 || colon === hostPort.length - 1) return pushFail('PUSH_ERR_URL', `destination ${url} has no port (rtp://ADDR:PORT)`);
  const host = hostPort.slice(0, colon);
  const portText = hostPort.slice(colon + 1);
  const octets = parseIpv4(host);
  if (!octets)
    return pushFail(
      'PUSH_ERR_NOT_IPV4',
      `destination address ${JSON.stringify(host)} is not an IPv4 address (host names and IPv6 are not supported)`,
    );
  if (octets[0] === 0 || octets.every((o) => o === 255)) return pushFail('PUSH_ERR_NOT_IPV4', `cannot send to ${host}`);
  if (!/^\d+$/.test(portText)) return pushFail('PUSH_ERR_PORT', `destination port ${JSON.stringify(portText)} is not a number`);
  const port = checkRtpPort(Number(portText), 'destination port');
  if (!port.ok) return port;
  return { ok: true, value: { address: host, port: port.value, multicast: isIpv4Multicast(octets) } };
}

/**
 * Ports per track. Default: track i gets RTP on PORT + 2i and RTCP on the port after (RFC 3551
 * convention, what players assume when the SDP has no a=rtcp). `explicit` overrides it as a comma
 * list with one entry per track, each `RTP` or `RTP:RTCP`.
 */
export function trackPorts(basePort: number, trackCount: number, explicit?: string): PushResult<TrackPorts[]> {
  const out: TrackPorts[] = [];
  if (explicit === undefined) {
    for (let i = 0; i < trackCount; i++) {
      const rtp = basePort + 2 * i;
      if (rtp + 1 > MAX_PUSH_PORT + 1)
        return pushFail('PUSH_ERR_PORT', `${trackCount} tracks from port ${basePort} run past ${MAX_PUSH_PORT + 1}`);
      out.push({ rtp, rtcp: rtp + 1 });
    }
    return { ok: true, value: out };
  }
  const items = explicit.split(',').map((s) => s.trim());
  if (items.length !== trackCount)
    return pushFail('PUSH_ERR_PORT', `--ports lists ${items.length} track(s), the file streams ${trackCount}`);
  for (const item of items) {
    const m = /^(\d+)(?::(\d+))?$/.exec(item);
    if (!m) return pushFail('PUSH_ERR_PORT', `--ports entry ${JSON.stringify(item)} is not RTP or RTP:RTCP`);
    const rtp = checkRtpPort(Number(m[1]), 'RTP port');
    if (!rtp.ok) return rtp;
    const rtcp = m[2] === undefined ? rtp.value + 1 : Number(m[2]);
    if (rtcp < MIN_PUSH_PORT || rtcp > MAX_PUSH_PORT + 1)
      return pushFail('PUSH_ERR_PORT', `RTCP port ${rtcp} is outside ${MIN_PUSH_PORT}-${MAX_PUSH_PORT + 1}`);
    out.push({ rtp: rtp.value, rtcp });
  }
  const used = out.flatMap((p) => [p.rtp, p.rtcp]);
  if (new Set(used).size !== used.length) return pushFail('PUSH_ERR_PORT', `--ports uses a port twice: ${explicit}`);
  return { ok: true, value: out };
}

export interface DestinationRequest {
  url: string;
  trackCount: number;
  ttl?: number;
  interfaceAddress?: string;
  ports?: string;
}

/** Everything the user said about where to send, checked. */
export function resolveDestination(r: DestinationRequest): PushResult<PushDestination> {
  const u = parsePushUrl(r.url);
  if (!u.ok) return u;
  const ttl = r.ttl ?? DEFAULT_MULTICAST_TTL;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 255) return pushFail('PUSH_ERR_TTL', `--ttl ${ttl} is outside 0-255`);
  if (r.interfaceAddress !== undefined && !parseIpv4(r.interfaceAddress)) {
    return pushFail('PUSH_ERR_INTERFACE', `--interface ${JSON.stringify(r.interfaceAddress)} is not an IPv4 address`);
  }
  const ports = trackPorts(u.value.port, r.trackCount, r.ports);
  if (!ports.ok) return ports;
  return {
    ok: true,
    value: { address: u.value.address, multicast: u.value.multicast, ttl, interfaceAddress: r.interfaceAddress, ports: ports.value },
  };
}
