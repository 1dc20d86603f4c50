/**
 * Incremental RTSP 1.0 stream parser (RFC 2326 §4, §6, §7, §10.12) shared by server and client.
 *
 * A TCP stream carries requests, responses and `$`-framed interleaved binary data in any order.
 * `push(chunk)` consumes bytes and returns the complete events found so far; partial input is
 * kept until the next push. Named states, as in ws's Receiver:
 *
 *   START ──'$'──► INTERLEAVED_HEADER (3 bytes) ──► INTERLEAVED_DATA ──► START
 *     │  └─ CR / LF between messages are skipped
 *     └─other──► HEAD (until an empty line) ──► BODY (Content-Length bytes) ──► START
 *   any ──fatal error──► FAILED (all further input is ignored: push returns [])
 *
 * Bodies and interleaved payloads are subarray views of the pushed chunk when they arrive whole;
 * they are copied (once, into a buffer of the final size) only when they span chunks. The parser
 * keeps views of pushed chunks: callers must not reuse a buffer after pushing it.
 *
 * Errors are events, never exceptions. Non-fatal errors (bad request line, bad header line,
 * missing CSeq, wrong version) are reported after the whole message has been framed, with the
 * parsed message attached when it could be built, so the server can answer `status` and carry on.
 * Fatal errors (oversized header section, body or interleaved frame; unusable Content-Length)
 * leave the stream unframeable: the server answers `status` and closes the connection.
 * Both roles accept requests and responses: RTSP servers also send requests (GET_PARAMETER,
 * ANNOUNCE, REDIRECT) and clients answer them.
 */

import { RTSP_ERROR_STATUS, type RtspErrorCode } from './errors.ts';
import { RTSP_VERSION, RtspHeaders, isToken, type RtspRequest, type RtspResponse } from './message.ts';
import { at, group } from '../util/narrow.ts';

/** Default cap on start line + headers, terminators included (leading blank lines excluded). */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
/** Default cap on Content-Length (SDP, GET_PARAMETER/SET_PARAMETER bodies). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Default cap on one interleaved frame: the largest the 16-bit length field can say. */
export const DEFAULT_MAX_INTERLEAVED_BYTES = 0xffff;

export type RtspParserRole = 'server' | 'client';

export interface RtspParserOptions {
  role: RtspParserRole;
  maxHeaderBytes?: number;
  maxBodyBytes?: number;
  maxInterleavedBytes?: number;
}

export type RtspParserState = 'START' | 'HEAD' | 'BODY' | 'INTERLEAVED_HEADER' | 'INTERLEAVED_DATA' | 'FAILED';

export interface RtspParseErrorEvent {
  type: 'error';
  code: RtspErrorCode;
  /** Suggested RTSP status for the answer (see RTSP_ERROR_STATUS in errors.ts). */
  status: number;
  /** True: the stream cannot be framed any more; answer and close. */
  fatal: boolean;
  message: string;
  /** The request as parsed, when the message was framed and its start line split in three. */
  request?: RtspRequest;
  /** The response as parsed, when the status line could be read. */
  response?: RtspResponse;
  /** CSeq of the offending message when it had a valid one (echo it in the answer). */
  cseq?: number;
}

export type RtspParseEvent =
  | { type: 'request'; request: RtspRequest }
  | { type: 'response'; response: RtspResponse }
  | { type: 'interleaved'; channel: number; data: Buffer }
  | RtspParseErrorEvent;

const CR = 0x0d;
const LF = 0x0a;
const DOLLAR = 0x24;
const EMPTY = Buffer.alloc(0);
const VERSION_SHAPE = /^[A-Za-z]+\/\d+\.\d+$/;
const STATUS_LINE = /^(RTSP\/\d+\.\d+)[ \t]+(\d{3})(?:[ \t](.*))?$/;

interface Problem {
  code: RtspErrorCode;
  message: string;
}

interface FramedHead {
  request?: RtspRequest;
  response?: RtspResponse;
  problem?: Problem;
  cseq?: number;
}

