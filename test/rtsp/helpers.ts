import { RtspParser, type RtspParseEvent, type RtspParserOptions } from '../../src/rtsp/index.ts';

/** Events as plain data (buffers as hex, headers as entry lists) for deep comparison. */
export function plain(ev: RtspParseEvent): unknown {
  switch (ev.type) {
    case 'request': {
      const r = ev.request;
      return { type: 'request', method: r.method, uri: r.uri, version: r.version, headers: [...r.headers], body: r.body.toString('hex') };
    }
    case 'response': {
      const r = ev.response;
      return {
        type: 'response',
        version: r.version,
        statusCode: r.statusCode,
        reason: r.reason,
        headers: [...r.headers],
        body: r.body.toString('hex'),
      };
    }
    case 'interleaved':
      return { type: 'interleaved', channel: ev.channel, data: ev.data.toString('hex') };
    case 'error':
      return {
        type: 'error',
        code: ev.code,
        status: ev.status,
        fatal: ev.fatal,
        cseq: ev.cseq,
        request: ev.request ? plain({ type: 'request', request: ev.request }) : undefined,
        response: ev.response ? plain({ type: 'response', response: ev.response }) : undefined,
      };
  }
}

export function parseChunks(chunks: Buffer[], opts: RtspParserOptions = { role: 'server' }): unknown[] {
  const p = new RtspParser(opts);
  return chunks.flatMap((c) => p.push(c)).map(plain);
}

/** Every 2-way split of `bytes`, plus one byte at a time. */
export function* splits(bytes: Buffer): Generator<Buffer[]> {
  for (let i = 1; i < bytes.length; i++) yield [bytes.subarray(0, i), bytes.subarray(i)];
  yield [...bytes].map((b) => Buffer.from([b]));
}

/** Text block as written in an RFC (one line per array item) joined with CRLF. */
export function crlf(...lines: string[]): string {
  return lines.map((l) => `${l}\r\n`).join('');
}
