/**
 * The first sample entry of `stsd`: codec name, dimensions, audio parameters and the decoder
 * configuration (avcC / hvcC payload, AudioSpecificConfig from esds, dOps payload).
 *
 * @see ISO/IEC 14496-12 §8.5.2 (VisualSampleEntry, AudioSampleEntry), QuickTime File Format
 *      "Sound Sample Description (Version 1/2)", ISO/IEC 14496-1 §7.2.6 (ES_Descriptor),
 *      ISO/IEC 14496-14 (esds), ISO/IEC 14496-15 (avcC, hvcC), "Encapsulation of Opus in ISO BMFF" (dOps).
 */

import { MediaError } from '../errors.ts';
import type { CodecName, TrackKind } from '../types.ts';
import { type Box, Reader, boxReader, childBoxes } from './boxes.ts';

export interface SampleEntryInfo {
  fourcc: string;
  codec: CodecName;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  objectTypeIndication?: number;
  codecConfig?: Buffer;
}

const VIDEO_ENTRY_FIXED = 78; // after the box header: SampleEntry(8) + VisualSampleEntry(70)

const VIDEO_FOURCCS = new Set(['avc1', 'avc3', 'hvc1', 'hev1', 'mp4v', 'av01', 'vp09', 'encv']);
const AUDIO_FOURCCS = new Set(['mp4a', 'Opus', '.mp3', 'ulaw', 'alaw', 'ac-3', 'ec-3', 'fLaC', 'lpcm', 'sowt', 'twos', 'enca']);

/** AAC sampling_frequency_index table. @see ISO/IEC 14496-3 §1.6.3.4 */
const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** Parses stsd and returns its first entry, or undefined when it has none. */
export function parseStsd(stsd: Box, kind: TrackKind): SampleEntryInfo | undefined {
  const r = boxReader(stsd);
  r.fullBox();
  const n = r.count(8);
  if (n === 0) return undefined;
  const entries = childBoxes(r.buf.subarray(r.pos), stsd.at + 8 + r.pos, 1);
  const entry = entries[0];
  if (!entry) return undefined;
  const isVideo = kind === 'video' || (kind === 'other' && VIDEO_FOURCCS.has(entry.type));
  const isAudio = kind === 'audio' || (kind === 'other' && AUDIO_FOURCCS.has(entry.type));
  if (isVideo) return parseVisual(entry);
  if (isAudio) return parseAudio(entry);
  return { fourcc: entry.type, codec: entry.type };
}

function parseVisual(entry: Box): SampleEntryInfo {
  const r = boxReader(entry);
  r.skip(8 + 16); // reserved(6) data_reference_index(2) pre_defined/reserved(16)
  const width = r.u16();
  const height = r.u16();
  r.skip(VIDEO_ENTRY_FIXED - r.pos);
  const info: SampleEntryInfo = { fourcc: entry.type, codec: entry.type, width, height };
  const kids = childBoxes(entry.data.subarray(VIDEO_ENTRY_FIXED), entry.at + 8 + VIDEO_ENTRY_FIXED);
  if (entry.type === 'avc1' || entry.type === 'avc3') {
    info.codec = 'h264';
    info.codecConfig = kids.find((b) => b.type === 'avcC')?.data;
  } else if (entry.type === 'hvc1' || entry.type === 'hev1') {
    info.codec = 'h265';
    info.codecConfig = kids.find((b) => b.type === 'hvcC')?.data;
  }
  return info;
}

function parseAudio(entry: Box): SampleEntryInfo {
  const r = boxReader(entry);
  r.skip(8); // reserved(6) data_reference_index(2)
  const version = r.u16(); // QuickTime sound description version (0 in ISO files)
  r.skip(6); // revision(2) vendor(4)
  let channels = r.u16();
  r.skip(6); // samplesize(2) compression_id(2) packet_size(2)
  let sampleRate = r.u32() / 65536;
  if (version === 1) {
    r.skip(16);
  } else if (version === 2) {
    r.skip(4); // sizeOfStructOnly
    sampleRate = r.f64();
    channels = r.u32();
    r.skip(20);
  }
  const info: SampleEntryInfo = { fourcc: entry.type, codec: entry.type, sampleRate, channels };
  const kids = childBoxes(entry.data.subarray(r.pos), entry.at + 8 + r.pos);
  switch (entry.type) {
    case 'mp4a': {
      // ISO puts esds in the entry; QuickTime (version 1) nests it in a 'wave' box.
      let esds = kids.find((b) => b.type === 'esds');
      const wave = kids.find((b) => b.type === 'wave');
      if (!esds && wave) esds = childBoxes(wave.data, wave.at + 8).find((b) => b.type === 'esds');
      if (esds) applyEsds(esds, info);
      break;
    }
    case 'Opus': {
      info.codec = 'opus';
      const dops = kids.find((b) => b.type === 'dOps');
      if (dops) {
        info.codecConfig = dops.data;
        const d = boxReader(dops);
        d.skip(1); // Version
        info.channels = d.u8(); // OutputChannelCount
      }
      info.sampleRate = 48000; // Opus always decodes at 48 kHz (RFC 7845 §5.1)
      break;
    }
    case '.mp3':
      info.codec = 'mp3';
      break;
    case 'ulaw':
      info.codec = 'pcmu';
      break;
    case 'alaw':
      info.codec = 'pcma';
      break;
  }
  return info;
}