export class RtspParser {
  readonly role: RtspParserRole;
  readonly maxHeaderBytes: number;
  readonly maxBodyBytes: number;
  readonly maxInterleavedBytes: number;

  private _state: RtspParserState = 'START';
  // HEAD: parts of the header section from earlier chunks, and the scanner's line state.
  private headParts: Buffer[] = [];
  private headBytes = 0;
  private lineHasContent = false;
  // BODY / INTERLEAVED_DATA: the message waiting for its body, or the frame's channel.
  private head: FramedHead | null = null;
  private channel = 0;
  private need = 0;
  private partial: Buffer | null = null;
  private filled = 0;
  // INTERLEAVED_HEADER: channel + 16-bit length, possibly split.
  private readonly ilvHeader = Buffer.alloc(3);
  private ilvHeaderFilled = 0;

  constructor(options: RtspParserOptions) {
    this.role = options.role;
    this.maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.maxInterleavedBytes = options.maxInterleavedBytes ?? DEFAULT_MAX_INTERLEAVED_BYTES;
  }

  get state(): RtspParserState {
    return this._state;
  }

  /** True after a fatal error: further input is ignored. */
  get failed(): boolean {
    return this._state === 'FAILED';
  }

  /** Consume `chunk`; returns the events completed by it, in stream order. Never throws. */
  push(chunk: Buffer): RtspParseEvent[] {
    const events: RtspParseEvent[] = [];
    let pos = 0;
    while (pos < chunk.length && this._state !== 'FAILED') {
      switch (this._state) {
        case 'START': {
          const b = chunk[pos];
          if (b === CR || b === LF) {
            pos++;
          } else if (b === DOLLAR) {
            this._state = 'INTERLEAVED_HEADER';
            this.ilvHeaderFilled = 0;
            pos++;
          } else {
            this._state = 'HEAD';
            this.headParts = [];
            this.headBytes = 0;
            this.lineHasContent = false;
          }
          break;
        }
        case 'HEAD':
          pos = this.readHead(chunk, pos, events);
          break;
        case 'BODY':
        case 'INTERLEAVED_DATA':
          pos = this.readPayload(chunk, pos, events);
          break;
        case 'INTERLEAVED_HEADER':
          pos = this.readInterleavedHeader(chunk, pos, events);
          break;
      }
    }
    return events;
  }

  private fail(events: RtspParseEvent[], code: RtspErrorCode, message: string): void {
    events.push({ type: 'error', code, status: RTSP_ERROR_STATUS[code], fatal: true, message });
    this._state = 'FAILED';
    this.headParts = [];
    this.head = null;
    this.partial = null;
  }

  /** Scan for the empty line ending the header section; lines end in LF, CR optional. */
  private readHead(chunk: Buffer, pos: number, events: RtspParseEvent[]): number {
    const start = pos;
    let i = pos;
    for (;;) {
      const lf = chunk.indexOf(LF, i);
      const end = lf === -1 ? chunk.length : lf;
      const seg = end - i;
      if (seg > 1 || (seg === 1 && chunk[i] !== CR)) this.lineHasContent = true;
      const total = this.headBytes + (lf === -1 ? chunk.length : lf + 1) - start;
      if (total > this.maxHeaderBytes) {
        this.fail(events, 'RTSP_ERR_HEADER_TOO_LARGE', `header section exceeds ${this.maxHeaderBytes} bytes`);
        return chunk.length;
      }
      if (lf === -1) {
        this.headParts.push(chunk.subarray(start));
        this.headBytes = total;
        return chunk.length;
      }
      if (!this.lineHasContent) {
        const last = chunk.subarray(start, lf + 1);
        const bytes = this.headParts.length === 0 ? last : Buffer.concat([...this.headParts, last], total);
        this.headParts = [];
        this.headBytes = 0;
        this.onHead(bytes, events);
        return lf + 1;
      }
      this.lineHasContent = false;
      i = lf + 1;
    }
  }

