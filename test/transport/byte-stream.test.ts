import { describe, expect, it } from 'vitest';
import { duplexPair } from '../../src/transport/index.ts';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('duplexPair (the in-process RTSP connection of lab --fast)', () => {
  it('carries bytes both ways, in order', async () => {
    const [a, b] = duplexPair();
    const atB: Buffer[] = [];
    const atA: Buffer[] = [];
    b.on('data', (c: Buffer) => atB.push(c));
    a.on('data', (c: Buffer) => atA.push(c));
    a.write(Buffer.from('OPTIONS * RTSP/1.0\r\n'));
    a.write(Buffer.from('CSeq: 1\r\n\r\n'));
    b.write(Buffer.from('RTSP/1.0 200 OK\r\n'));
    await turn();
    expect(Buffer.concat(atB).toString()).toBe('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n');
    expect(Buffer.concat(atA).toString()).toBe('RTSP/1.0 200 OK\r\n');
  });

  it('end() on one side closes both, like a TCP socket without half-open', async () => {
    const [a, b] = duplexPair();
    const closed: string[] = [];
    a.on('close', () => closed.push('a'));
    b.on('close', () => closed.push('b'));
    b.resume();
    a.resume();
    a.end();
    for (let i = 0; i < 5; i++) await turn();
    expect(closed.sort()).toEqual(['a', 'b']);
  });

  it('destroy() on one side closes the other (a reset connection)', async () => {
    const [a, b] = duplexPair();
    const closed: string[] = [];
    b.on('close', () => closed.push('b'));
    a.destroy();
    await turn();
    expect(closed).toEqual(['b']);
    expect(b.destroyed).toBe(true);
  });
});
