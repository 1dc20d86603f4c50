/** MPEG-2 transport stream packets (ISO/IEC 13818-1 §2.4.3.2): 188 bytes, sync byte 0x47 first. */
import { mp2tError, type Mp2tResult } from './errors.ts';

export const MP2T_PACKET_SIZE = 188;
export const MP2T_SYNC_BYTE = 0x47;

/** Checks that `buf` is whole TS packets, each starting with 0x47; value = the packet count. */
export function checkMp2tPackets(buf: Buffer): Mp2tResult<number> {
  if (buf.length % MP2T_PACKET_SIZE !== 0) {
    return mp2tError(
      'CODEC_ERR_MP2T_MISALIGNED',
      `${buf.length} bytes is not a multiple of ${MP2T_PACKET_SIZE}`,
      buf.length - (buf.length % MP2T_PACKET_SIZE),
    );
  }
  for (let off = 0; off < buf.length; off += MP2T_PACKET_SIZE) {
    if (buf[off] !== MP2T_SYNC_BYTE) return mp2tError('CODEC_ERR_MP2T_NO_SYNC', `no sync byte at ${off}`, off);
  }
  return { ok: true, value: buf.length / MP2T_PACKET_SIZE };
}
