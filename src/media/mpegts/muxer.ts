/**
 * TsMuxer: one program of H.264/H.265/AAC/Opus/MPEG audio elementary streams in an MPEG-TS byte stream
 * (ISO/IEC 13818-1), written access unit by access unit. Pure: it returns 188-byte packets and
 * never writes anywhere itself.
 *
 * - PAT and PMT go out before the first access unit, before every video random access point, and
 *   whenever psiInterval90k of DTS has passed (or the DTS went backwards).
 * - The PCR rides on the PCR PID (the first video stream, else the first stream): on its random
 *   access points and at least every pcrInterval90k of DTS, PCR = DTS - pcrDelay90k.
 * - One PES packet per access unit, PTS and DTS (when different) in the header, modulo 2^33;
 *   random_access_indicator on keyframes (video) and on every audio frame flagged as a keyframe.
 * - Video: Annex B with an AUD first and the parameter sets before random access points (from
 *   addStream, refreshed from the in-band ones the stream carries). AAC: ADTS frames. Opus: with
 *   the opus_control_header. MPEG audio (MP1/MP2/MP3): the frames as they are, stream_type 0x03
 *   (MPEG-1) or 0x04 (MPEG-2/2.5 lower sampling rates), from `version` or else from the first
 *   frame's header (a PMT already sent with the other type is re-sent with a new version).
 * Adding a stream after output has started bumps the PMT version.
 */
import {
  TS_DEFAULT_FIRST_ES_PID,
  TS_DEFAULT_PCR_DELAY_90K,
  TS_DEFAULT_PCR_INTERVAL_90K,
  TS_DEFAULT_PMT_PID,
  TS_DEFAULT_PSI_INTERVAL_90K,
  TS_MAX_ACCESS_UNIT_SIZE,
  TS_MAX_STREAMS,
  TS_MAX_USER_PID,
  TS_MIN_USER_PID,
  TS_PID_PAT,
  TsStreamId,
  TsStreamType,
} from './constants.ts';
import { tsError, type TsResult } from './errors.ts';
import { ADTS_MAX_RAW_FRAME_SIZE, adtsConfig, serializeAdtsHeader, type AdtsConfig, type AdtsConfigInput } from './adts.ts';
import { opusControlHeader, opusDescriptors, OPUS_MAX_CHANNELS } from './opus.ts';
import { packetizePes } from './packetize.ts';
import { serializePesHeader } from './pes.ts';
import { buildPatSection, buildPmtSection, psiPacket } from './psi.ts';
import { annexBChunks, parameterSetTypes, videoNalType, type VideoCodec } from './video-au.ts';
import { at } from '../../util/narrow.ts';

export type TsStreamKind = 'h264' | 'h265' | 'aac' | 'opus' | 'mpa';

/** Parameter sets are NAL units without start codes; they are copied. */
export type TsStreamSpec =
  | { kind: 'h264'; sps?: readonly Uint8Array[]; pps?: readonly Uint8Array[]; pid?: number }
  | { kind: 'h265'; vps?: readonly Uint8Array[]; sps?: readonly Uint8Array[]; pps?: readonly Uint8Array[]; pid?: number }
  | { kind: 'aac'; config: AdtsConfigInput; pid?: number }
  | { kind: 'opus'; channels: number; pid?: number }
  /** MPEG audio frames (header included); version 1 or 2 (2.5 counts as 2), else from the first frame. */
  | { kind: 'mpa'; version?: 1 | 2; pid?: number };

export interface TsAccessUnit {
  /** Presentation time, 90 kHz, unwrapped (any finite number; written modulo 2^33). */
  pts90k: number;
  /** Decode time, 90 kHz; defaults to pts90k. */
  dts90k?: number;
  keyframe: boolean;
  /** h264/h265: the NAL units, without start codes. aac/opus: one raw frame. */
  data: Uint8Array | readonly Uint8Array[];
}

export interface TsMuxerOptions {
  transportStreamId?: number;
  programNumber?: number;
  pmtPid?: number;
  /** PID of the first stream added; later ones count up from it. */
  firstPid?: number;
  psiInterval90k?: number;
  pcrInterval90k?: number;
  pcrDelay90k?: number;
}

