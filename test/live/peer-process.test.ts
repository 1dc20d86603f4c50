/**
 * /proc/net/tcp{,6} as the live hub reads it to know whose connection an ANNOUNCE came on
 * (server/live/peer-process.ts): ports in hex, the inode in the tenth column.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseProcNetTcp } from '../../src/server/live/peer-process.ts';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1088 1 000000002f9a8832 100 0 0 10 0
   1: 0100007F:891B 0100007F:2162 01 00000000:00000000 00:00000000 00000000  1000        0 424242 1 0000000032b1d71b 20 4 30 10 -1
   2: 0100007F:E2A6 0100007F:9451 06 00000000:00000000 03:00000BF0 00000000     0        0 0 3 000000008580ac1d
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF00000100007F:2162 0000000000000000FFFF00000100007F:891B 01 00000000:00000000 00:00000000 00000000  1000        0 424243 1 0000000000000000 20 4 30 10 -1
`;

describe('parseProcNetTcp', () => {
  it('reads local and remote ports and the inode; a time-wait socket (inode 0) is left out', () => {
    expect(parseProcNetTcp(TCP)).toEqual([
      { localPort: 0x07e8, remotePort: 0, inode: 1088 },
      // 127.0.0.1:35099 -> 127.0.0.1:8546: a client's end.
      { localPort: 35099, remotePort: 8546, inode: 424242 },
    ]);
    expect(parseProcNetTcp(TCP6)).toEqual([{ localPort: 8546, remotePort: 35099, inode: 424243 }]);
  });

  it('never throws and yields only well-formed entries on any text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        for (const e of parseProcNetTcp(text)) {
          expect(e.localPort).toBeGreaterThanOrEqual(0);
          expect(e.localPort).toBeLessThanOrEqual(0xffff);
          expect(e.remotePort).toBeLessThanOrEqual(0xffff);
          expect(Number.isSafeInteger(e.inode) && e.inode > 0).toBe(true);
        }
      }),
    );
  });
});
