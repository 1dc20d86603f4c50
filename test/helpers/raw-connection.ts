/**
 * A raw RTSP control connection for tests that send exact bytes (malformed, split, pipelined) and
 * read back parsed responses in order.
 */
import net from 'node:net';
import { RtspParser } from '../../src/rtsp/index.ts';
import type { RtspResponse } from '../../src/rtsp/index.ts';

export class RawConnection {
  readonly responses: RtspResponse[] = [];
  readonly interleaved: { channel: number; data: Buffer }[] = [];
  closed = false;
  private readonly parser = new RtspParser({ role: 'client' });
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      for (const ev of this.parser.push(chunk)) {
        if (ev.type === 'response') this.responses.push(ev.response);
        // A response without CSeq (the answer to a request that had none) is reported with an error.
        else if (ev.type === 'error' && ev.response) this.responses.push(ev.response);
        else if (ev.type === 'interleaved') this.interleaved.push({ channel: ev.channel, data: Buffer.from(ev.data) });
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawConnection(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits until `n` responses in total have arrived (or the connection closed, or timeout). */
  async waitResponses(n: number, timeoutMs = 5000): Promise<RtspResponse[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.responses.length < n && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} responses (have ${this.responses.length})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.responses.slice(0, n);
  }

  /** Sends one request and resolves with its response. */
  async request(method: string, uri: string, headers: Record<string, string> = {}, body = ''): Promise<RtspResponse> {
    const n = this.responses.length + 1;
    const lines = [`${method} ${uri} RTSP/1.0`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    this.write(lines.join('\r\n') + '\r\n\r\n' + body);
    const all = await this.waitResponses(n);
    const res = all[n - 1];
    if (!res) throw new Error(`connection closed before the response to ${method}`);
    return res;
  }

  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}
