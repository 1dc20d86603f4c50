import { PortPairError } from '../transport/index.ts';
import { createLogger } from '../util/log.ts';
import { RtspError } from './errors.ts';

const log = createLogger('ports');

/** Seconds a client is asked to wait after the server ran out of file descriptors. */
export const DESCRIPTORS_RETRY_AFTER_S = 5;

/**
 * The RTSP status for a failed server port-pair bind, with the true reason logged at warn:
 * every pair taken → 453 Not Enough Bandwidth (RFC 2326 §11.3.13: no resources for the stream),
 * out of file descriptors → 503 with Retry-After, any other bind error → 503 too (never 500).
 * Other errors are returned unchanged.
 */
export function portPairRtspError(err: unknown, host: string): unknown {
  if (!(err instanceof PortPairError)) return err;
  log.warn('SETUP refused: no server port pair', { host, reason: err.reason, errno: err.errno, error: err.message });
  if (err.reason === 'range-full') return new RtspError(453, 'SRV_ERR_PORTS_EXHAUSTED', err.message);
  const code = err.reason === 'descriptors' ? 'SRV_ERR_OUT_OF_DESCRIPTORS' : 'SRV_ERR_PORT_BIND';
  return new RtspError(503, code, err.message, { 'Retry-After': String(DESCRIPTORS_RETRY_AFTER_S) });
}