  private onHead(bytes: Buffer, events: RtspParseEvent[]): void {
    const head = frameHead(bytes.toString('utf8'));
    const lengths = (head.request ?? head.response)?.headers.getAll('Content-Length') ?? [];
    let length = 0;
    if (lengths.length > 0) {
      const first = at(lengths, 0).trim();
      if (!/^\d{1,15}$/.test(first) || lengths.some((v) => v.trim() !== first)) {
        this.fail(events, 'RTSP_ERR_BAD_CONTENT_LENGTH', `bad Content-Length ${JSON.stringify(lengths.join(', '))}`);
        return;
      }
      length = Number(first);
    }
    if (length > this.maxBodyBytes) {
      this.fail(events, 'RTSP_ERR_BODY_TOO_LARGE', `body of ${length} bytes exceeds ${this.maxBodyBytes}`);
      return;
    }
    if (length === 0) {
      this._state = 'START';
      emitMessage(head, EMPTY, events);
      return;
    }
    this.head = head;
    this.need = length;
    this.partial = null;
    this.filled = 0;
    this._state = 'BODY';
  }

  private readInterleavedHeader(chunk: Buffer, pos: number, events: RtspParseEvent[]): number {
    let channel: number;
    let length: number;
    let next: number;
    if (this.ilvHeaderFilled === 0 && chunk.length - pos >= 3) {
      // The whole header in this chunk (the usual case): no copy.
      channel = chunk[pos]!;
      length = (chunk[pos + 1]! << 8) | chunk[pos + 2]!;
      next = pos + 3;
    } else {
      const take = Math.min(3 - this.ilvHeaderFilled, chunk.length - pos);
      chunk.copy(this.ilvHeader, this.ilvHeaderFilled, pos, pos + take);
      this.ilvHeaderFilled += take;
      if (this.ilvHeaderFilled < 3) return pos + take;
      channel = this.ilvHeader[0]!;
      length = this.ilvHeader.readUInt16BE(1);
      next = pos + take;
    }
    if (length > this.maxInterleavedBytes) {
      this.fail(events, 'RTSP_ERR_INTERLEAVED_TOO_LARGE', `interleaved frame of ${length} bytes exceeds ${this.maxInterleavedBytes}`);
      return chunk.length;
    }
    this.channel = channel;
    if (length === 0) {
      this._state = 'START';
      events.push({ type: 'interleaved', channel: this.channel, data: EMPTY });
    } else {
      this.need = length;
      this.partial = null;
      this.filled = 0;
      this._state = 'INTERLEAVED_DATA';
    }
    return next;
  }

  /** Body or interleaved payload: a view when whole in this chunk, else copied into `partial`. */
  private readPayload(chunk: Buffer, pos: number, events: RtspParseEvent[]): number {
    let data: Buffer;
    let next: number;
    if (this.partial === null && chunk.length - pos >= this.need) {
      data = chunk.subarray(pos, pos + this.need);
      next = pos + this.need;
    } else {
      this.partial ??= Buffer.allocUnsafe(this.need);
      const take = Math.min(this.need - this.filled, chunk.length - pos);
      chunk.copy(this.partial, this.filled, pos, pos + take);
      this.filled += take;
      next = pos + take;
      if (this.filled < this.need) return next;
      data = this.partial;
    }
    this.partial = null;
    const wasBody = this._state === 'BODY';
    this._state = 'START';
    if (wasBody) {
      const head = this.head as FramedHead;
      this.head = null;
      emitMessage(head, data, events);
    } else {
      events.push({ type: 'interleaved', channel: this.channel, data });
    }
    return next;
  }
}

