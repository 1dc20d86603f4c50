/**
 * Request failures carry the RTSP status they map to; the connection turns any RtspError into a
 * response in one place. Codes are stable (tests check codes, not text).
 */
export class RtspError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'RtspError';
  }
}

export const badRequest = (code: string, msg: string) => new RtspError(400, code, msg);
export const notFound = (msg = 'not found') => new RtspError(404, 'SRV_ERR_NOT_FOUND', msg);
export const sessionNotFound = () => new RtspError(454, 'SRV_ERR_SESSION_NOT_FOUND', 'session not found');