export interface TsStreamInfo {
  pid: number;
  kind: TsStreamKind;
  streamType: number;
  streamId: number;
}

interface StreamState extends TsStreamInfo {
  cc: number;
  adts?: AdtsConfig;
  descriptors?: Uint8Array;
  /** Video: parameter sets by NAL type. */
  paramSets: Map<number, Uint8Array[]>;
  /** MPEG audio: stream_type not given, still to be read from the first frame. */
  mpaVersionPending?: boolean;
}

const copyAll = (list: readonly Uint8Array[] | undefined): Uint8Array[] => (list ?? []).map((b) => Buffer.from(b));

export class TsMuxer {
  private readonly opts: Required<TsMuxerOptions>;
  private readonly streamList: StreamState[] = [];
  private readonly byPid = new Map<number, StreamState>();
  private patCc = 0;
  private pmtCc = 0;
  private pmtVersion = 0;
  private psiSent = false;
  private lastPsiDts: number | undefined;
  private lastPcrDts: number | undefined;
  private nextPid: number;

  constructor(options: TsMuxerOptions = {}) {
    this.opts = {
      transportStreamId: options.transportStreamId ?? 1,
      programNumber: options.programNumber ?? 1,
      pmtPid: options.pmtPid ?? TS_DEFAULT_PMT_PID,
      firstPid: options.firstPid ?? TS_DEFAULT_FIRST_ES_PID,
      psiInterval90k: options.psiInterval90k ?? TS_DEFAULT_PSI_INTERVAL_90K,
      pcrInterval90k: options.pcrInterval90k ?? TS_DEFAULT_PCR_INTERVAL_90K,
      pcrDelay90k: options.pcrDelay90k ?? TS_DEFAULT_PCR_DELAY_90K,
    };
    checkPid(this.opts.pmtPid);
    this.nextPid = this.opts.firstPid;
  }

  /** Streams in the order added. */
  get streams(): readonly TsStreamInfo[] {
    return this.streamList.map(({ pid, kind, streamType, streamId }) => ({ pid, kind, streamType, streamId }));
  }

  /** The PID carrying the PCR: the first video stream, else the first stream; undefined with no streams. */
  get pcrPid(): number | undefined {
    return (this.streamList.find((s) => s.kind === 'h264' || s.kind === 'h265') ?? this.streamList[0])?.pid;
  }

  /**
   * Adds an elementary stream and returns its PID. Errors (values) for configurations from the
   * network that TS cannot carry (AAC rate/object type/channels, Opus channels); throws for a
   * taken or invalid PID or too many streams.
   */
  addStream(spec: TsStreamSpec): TsResult<number> {
    if (this.streamList.length >= TS_MAX_STREAMS) throw new RangeError(`at most ${TS_MAX_STREAMS} streams`);
    const pid = spec.pid ?? this.nextPid;
    checkPid(pid);
    if (this.byPid.has(pid) || pid === this.opts.pmtPid) throw new RangeError(`PID 0x${pid.toString(16)} is taken`);
    const base = { pid, kind: spec.kind, cc: 0, paramSets: new Map<number, Uint8Array[]>() };
    let s: StreamState;
    switch (spec.kind) {
      case 'h264':
        s = { ...base, streamType: TsStreamType.H264, streamId: TsStreamId.VIDEO };
        s.paramSets.set(7, copyAll(spec.sps));
        s.paramSets.set(8, copyAll(spec.pps));
        break;
      case 'h265':
        s = { ...base, streamType: TsStreamType.H265, streamId: TsStreamId.VIDEO };
        s.paramSets.set(32, copyAll(spec.vps));
        s.paramSets.set(33, copyAll(spec.sps));
        s.paramSets.set(34, copyAll(spec.pps));
        break;
      case 'aac': {
        const c = adtsConfig(spec.config);
        if (!c.ok) return c;
        s = { ...base, streamType: TsStreamType.AAC_ADTS, streamId: TsStreamId.AUDIO, adts: c.value };
        break;
      }
      case 'opus':
        if (!Number.isInteger(spec.channels) || spec.channels < 1 || spec.channels > OPUS_MAX_CHANNELS) {
          return tsError('TS_ERR_OPUS_UNSUPPORTED_CHANNELS', `Opus with ${spec.channels} channels`);
        }
        s = {
          ...base,
          streamType: TsStreamType.PRIVATE_PES,
          streamId: TsStreamId.PRIVATE_STREAM_1,
          descriptors: opusDescriptors(spec.channels),
        };
        break;
      case 'mpa':
        s = {
          ...base,
          streamType: spec.version === 2 ? TsStreamType.MPEG2_AUDIO : TsStreamType.MPEG1_AUDIO,
          streamId: TsStreamId.AUDIO,
          mpaVersionPending: spec.version === undefined,
        };
        break;
      default:
        throw new TypeError(`unknown stream kind ${(spec as { kind: string }).kind}`);
    }
    this.streamList.push(s);
    this.byPid.set(pid, s);
    this.nextPid = Math.max(this.nextPid, pid + 1);
    if (this.psiSent) {
      this.pmtVersion = (this.pmtVersion + 1) & 0x1f;
      this.psiSent = false; // the new PMT goes out before the next access unit
    }
    return { ok: true, value: pid };
  }

