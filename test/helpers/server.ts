/**
 * Starts our RTSP server on 127.0.0.1 with a free port for a test, and stops it afterwards.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RtspServer } from '../../src/server/index.ts';
import type { ServerOptions } from '../../src/server/index.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MEDIA_DIR = path.join(REPO_ROOT, 'media');
export const SAMPLE = path.join(MEDIA_DIR, 'sample.mp4');

export async function startServer(options: Partial<ServerOptions> = {}): Promise<{ server: RtspServer; url: (p?: string) => string }> {
  // STREAMLAB_UDP_PORTS=shared|per-session runs every suite with that mode (a test's own option wins).
  const env = process.env.STREAMLAB_UDP_PORTS;
  const udp: Partial<ServerOptions> = env === 'shared' || env === 'per-session' ? { udpPorts: env } : {};
  const server = await RtspServer.listen({ mediaDir: MEDIA_DIR, host: '127.0.0.1', port: 0, ...udp, ...options });
  return { server, url: (p = 'sample.mp4') => `rtsp://127.0.0.1:${server.port}/${p}` };
}