/** Reads an expandable descriptor length (up to 4 bytes of 7 bits). */
function descriptorLength(r: Reader): number {
  let len = 0;
  for (let i = 0; i < 4; i++) {
    const b = r.u8();
    len = (len << 7) | (b & 0x7f);
    if (!(b & 0x80)) return len;
  }
  return len;
}

/** Reads one descriptor header and returns a reader over its body (clamped to what is left). */
function descriptor(r: Reader): { tag: number; body: Reader } {
  const tag = r.u8();
  const len = descriptorLength(r);
  if (len > r.remaining) throw new MediaError('MEDIA_ERR_BAD_BOX', `esds: descriptor 0x${tag.toString(16)} past its box`, r.at);
  return { tag, body: new Reader(r.bytes(len), 'esds', r.at) };
}

/** esds → ES_Descriptor(0x03) → DecoderConfigDescriptor(0x04) → DecoderSpecificInfo(0x05). */
function applyEsds(esds: Box, info: SampleEntryInfo): void {
  const r = boxReader(esds);
  r.fullBox();
  const es = descriptor(r);
  if (es.tag !== 0x03) return;
  const b = es.body;
  b.skip(2); // ES_ID
  const flags = b.u8();
  if (flags & 0x80) b.skip(2); // dependsOn_ES_ID
  if (flags & 0x40) b.skip(b.u8()); // URL
  if (flags & 0x20) b.skip(2); // OCR_ES_Id
  while (b.remaining > 0) {
    const d = descriptor(b);
    if (d.tag !== 0x04) continue;
    const oti = d.body.u8();
    d.body.skip(12); // streamType/upStream/reserved(1) bufferSizeDB(3) maxBitrate(4) avgBitrate(4)
    info.objectTypeIndication = oti;
    if (oti === 0x40 || oti === 0x66 || oti === 0x67 || oti === 0x68) info.codec = 'aac';
    else if (oti === 0x69 || oti === 0x6b) info.codec = 'mp3';
    while (d.body.remaining > 0) {
      const dsi = descriptor(d.body);
      if (dsi.tag === 0x05) {
        info.codecConfig = dsi.body.buf;
        if (info.codec === 'aac') applyAudioSpecificConfig(dsi.body.buf, info);
        break;
      }
    }
    return;
  }
}

/** Takes sample rate and channel count from an AudioSpecificConfig when it states them. */
function applyAudioSpecificConfig(asc: Buffer, info: SampleEntryInfo): void {
  let bitPos = 0;
  const bits = (n: number): number | undefined => {
    let v = 0;
    for (let i = 0; i < n; i++, bitPos++) {
      const byte = asc[bitPos >> 3];
      if (byte === undefined) return undefined;
      v = v * 2 + ((byte >> (7 - (bitPos & 7))) & 1);
    }
    return v;
  };
  const rate = (): number | undefined => {
    const idx = bits(4);
    if (idx === undefined) return undefined;
    return idx === 15 ? bits(24) : AAC_RATES[idx];
  };
  let aot = bits(5);
  if (aot === 31) aot = 32 + (bits(6) ?? 0);
  let sampleRate = rate();
  const channelConfig = bits(4);
  if (aot === 5 || aot === 29) sampleRate = rate() ?? sampleRate; // explicit SBR: output rate
  if (sampleRate) info.sampleRate = sampleRate;
  if (channelConfig !== undefined && channelConfig >= 1 && channelConfig <= 7) {
    info.channels = channelConfig === 7 ? 8 : channelConfig;
  }
}