  /** PAT and PMT packets now (also written automatically; see the class comment). */
  psiPackets(): Buffer[] {
    const pcrPid = this.pcrPid;
    if (pcrPid === undefined) throw new Error('add a stream before writing PSI');
    const pat = psiPacket(TS_PID_PAT, this.patCc, buildPatSection(this.opts.transportStreamId, this.opts.programNumber, this.opts.pmtPid));
    const pmt = psiPacket(
      this.opts.pmtPid,
      this.pmtCc,
      buildPmtSection({
        programNumber: this.opts.programNumber,
        version: this.pmtVersion,
        pcrPid,
        streams: this.streamList.map((s) => (s.descriptors ? { streamType: s.streamType, pid: s.pid, descriptors: s.descriptors } : { streamType: s.streamType, pid: s.pid })),
      }),
    );
    this.patCc = (this.patCc + 1) & 0x0f;
    this.pmtCc = (this.pmtCc + 1) & 0x0f;
    this.psiSent = true;
    return [pat, pmt];
  }

  /**
   * Packets for one access unit (PAT/PMT first when due). The packets are copies: the caller may
   * reuse `au.data` afterwards. Throws for an unknown PID, non-finite timestamps or data of the
   * wrong shape (an array for audio, a single buffer for video).
   */
  writeAccessUnit(pid: number, au: TsAccessUnit): TsResult<Buffer[]> {
    const s = this.byPid.get(pid);
    if (!s) throw new RangeError(`no stream on PID 0x${pid.toString(16)}`);
    const pts = au.pts90k;
    const dts = au.dts90k ?? au.pts90k;
    if (!Number.isFinite(pts) || !Number.isFinite(dts)) throw new RangeError(`timestamps must be finite (pts ${pts}, dts ${dts})`);

    let chunks: Uint8Array[];
    let randomAccess = au.keyframe;
    const video = s.kind === 'h264' || s.kind === 'h265';
    if (video) {
      if (!Array.isArray(au.data)) throw new TypeError(`${s.kind} access units are arrays of NAL units`);
      const nalus = au.data as readonly Uint8Array[];
      const size = nalus.reduce((n, b) => n + b.length, 0);
      if (size === 0) return tsError('TS_ERR_EMPTY_ACCESS_UNIT', 'access unit without NAL units');
      if (size > TS_MAX_ACCESS_UNIT_SIZE) return tsError('TS_ERR_ACCESS_UNIT_TOO_LARGE', `access unit of ${size} bytes`);
      this.rememberParameterSets(s, nalus);
      const r = annexBChunks(s.kind as VideoCodec, nalus, au.keyframe, s.paramSets);
      chunks = r.chunks;
      randomAccess = r.randomAccess;
    } else {
      if (Array.isArray(au.data) || !(au.data instanceof Uint8Array)) throw new TypeError(`${s.kind} access units are one Uint8Array`);
      const frame = au.data;
      if (frame.length === 0) return tsError('TS_ERR_EMPTY_ACCESS_UNIT', 'empty audio frame');
      if (frame.length > TS_MAX_ACCESS_UNIT_SIZE) return tsError('TS_ERR_ACCESS_UNIT_TOO_LARGE', `frame of ${frame.length} bytes`);
      if (s.kind === 'aac') {
        if (frame.length > ADTS_MAX_RAW_FRAME_SIZE) return tsError('TS_ERR_ADTS_FRAME_TOO_LARGE', `AAC frame of ${frame.length} bytes`);
        chunks = [serializeAdtsHeader(s.adts!, frame.length), frame];
      } else if (s.kind === 'mpa') {
        if (s.mpaVersionPending) this.learnMpaVersion(s, frame);
        chunks = [frame];
      } else {
        chunks = [opusControlHeader(frame.length), frame];
      }
    }

    const out: Buffer[] = [];
    const psiDue =
      !this.psiSent ||
      (video && randomAccess) ||
      this.lastPsiDts === undefined ||
      dts < this.lastPsiDts ||
      dts - this.lastPsiDts >= this.opts.psiInterval90k;
    if (psiDue) {
      out.push(...this.psiPackets());
      this.lastPsiDts = dts;
    }

    let pcr90k: number | undefined;
    if (pid === this.pcrPid) {
      const last = this.lastPcrDts;
      if (last === undefined || randomAccess || dts < last || dts - last >= this.opts.pcrInterval90k) {
        pcr90k = dts - this.opts.pcrDelay90k;
        this.lastPcrDts = dts;
      }
    }

    const payloadLength = chunks.reduce((n, c) => n + c.length, 0);
    const header = serializePesHeader({ streamId: s.streamId, pts90k: pts, dts90k: dts, payloadLength, unbounded: video });
    const r = packetizePes([header, ...chunks], pcr90k === undefined ? { pid, cc: s.cc, randomAccess } : { pid, cc: s.cc, randomAccess, pcr90k });
    s.cc = r.cc;
    out.push(...r.packets);
    return { ok: true, value: out };
  }