function emitMessage(head: FramedHead, body: Buffer, events: RtspParseEvent[]): void {
  if (head.request) head.request.body = body;
  if (head.response) head.response.body = body;
  if (head.problem) {
    const ev: RtspParseErrorEvent = {
      type: 'error',
      code: head.problem.code,
      status: RTSP_ERROR_STATUS[head.problem.code],
      fatal: false,
      message: head.problem.message,
    };
    if (head.request) ev.request = head.request;
    if (head.response) ev.response = head.response;
    if (head.cseq !== undefined) ev.cseq = head.cseq;
    events.push(ev);
  } else if (head.request) {
    events.push({ type: 'request', request: head.request });
  } else if (head.response) {
    events.push({ type: 'response', response: head.response });
  }
}

function trimWs(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** Parse the text of a header section (start line, header lines, empty line). */
function frameHead(text: string): FramedHead {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const out: FramedHead = {};
  const problem = (code: RtspErrorCode, message: string): void => {
    out.problem ??= { code, message };
  };
  // Report order: start line, then header lines, then CSeq. Headers are read first so that a
  // message with a bad start line can still report its CSeq.
  let headerProblem: Problem | undefined;
  const badHeader = (message: string): void => {
    headerProblem ??= { code: 'RTSP_ERR_BAD_HEADER', message };
  };
  const pairs: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      const prev = pairs[pairs.length - 1];
      const more = trimWs(line);
      if (prev === undefined) badHeader('continuation line without a header');
      else if (/[\r\0]/.test(more)) badHeader('control character in header');
      else if (more !== '') prev[1] = prev[1] === '' ? more : `${prev[1]} ${more}`;
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).replace(/[ \t]+$/, '') : '';
    const value = colon > 0 ? trimWs(line.slice(colon + 1)) : '';
    if (!isToken(name) || /[\r\0]/.test(value)) {
      badHeader(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
      continue;
    }
    pairs.push([name, value]);
  }
  const headers = new RtspHeaders(pairs);
  const cseqValues = headers.getAll('CSeq');
  const cseqText = cseqValues[0]?.trim();
  const cseqValid = cseqText !== undefined && /^\d{1,10}$/.test(cseqText) && Number(cseqText) <= 0xffffffff;
  if (cseqValid) out.cseq = Number(cseqText);

  const startLine = lines[0] ?? '';
  if (startLine.startsWith('RTSP/')) {
    const m = STATUS_LINE.exec(startLine);
    if (m === null) {
      problem('RTSP_ERR_BAD_STATUS_LINE', `malformed status line ${JSON.stringify(startLine.slice(0, 80))}`);
    } else {
      const version = group(m, 1);
      out.response = { version, statusCode: Number(group(m, 2)), reason: m[3] ?? '', headers, body: EMPTY };
      if (version !== RTSP_VERSION) problem('RTSP_ERR_BAD_VERSION', `unsupported version ${version}`);
    }
  } else {
    const parts = trimWs(startLine).split(/[ \t]+/);
    const [method, uri, version] = parts;
    if (parts.length !== 3 || method === undefined || uri === undefined || version === undefined) {
      problem('RTSP_ERR_BAD_START_LINE', `malformed request line ${JSON.stringify(startLine.slice(0, 80))}`);
    } else {
      out.request = { method, uri, version, headers, body: EMPTY };
      if (!isToken(method)) problem('RTSP_ERR_BAD_METHOD', `bad method ${JSON.stringify(method)}`);
      // eslint-disable-next-line no-control-regex
      else if (/[\x00-\x1f\x7f]/.test(uri)) problem('RTSP_ERR_BAD_URI', 'control character in Request-URI');
      else if (version !== RTSP_VERSION) {
        if (VERSION_SHAPE.test(version)) problem('RTSP_ERR_BAD_VERSION', `unsupported version ${version}`);
        else problem('RTSP_ERR_BAD_START_LINE', `bad version ${JSON.stringify(version)}`);
      }
    }
  }
  if (headerProblem) problem(headerProblem.code, headerProblem.message);
  if (cseqText === undefined) problem('RTSP_ERR_MISSING_CSEQ', 'no CSeq header');
  else if (!cseqValid) problem('RTSP_ERR_BAD_CSEQ', `bad CSeq ${JSON.stringify(cseqText)}`);
  return out;
}
