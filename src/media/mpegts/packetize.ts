/**
 * Splits one PES packet (given as a list of byte chunks, copied once into the output) into
 * 188-byte TS packets (ISO/IEC 13818-1 §2.4.3.2-§2.4.3.5):
 *
 *   sync 0x47 | transport_error 0 | payload_unit_start (1 on the first packet) | priority 0
 *   | PID (13) | scrambling '00' | adaptation_field_control ('01' payload, '11' both) | cc (4)
 *   [ adaptation_field_length (8) | discontinuity 0 | random_access_indicator | ES_priority 0
 *     | PCR_flag | OPCR 0 | splicing 0 | private 0 | extension 0 | [PCR (6)] | 0xFF stuffing ]
 *   | payload
 *
 * The first packet carries an adaptation field when it has a PCR or random_access_indicator;
 * the last packet is filled up to 188 bytes with adaptation-field stuffing (one byte of
 * adaptation_field_length 0 when a single byte is missing). The packets returned are views of
 * one contiguous Buffer, in order.
 */
import { TS_PACKET_PAYLOAD_SIZE, TS_PACKET_SIZE, TS_SYNC_BYTE } from './constants.ts';
import { writePcr } from './timestamps.ts';
import { at } from '../../util/narrow.ts';

export interface PesPacketizeOptions {
  pid: number;
  /** Continuity counter of the first packet; the next one to use is returned. */
  cc: number;
  /** PCR base (90 kHz) to put in the first packet's adaptation field. */
  pcr90k?: number;
  /** Set random_access_indicator in the first packet (a keyframe starts here). */
  randomAccess: boolean;
}

/** Number of TS packets `packetizePes` makes for a PES of `pesLength` bytes. */
export function tsPacketCount(pesLength: number, firstAfFields: number): number {
  const firstCap = TS_PACKET_PAYLOAD_SIZE - (firstAfFields > 0 ? 1 + firstAfFields : 0);
  if (pesLength <= firstCap) return 1;
  return 1 + Math.ceil((pesLength - firstCap) / TS_PACKET_PAYLOAD_SIZE);
}

export function packetizePes(chunks: readonly Uint8Array[], opts: PesPacketizeOptions): { packets: Buffer[]; cc: number } {
  let total = 0;
  for (const c of chunks) total += c.length;
  // Bytes of the first packet's adaptation field after its length byte: flags (+ PCR).
  const firstAf = opts.pcr90k !== undefined ? 7 : opts.randomAccess ? 1 : 0;
  const count = tsPacketCount(total, firstAf);
  const out = Buffer.allocUnsafe(count * TS_PACKET_SIZE);
  const packets: Buffer[] = [];
  let cc = opts.cc & 0x0f;
  let chunk = 0;
  let chunkOff = 0;
  let remaining = total;
  for (let i = 0; i < count; i++) {
    const p = out.subarray(i * TS_PACKET_SIZE, (i + 1) * TS_PACKET_SIZE);
    const afFields = i === 0 ? firstAf : 0;
    const cap = TS_PACKET_PAYLOAD_SIZE - (afFields > 0 ? 1 + afFields : 0);
    const payload = Math.min(cap, remaining);
    const afTotal = TS_PACKET_PAYLOAD_SIZE - payload; // bytes of adaptation field incl. its length byte
    p[0] = TS_SYNC_BYTE;
    p[1] = (i === 0 ? 0x40 : 0) | ((opts.pid >> 8) & 0x1f);
    p[2] = opts.pid & 0xff;
    p[3] = (afTotal > 0 ? 0x30 : 0x10) | cc;
    cc = (cc + 1) & 0x0f;
    let off = 4;
    if (afTotal > 0) {
      p[off++] = afTotal - 1; // adaptation_field_length
      if (afTotal > 1) {
        const pcr = i === 0 && opts.pcr90k !== undefined;
        p[off++] = (i === 0 && opts.randomAccess ? 0x40 : 0) | (pcr ? 0x10 : 0);
        if (pcr) {
          writePcr(p, off, opts.pcr90k!);
          off += 6;
        }
        p.fill(0xff, off, 4 + afTotal);
        off = 4 + afTotal;
      }
    }
    // Copy `payload` bytes from the chunks.
    let need = payload;
    while (need > 0) {
      const c = at(chunks, chunk);
      const n = Math.min(need, c.length - chunkOff);
      p.set(c.subarray(chunkOff, chunkOff + n), off);
      off += n;
      need -= n;
      chunkOff += n;
      if (chunkOff === c.length) {
        chunk++;
        chunkOff = 0;
      }
    }
    remaining -= payload;
    packets.push(p);
  }
  return { packets, cc };
}