  /**
   * The stream_type of an MPEG audio stream from its first frame that has a sync word: the
   * header's version bits (ISO/IEC 11172-3 §2.4.2.3; 13818-3 and MPEG-2.5 lower rates: 0x04).
   */
  private learnMpaVersion(s: StreamState, frame: Uint8Array): void {
    if (frame.length < 2 || frame[0] !== 0xff || (at(frame, 1) & 0xe0) !== 0xe0) return;
    s.mpaVersionPending = false;
    const versionBits = (at(frame, 1) >> 3) & 0x03; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5, 1: reserved
    const type = versionBits === 3 ? TsStreamType.MPEG1_AUDIO : TsStreamType.MPEG2_AUDIO;
    if (type === s.streamType) return;
    s.streamType = type;
    if (this.psiSent) {
      this.pmtVersion = (this.pmtVersion + 1) & 0x1f;
      this.psiSent = false;
    }
  }

  /** In-band parameter sets replace the stored ones of their type (copied: inputs may be reused). */
  private rememberParameterSets(s: StreamState, nalus: readonly Uint8Array[]): void {
    const codec = s.kind as VideoCodec;
    const types = parameterSetTypes(codec);
    let fresh: Map<number, Uint8Array[]> | undefined;
    for (const n of nalus) {
      const t = videoNalType(codec, n);
      if (!types.includes(t)) continue;
      fresh ??= new Map();
      let list = fresh.get(t);
      if (!list) fresh.set(t, (list = []));
      list.push(n);
    }
    if (!fresh) return;
    for (const [t, list] of fresh) {
      const old = s.paramSets.get(t) ?? [];
      const same = old.length === list.length && old.every((b, i) => Buffer.compare(b, at(list, i)) === 0);
      if (!same) s.paramSets.set(t, copyAll(list));
    }
  }
}

function checkPid(pid: number): void {
  if (!Number.isInteger(pid) || pid < TS_MIN_USER_PID || pid > TS_MAX_USER_PID) throw new RangeError(`PID ${pid} outside 0x10..0x1FFE`);
}
