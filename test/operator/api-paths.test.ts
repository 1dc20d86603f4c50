/**
 * The API's routing takes request targets from the network: any path and method gets an answer
 * (never an exception), unknown ids and paths 404 with `{error}`, known paths with another method
 * 405 with Allow; request targets that are no path are told apart (400 by the HTTP side).
 * fast-check drives it with generated paths, percent-encodings and methods.
 */
import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handleApi } from '../../src/operator/api.ts';
import type { ApiContext } from '../../src/operator/api.ts';
import { pathnameOf } from '../../src/operator/http-server.ts';

const ctx = {
  server: {
    sessionList: () => [{ id: 'known' }],
    kick: (id: string) => id === 'known',
    snapshot: () => ({ live: [{ name: 'cam' }] }),
    stopLiveChannel: (n: string) => Promise.resolve(n === 'cam'),
    startLiveChannel: () => Promise.resolve(),
    address: '127.0.0.1',
    port: 8554,
    secure: false,
  },
  media: { list: () => Promise.resolve({ files: [], truncated: false }) },
  maxBodyBytes: 1024,
  refused: () => undefined,
  did: () => undefined,
} as unknown as ApiContext;

const req = (method: string) => ({ method, headers: {} }) as IncomingMessage;

describe('API routing', () => {
  it.each([
    ['GET', '/api/sessions', 200],
    ['GET', '/api/sessions/known', 200],
    ['GET', '/api/sessions/unknown', 404],
    ['DELETE', '/api/sessions/known', 200],
    ['DELETE', '/api/sessions/unknown', 404],
    ['GET', '/api/sessions/%E0%A4%A', 404],
    ['PUT', '/api/sessions/known', 405],
    ['GET', '/api/live/cam', 200],
    ['DELETE', '/api/live/cam', 200],
    ['DELETE', '/api/live/%ZZ', 404],
    ['POST', '/api/live', 415],
    ['GET', '/api/media', 200],
    ['POST', '/api/media', 405],
    ['GET', '/api/elsewhere', 404],
  ])('%s %s → %i', async (method, path, status) => {
    const a = await handleApi(req(method), path, ctx);
    expect(a?.status).toBe(status);
    if (status >= 400) expect(a?.body).toEqual(expect.objectContaining({ error: expect.any(String) }));
    if (status === 405) expect(a?.headers?.['Allow']).toMatch(/^[A-Z, ]+$/);
  });

  it('answers any path under /api/ with any method, never throwing', async () => {
    const segment = fc.oneof(
      fc.string(),
      fc.webSegment(),
      fc.constantFrom('%', '%E0%A4%A', '%00', '%2F', '..', 'sessions', 'live', 'media', 'known', 'cam'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { maxLength: 4 }),
        fc.constantFrom('GET', 'DELETE', 'PUT', 'HEAD', 'PATCH', 'X'),
        async (segs, method) => {
          const a = await handleApi(req(method), `/api/${segs.join('/')}`, ctx);
          expect(a).toBeDefined();
          expect([200, 404, 405]).toContain(a!.status);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('request targets: a path, or undefined (400), never an exception', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.webPath()), (t) => {
        const p = pathnameOf(t);
        expect(p === undefined || p.startsWith('/')).toBe(true);
      }),
    );
    expect(pathnameOf('http://[')).toBeUndefined();
    expect(pathnameOf('*')).toBeUndefined();
    expect(pathnameOf('/api/sessions?x=1')).toBe('/api/sessions');
    expect(pathnameOf('/api/sessions#x')).toBe('/api/sessions');
    expect(pathnameOf('http://127.0.0.1:8080/api/live?x')).toBe('/api/live');
  });
});
