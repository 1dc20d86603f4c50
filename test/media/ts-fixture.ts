/**
 * Transport-stream packets built byte by byte for the ts-file tests: a PAT/PMT pair (MPEG-2 video
 * on VIDEO with the PCR, AC-3 on AUDIO) and packets with an optional adaptation field (RAI, PCR).
 */
import { TS_PACKET_SIZE } from '../../src/media/ts-file/index.ts';

export const PMT_PID = 0x1000;
export const VIDEO = 0x100;
export const AUDIO = 0x101;
export const PCR_HZ = 27_000_000;

/** One 188-byte TS packet: header, optional adaptation field (RAI, PCR), payload stuffed with 0xff. */
export function packet(o: { pid: number; pusi?: boolean; rai?: boolean; pcr?: number; payload?: Buffer }): Buffer {
  const p = Buffer.alloc(TS_PACKET_SIZE, 0xff);
  p[0] = 0x47;
  p[1] = (o.pusi ? 0x40 : 0) | ((o.pid >> 8) & 0x1f); // TEI=0, PUSI, priority=0, PID high bits
  p[2] = o.pid & 0xff;
  const af = o.rai || o.pcr !== undefined;
  p[3] = (af ? 0x30 : 0x10) | 0; // scrambling 00, adaptation field + payload, CC 0
  let at = 4;
  if (af) {
    const len = o.pcr !== undefined ? 7 : 1;
    p[4] = len;
    p[5] = (o.rai ? 0x40 : 0) | (o.pcr !== undefined ? 0x10 : 0); // RAI, PCR flag
    if (o.pcr !== undefined) {
      const base = Math.floor(o.pcr / 300);
      const ext = o.pcr % 300;
      // 33-bit base, 6 reserved bits, 9-bit extension.
      p[6] = Math.floor(base / 2 ** 25) & 0xff;
      p[7] = Math.floor(base / 2 ** 17) & 0xff;
      p[8] = Math.floor(base / 2 ** 9) & 0xff;
      p[9] = Math.floor(base / 2) & 0xff;
      p[10] = ((base & 1) << 7) | 0x7e | ((ext >> 8) & 1);
      p[11] = ext & 0xff;
    }
    at = 5 + len;
  }
  if (o.payload) o.payload.copy(p, at);
  return p;
}

/** PAT: pointer 0; table 0x00, section_length 13, ts id 1, version/current, sections 0/0; program 1 → PMT_PID; CRC (not checked). */
const PAT = Buffer.from([0x00, 0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0 | (PMT_PID >> 8), PMT_PID & 0xff, 0, 0, 0, 0]);
/** PMT: table 0x02, section_length 23, program 1, PCR PID = VIDEO, no program info; MPEG-2 video (0x02) on VIDEO, AC-3 (0x81) on AUDIO. */
const PMT = Buffer.from([
  0x00, 0x02, 0xb0, 0x17, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe0 | (VIDEO >> 8), VIDEO & 0xff, 0xf0, 0x00,
  0x02, 0xe0 | (VIDEO >> 8), VIDEO & 0xff, 0xf0, 0x00,
  0x81, 0xe0 | (AUDIO >> 8), AUDIO & 0xff, 0xf0, 0x00,
  0, 0, 0, 0,
]);
export const pat = () => packet({ pid: 0, pusi: true, payload: PAT });
export const pmt = () => packet({ pid: PMT_PID, pusi: true, payload: PMT });
