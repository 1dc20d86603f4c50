/**
 * A media file the server may not read answers 403 (not 415) and says so. Tests run as root, for
 * whom chmod 000 is still readable, so the open errors are built the way media/mp4/open.ts and
 * media/ts-file/open.ts build them (the errno only in the message) and the way fs throws them.
 */
import { describe, expect, it } from 'vitest';
import { MediaError } from '../../src/media/errors.ts';
import { isAccessDenied, openFailureError } from '../../src/server/open-failure.ts';

const fsError = (code: string) => Object.assign(new Error(`${code}: permission denied, open '/m/a.mp4'`), { code });

describe('openFailureError', () => {
  it('EACCES and EPERM, raw or wrapped in a MediaError, are 403', () => {
    for (const code of ['EACCES', 'EPERM']) {
      expect(openFailureError(fsError(code), 'a.mp4').status).toBe(403);
      const wrapped = new MediaError('MEDIA_ERR_IO', `/m/a.mp4: ${String(fsError(code))}`);
      const res = openFailureError(wrapped, 'a.mp4');
      expect(res.status).toBe(403);
      expect(res.code).toBe('SRV_ERR_FORBIDDEN');
    }
  });

  it('other open failures stay 415', () => {
    expect(openFailureError(new MediaError('MEDIA_ERR_NOT_MP4', 'x'), 'a.mp4').status).toBe(415);
    expect(openFailureError(new MediaError('MEDIA_ERR_IO', '/m/d is not a regular file'), 'd').status).toBe(415);
    expect(isAccessDenied(fsError('EISDIR'))).toBe(false);
  });
});
