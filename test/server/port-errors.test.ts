/**
 * The RTSP status for a failed port-pair bind: a full range is 453, running out of file descriptors
 * (EMFILE/ENFILE, seen as a misleading "no free port pair" 500) is 503 with Retry-After, any other
 * bind error 503; errors that are not PortPairError pass unchanged. EMFILE itself is not provoked
 * here (it would starve the shared test process of descriptors): udp-pair.ts types it.
 */
import { describe, expect, it } from 'vitest';
import { type RtspError } from '../../src/server/errors.ts';
import { portPairRtspError } from '../../src/server/port-errors.ts';
import { PortPairError } from '../../src/transport/udp-pair.ts';

describe('portPairRtspError', () => {
  it('maps each reason to a named status, never 500', () => {
    const full = portPairRtspError(new PortPairError('range-full', 'full'), '127.0.0.1') as RtspError;
    expect(full.status).toBe(453);
    for (const errno of ['EMFILE', 'ENFILE']) {
      const fd = portPairRtspError(new PortPairError('descriptors', errno, errno), '127.0.0.1') as RtspError;
      expect(fd.status).toBe(503);
      expect(fd.code).toBe('SRV_ERR_OUT_OF_DESCRIPTORS');
      expect(fd.headers['Retry-After']).toBe('5');
    }
    const other = portPairRtspError(new PortPairError('bind', 'x', 'EADDRNOTAVAIL'), '127.0.0.1') as RtspError;
    expect(other.status).toBe(503);
  });

  it('leaves other errors alone', () => {
    const e = new Error('boom');
    expect(portPairRtspError(e, '127.0.0.1')).toBe(e);
  });
});
