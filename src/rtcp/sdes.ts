/**
 * SDES: Source Description RTCP packet (PT=202).
 *
 * ```
 *         0                   1                   2                   3
 *         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * header |V=2|P|    SC   |  PT=SDES=202  |             length            |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * chunk  |                          SSRC/CSRC_1                          |
 *   1    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                           SDES items                          |
 *        |                              ...                              |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * chunk  |                          SSRC/CSRC_2                          |
 *   2    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                           SDES items                          |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *
 * item:  |     type      |     length    | value (length octets) ...
 * ```
 * Each chunk's item list ends with a null octet (type 0, no length), followed by more null
 * octets up to the next 32-bit boundary; a chunk whose items end on a boundary still gets four
 * nulls. Items are kept as type + raw value bytes, so PRIV (8) and unknown types survive a round
 * trip; text items are UTF-8.
 *
 * @see RFC 3550 §6.5
 */

import { rtcpError, type RtcpParseResult } from './errors.ts';
import { RTCP_HEADER_BYTES, RTCP_MAX_COUNT, RTCP_PT_SDES, writeRtcpHeader } from './header.ts';

export const SDES_END = 0;
export const SDES_CNAME = 1;
export const SDES_NAME = 2;
export const SDES_EMAIL = 3;
export const SDES_PHONE = 4;
export const SDES_LOC = 5;
export const SDES_TOOL = 6;
export const SDES_NOTE = 7;
export const SDES_PRIV = 8;
export const SDES_MAX_ITEM_BYTES = 255;

export interface SdesItem {
  /** Item type 1..255 (0 is the list terminator and never appears here). */
  type: number;
  /** Raw value (a view when parsed), at most 255 bytes. */
  value: Buffer;
}

export interface SdesChunk {
  /** SSRC or CSRC the items describe. */
  ssrc: number;
  items: SdesItem[];
}

export interface RtcpSourceDescription {
  type: 'sdes';
  /** 0..31 chunks. */
  chunks: SdesChunk[];
}

/** Decodes an SDES body (bytes after the common header, padding removed). Extra bytes after the last chunk are ignored. */
export function decodeSourceDescription(body: Buffer, count: number, offset: number): RtcpParseResult<RtcpSourceDescription> {
  const chunks: SdesChunk[] = [];
  let o = 0;
  for (let c = 0; c < count; c++) {
    if (o + 4 > body.length) {
      return rtcpError('RTCP_ERR_SHORT_BODY', `SDES chunk ${c} of ${count} missing`, offset, RTCP_PT_SDES);
    }
    const chunkStart = o;
    const ssrc = body.readUInt32BE(o);
    o += 4;
    const items: SdesItem[] = [];
    for (;;) {
      if (o >= body.length) {
        return rtcpError(
          'RTCP_ERR_SDES_NO_TERMINATOR',
          `SDES chunk ${c} has no null terminator`,
          offset + RTCP_HEADER_BYTES + chunkStart,
          RTCP_PT_SDES,
        );
      }
      const type = body.readUInt8(o);
      if (type === SDES_END) {
        o += 1;
        // Skip the padding nulls to the next 32-bit boundary (chunks start on boundaries).
        o = chunkStart + Math.ceil((o - chunkStart) / 4) * 4;
        break;
      }
      if (o + 2 > body.length || o + 2 + body.readUInt8(o + 1) > body.length) {
        return rtcpError(
          'RTCP_ERR_SDES_ITEM_OVERFLOW',
          `SDES item type ${type} runs past the packet`,
          offset + RTCP_HEADER_BYTES + o,
          RTCP_PT_SDES,
        );
      }
      const n = body.readUInt8(o + 1);
      items.push({ type, value: body.subarray(o + 2, o + 2 + n) });
      o += 2 + n;
    }
    if (o > body.length) {
      // Terminator found but the boundary padding is cut short: the length field lied.
      return rtcpError(
        'RTCP_ERR_SDES_NO_TERMINATOR',
        `SDES chunk ${c} padding runs past the packet`,
        offset + RTCP_HEADER_BYTES + chunkStart,
        RTCP_PT_SDES,
      );
    }
    chunks.push({ ssrc, items });
  }
  return { ok: true, value: { type: 'sdes', chunks } };
}

/** Bytes taken by one chunk: SSRC + items + terminator, padded to a multiple of 4. */
export function sdesChunkByteLength(chunk: SdesChunk): number {
  let n = 0;
  for (const it of chunk.items) n += 2 + it.value.length;
  return 4 + Math.ceil((n + 1) / 4) * 4;
}

/** Packet size in bytes. Must match serializeSourceDescriptionInto. */
export function sourceDescriptionByteLength(p: RtcpSourceDescription): number {
  let n = RTCP_HEADER_BYTES;
  for (const c of p.chunks) n += sdesChunkByteLength(c);
  return n;
}

/** Writes the packet at `offset`; returns bytes written. Throws RangeError on bad fields. */
export function serializeSourceDescriptionInto(p: RtcpSourceDescription, buf: Buffer, offset: number): number {
  if (p.chunks.length > RTCP_MAX_COUNT) throw new RangeError(`SDES with ${p.chunks.length} chunks (max 31)`);
  for (const c of p.chunks) {
    for (const it of c.items) {
      if (!Number.isInteger(it.type) || it.type < 1 || it.type > 255) throw new RangeError(`SDES item type out of range: ${it.type}`);
      if (it.value.length > SDES_MAX_ITEM_BYTES) throw new RangeError(`SDES item longer than 255 bytes: ${it.value.length}`);
    }
  }
  const size = sourceDescriptionByteLength(p);
  writeRtcpHeader(buf, offset, p.chunks.length, RTCP_PT_SDES, size);
  let o = offset + RTCP_HEADER_BYTES;
  for (const c of p.chunks) {
    const end = o + sdesChunkByteLength(c);
    buf.writeUInt32BE(c.ssrc >>> 0, o);
    o += 4;
    for (const it of c.items) {
      buf[o] = it.type;
      buf[o + 1] = it.value.length;
      it.value.copy(buf, o + 2);
      o += 2 + it.value.length;
    }
    buf.fill(0, o, end); // terminator + padding nulls
    o = end;
  }
  return o - offset;
}

/** An SDES packet with one chunk holding one CNAME item (the minimum of every compound packet). */
export function makeSdesCname(ssrc: number, cname: string): RtcpSourceDescription {
  return { type: 'sdes', chunks: [{ ssrc, items: [{ type: SDES_CNAME, value: Buffer.from(cname, 'utf8') }] }] };
}

/** A text item (UTF-8). */
export function sdesTextItem(type: number, text: string): SdesItem {
  return { type, value: Buffer.from(text, 'utf8') };
}

/** The CNAME of `ssrc` in an SDES packet (the first chunk's if ssrc is omitted), as UTF-8 text. */
export function findSdesCname(p: RtcpSourceDescription, ssrc?: number): string | undefined {
  for (const c of p.chunks) {
    if (ssrc !== undefined && c.ssrc !== ssrc >>> 0) continue;
    const item = c.items.find((i) => i.type === SDES_CNAME);
    if (item) return item.value.toString('utf8');
  }
  return undefined;
}
