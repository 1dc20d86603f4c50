import { formatSession, parseTransport } from '../../rtsp/index.ts';
import type { RtspRequest, RtspResponse, TransportSpec } from '../../rtsp/index.ts';
import { RtspError, badRequest } from '../errors.ts';

/**
 * What every SETUP and PLAY answer shares, whatever the session plays: choosing the client's
 * unicast transport, the destination check, interleaved channel allocation, RTP-Info and the
 * Session header.
 */

/** The client's Transport list of a SETUP: 400 when missing or malformed. */
export function transportsOf(req: RtspRequest): TransportSpec[] {
  const header = req.headers.get('Transport');
  if (!header) throw badRequest('SRV_ERR_NO_TRANSPORT', 'SETUP without Transport');
  const specs = parseTransport(header);
  if (!specs.ok) throw badRequest('SRV_ERR_BAD_TRANSPORT', `malformed Transport: ${specs.code}`);
  return specs.value;
}

/** A Transport `destination` other than the RTSP peer is refused: RTP goes only to the client (403). */
export function checkDestination(spec: TransportSpec, clientIp: string): void {
  if (spec.destination !== undefined && spec.destination !== '' && spec.destination !== clientIp) {
    throw new RtspError(403, 'SRV_ERR_DESTINATION', `destination ${spec.destination} is not the client's address`);
  }
}

/** Whether we can serve `spec` as unicast RTP/AVP (UDP with client_port, or TCP interleaved). */
export function isUnicastRtp(spec: TransportSpec): boolean {
  if (spec.protocol !== 'RTP' || spec.profile !== 'AVP' || spec.delivery === 'multicast') return false;
  return spec.lowerTransport === 'TCP' || spec.clientPort !== undefined;
}

/**
 * The first transport of the client's list we serve: unicast RTP/AVP (UDP with client_port, or TCP
 * interleaved; its destination checked unless `checkDestination` is false), or multicast RTP/AVP
 * where `acceptMulticast` takes it; else 461 naming what is `supported`.
 */
export function chooseTransport(
  specs: TransportSpec[],
  clientIp: string,
  opts: { supported: string; checkDestination?: boolean; acceptMulticast?: ((spec: TransportSpec) => boolean) | undefined },
): TransportSpec {
  for (const s of specs) {
    if (s.protocol !== 'RTP' || s.profile !== 'AVP') continue;
    if (s.delivery === 'multicast') {
      if (opts.acceptMulticast?.(s)) return s;
      continue;
    }
    if (!isUnicastRtp(s)) continue;
    if (opts.checkDestination !== false) checkDestination(s, clientIp);
    return s;
  }
  throw new RtspError(461, 'SRV_ERR_TRANSPORT', `supported: ${opts.supported}`);
}

/** The first unicast transport of the client's list we serve (its destination checked), else 461. */
export function chooseUnicast(
  specs: TransportSpec[],
  clientIp: string,
  supported = 'RTP/AVP unicast with client_port, RTP/AVP/TCP interleaved',
): TransportSpec {
  return chooseTransport(specs, clientIp, { supported });
}

/** The next free even/odd channel pair after the channels `taken` (RFC 2326 §10.12). */
export function nextChannels(taken: Iterable<number>): [number, number] {
  let used = -1;
  for (const c of taken) used = Math.max(used, c);
  const first = used + 1 + ((used + 1) % 2);
  return [first, first + 1];
}

/** `RTP-Info: url=<aggregate>/<control>;seq=N;rtptime=T,...` (RFC 2326 §12.33). */
export function formatRtpInfo(aggregateUrl: string, entries: { control: string; seq: number; rtptime: number }[]): string {
  return entries.map((x) => `url=${aggregateUrl}/${x.control};seq=${x.seq};rtptime=${x.rtptime}`).join(',');
}

/** Sets `Session: id;timeout=N` on a response. */
export function setSessionHeader(res: RtspResponse, id: string, timeoutSec: number): RtspResponse {
  res.headers.set('Session', formatSession({ id, timeout: timeoutSec }));
  return res;
}

/** How a session's tracks travel, for people: 'udp', 'tcp' (interleaved), 'multicast', joined with '+' when they differ. */
export function transportLabel(specs: readonly TransportSpec[]): string {
  const kinds = new Set(specs.map((t) => (t.delivery === 'multicast' ? 'multicast' : t.lowerTransport === 'TCP' ? 'tcp' : 'udp')));
  return kinds.size === 0 ? 'none' : [...kinds].join('+');
}
