/**
 * Issue 14: datagrams the kernel drops before a program reads them (a full receive buffer) are
 * invisible to the program; /proc/net/udp counts them. Byte-exact parsing of the Linux format,
 * and a real overflow: a socket with a small buffer, flooded by another process while this one
 * is blocked.
 */
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProcNetUdp, udpKernelDrops } from '../../src/transport/index.ts';

const SAMPLE = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 0100007F:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 12345 2 0000000000000000 159
  124: 00000000:1F91 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 12346 2 0000000000000000 0
  125: 0100007F:1F90 0100007F:2000 01 00000000:00000000 00:00000000 00000000     0        0 12347 2 0000000000000000 1
`;

describe('kernel UDP drops', () => {
  it('reads the drops column per local port, summed over sockets on the port', () => {
    expect([...parseProcNetUdp(SAMPLE)]).toEqual([
      [0x1f90, 160],
      [0x1f91, 0],
    ]);
    expect(parseProcNetUdp('header only\n').size).toBe(0);
  });

  it.runIf(existsSync('/proc/net/udp'))('counts what a flooded socket with a small buffer lost while its reader was blocked', async () => {
    const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4096 });
    let got = 0;
    sock.on('message', () => got++);
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    const port = sock.address().port;
    expect(await udpKernelDrops([port])).toBe(0);
    // spawnSync blocks this process's event loop while the other one floods the socket: nothing
    // reads it, the small buffer overflows.
    const sender = spawnSync(process.execPath, [
      '-e',
      `const s = require('node:dgram').createSocket('udp4'); let n = 0; const b = Buffer.alloc(1000);
       (function go() { for (let i = 0; i < 100 && n < 2000; i++, n++) s.send(b, ${port}, '127.0.0.1'); if (n < 2000) setImmediate(go); else setTimeout(() => s.close(), 50); })();`,
    ]);
    expect(sender.status).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    const drops = await udpKernelDrops([port]);
    sock.close();
    expect(drops).toBeGreaterThan(0);
    expect(got + drops!).toBeLessThanOrEqual(2000);
  });
});
