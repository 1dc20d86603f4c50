import { at } from '../../util/narrow.ts';
/**
 * CRC-32/MPEG-2 of PSI sections (ISO/IEC 13818-1 Annex A): polynomial 0x04C11DB7, initial value
 * 0xFFFFFFFF, bits fed MSB first (no reflection), no final XOR. A section followed by its CRC
 * gives 0 when checked. Check value: crc32Mpeg2("123456789") = 0x0376E6E7.
 */

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32Mpeg2(data: Uint8Array, start = 0, end = data.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ at(TABLE, ((crc >>> 24) ^ at(data, i)) & 0xff)) >>> 0;
  return crc >>> 0;
}
