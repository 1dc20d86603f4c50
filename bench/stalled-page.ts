/**
 * A dashboard page that stops reading: it opens the operator's feed (/ws) by hand, checks the
 * 101 answer, then never reads again, so the kernel's buffers fill and then the feed's own
 * backlog. Shared by the feed timing test and `npm run bench:dashboard`.
 */
import net from 'node:net';

export function stalledPage(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () =>
      s.write(
        'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      ),
    );
    s.once('data', (d: Buffer) => {
      s.pause();
      if (!d.toString('latin1').startsWith('HTTP/1.1 101')) reject(new Error(d.toString('latin1')));
      else resolve(s);
    });
    s.once('error', reject);
  });
}
