/**
 * Program Specific Information (ISO/IEC 13818-1 §2.4.4): the program association section (PAT,
 * table_id 0) and the TS program map section (PMT, table_id 2), each sent in one TS packet behind
 * a pointer_field of 0 and padded with 0xFF.
 *
 *   PAT: table_id (8) | section_syntax_indicator '1' | '0' | reserved '11' | section_length (12)
 *        | transport_stream_id (16) | reserved '11' | version_number (5) | current_next '1'
 *        | section_number (8) | last_section_number (8)
 *        | { program_number (16) | reserved '111' | program_map_PID (13) } ... | CRC_32
 *   PMT: table_id 2 | ... section_length | program_number (16) | reserved | version | current_next
 *        | section_number | last_section_number | reserved '111' | PCR_PID (13)
 *        | reserved '1111' | program_info_length (12) = 0
 *        | { stream_type (8) | reserved '111' | elementary_PID (13) | reserved '1111'
 *            | ES_info_length (12) | descriptors } ... | CRC_32
 */
import { crc32Mpeg2 } from './crc32-mpeg2.ts';
import { TS_PACKET_SIZE, TS_SYNC_BYTE } from './constants.ts';

export interface PmtStream {
  streamType: number;
  pid: number;
  /** ES_info descriptors, already serialized (tag, length, body). */
  descriptors?: Uint8Array;
}

export interface PmtInfo {
  programNumber: number;
  version: number;
  pcrPid: number;
  streams: readonly PmtStream[];
}

/** Fills in section_length (from the section's total size) and appends the CRC_32. */
function finishSection(body: number[]): Buffer {
  const total = body.length + 4;
  const sectionLength = total - 3;
  body[1] = 0xb0 | (sectionLength >> 8); // syntax '1', '0', reserved '11'
  body[2] = sectionLength & 0xff;
  const out = Buffer.alloc(total);
  out.set(body, 0);
  out.writeUInt32BE(crc32Mpeg2(out, 0, body.length), body.length);
  return out;
}

function versionByte(version: number): number {
  return 0xc0 | ((version & 0x1f) << 1) | 1; // reserved '11' | version | current_next_indicator 1
}

/** A PAT section for one program (with its CRC). */
export function buildPatSection(transportStreamId: number, programNumber: number, pmtPid: number, version = 0): Buffer {
  return finishSection([
    0x00, 0, 0, // table_id, section_length filled in
    transportStreamId >> 8, transportStreamId & 0xff,
    versionByte(version), 0x00, 0x00, // section_number, last_section_number
    programNumber >> 8, programNumber & 0xff,
    0xe0 | (pmtPid >> 8), pmtPid & 0xff,
  ]);
}

/** A PMT section (with its CRC). */
export function buildPmtSection(pmt: PmtInfo): Buffer {
  const b: number[] = [
    0x02, 0, 0,
    pmt.programNumber >> 8, pmt.programNumber & 0xff,
    versionByte(pmt.version), 0x00, 0x00,
    0xe0 | (pmt.pcrPid >> 8), pmt.pcrPid & 0xff,
    0xf0, 0x00, // program_info_length 0
  ];
  for (const s of pmt.streams) {
    const d = s.descriptors ?? new Uint8Array(0);
    b.push(s.streamType, 0xe0 | (s.pid >> 8), s.pid & 0xff, 0xf0 | (d.length >> 8), d.length & 0xff, ...d);
  }
  return finishSection(b);
}

/**
 * One TS packet carrying a whole section: header (payload_unit_start 1, adaptation_field_control
 * '01') | pointer_field 0 | section | 0xFF stuffing.
 */
export function psiPacket(pid: number, cc: number, section: Uint8Array): Buffer {
  if (section.length > TS_PACKET_SIZE - 5) throw new RangeError(`section of ${section.length} bytes does not fit one packet`);
  const p = Buffer.alloc(TS_PACKET_SIZE, 0xff);
  p[0] = TS_SYNC_BYTE;
  p[1] = 0x40 | (pid >> 8);
  p[2] = pid & 0xff;
  p[3] = 0x10 | (cc & 0x0f);
  p[4] = 0; // pointer_field
  p.set(section, 5);
  return p;
}
