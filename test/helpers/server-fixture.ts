/**
 * One RTSP server for a whole suite: `serverForSuite(options)` registers a beforeAll that starts
 * our server on 127.0.0.1 with a free port (media/ by default) and an afterAll that closes it, in
 * the describe block it is called in (or the file). It replaces the start/stop block each
 * integration file used to repeat.
 *
 *     const { server, url } = serverForSuite();                  // media/, defaults
 *     const { server, url } = serverForSuite(() => ({ mediaDir: dir }));  // options known later
 *
 * Hooks run in the order they are registered and after-hooks in reverse, so a beforeAll that
 * prepares what the options need (a temp dir, a clip) goes before the call, and its afterAll
 * cleanup then runs after the server is closed.
 *
 * `server` stands for the running server: it forwards to it once the beforeAll has run (inside
 * tests and later hooks) and throws if used earlier; `url(path)` is `rtsp://127.0.0.1:PORT/path`.
 */
import { afterAll, beforeAll } from 'vitest';
import type { RtspServer, ServerOptions } from '../../src/server/index.ts';
import { startServer } from './server.ts';

export interface SuiteServer {
  /** The running server (a stand-in that forwards to it once started). */
  server: RtspServer;
  /** `rtsp://127.0.0.1:PORT/<path>`; default path `sample.mp4`. */
  url: (path?: string) => string;
}

export type SuiteServerOptions = Partial<ServerOptions> | (() => Partial<ServerOptions> | Promise<Partial<ServerOptions>>);

const START_TIMEOUT_MS = 60_000;

export function serverForSuite(options: SuiteServerOptions = {}, startTimeoutMs = START_TIMEOUT_MS): SuiteServer {
  let running: RtspServer | undefined;
  const current = (): RtspServer => {
    if (!running)
      throw new Error('serverForSuite: the server is not running (use it in tests or in hooks registered after serverForSuite)');
    return running;
  };
  beforeAll(async () => {
    const opts = typeof options === 'function' ? await options() : options;
    ({ server: running } = await startServer(opts));
  }, startTimeoutMs);
  afterAll(async () => {
    const s = running;
    running = undefined;
    await s?.close();
  });
  const server = new Proxy({} as RtspServer, {
    get(_, prop) {
      const s = current();
      const value: unknown = Reflect.get(s, prop, s);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(s) : value;
    },
    set(_, prop, value) {
      return Reflect.set(current(), prop, value);
    },
    has(_, prop) {
      return Reflect.has(current(), prop);
    },
  });
  return { server, url: (p = 'sample.mp4') => `rtsp://127.0.0.1:${current().port}/${p}` };
}
