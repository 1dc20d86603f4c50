import { describe, expect, it } from 'vitest';
import { RtspHeaders, STATUS_REASONS, createRequest, createResponse, getCSeq } from '../../src/rtsp/index.ts';

describe('RtspHeaders', () => {
  it('looks up case-insensitively and keeps order and casing', () => {
    const h = new RtspHeaders([
      ['CSeq', '1'],
      ['content-type', 'application/sdp'],
      ['X-Thing', 'a'],
      ['x-thing', 'b'],
    ]);
    expect(h.get('cseq')).toBe('1');
    expect(h.get('CONTENT-TYPE')).toBe('application/sdp');
    expect(h.getAll('X-THING')).toEqual(['a', 'b']);
    expect([...h.entries()]).toEqual([
      ['CSeq', '1'],
      ['content-type', 'application/sdp'],
      ['X-Thing', 'a'],
      ['x-thing', 'b'],
    ]);
    expect(h.size).toBe(4);
  });

  it('set replaces every value in place of the first; append adds at the end', () => {
    const h = new RtspHeaders({ A: '1', B: '2' });
    h.append('a', '3');
    h.set('A', 9);
    expect([...h]).toEqual([
      ['A', '9'],
      ['B', '2'],
    ]);
    h.set('C', 'x');
    expect([...h].map(([n]) => n)).toEqual(['A', 'B', 'C']);
  });

  it('delete removes all lines of a name', () => {
    const h = new RtspHeaders([
      ['Via', '1'],
      ['Foo', 'x'],
      ['VIA', '2'],
    ]);
    expect(h.delete('via')).toBe(true);
    expect(h.delete('via')).toBe(false);
    expect([...h]).toEqual([['Foo', 'x']]);
    expect(h.has('via')).toBe(false);
    expect(h.has('foo')).toBe(true);
  });

  it('throws on header injection (programmer error)', () => {
    const h = new RtspHeaders();
    expect(() => h.set('CSeq', '1\r\nX: y')).toThrow(TypeError);
    expect(() => h.append('Bad Name', 'v')).toThrow(TypeError);
    expect(() => h.append('', 'v')).toThrow(TypeError);
  });

  it('clone is independent', () => {
    const h = new RtspHeaders({ A: '1' });
    const c = h.clone();
    c.set('A', '2');
    expect(h.get('A')).toBe('1');
  });
});

describe('messages', () => {
  it('createResponse uses the RFC reason phrase', () => {
    const r = createResponse(454, { CSeq: '3' });
    expect(r.reason).toBe('Session Not Found');
    expect(r.version).toBe('RTSP/1.0');
    expect(r.body.length).toBe(0);
    expect(createResponse(200, undefined, undefined, 'Fine').reason).toBe('Fine');
  });

  it('getCSeq reads decimal CSeq only', () => {
    expect(getCSeq(createRequest('OPTIONS', '*', { CSeq: ' 42 ' }))).toBe(42);
    expect(getCSeq(createRequest('OPTIONS', '*', { CSeq: '4x' }))).toBeUndefined();
    expect(getCSeq(createRequest('OPTIONS', '*', { CSeq: '99999999999' }))).toBeUndefined();
    expect(getCSeq(createRequest('OPTIONS', '*'))).toBeUndefined();
  });

  it('STATUS_REASONS covers RFC 2326 §7.1.1', () => {
    // Transcribed from RFC 2326 §7.1.1.
    const rfc: [number, string][] = [
      [200, 'OK'],
      [301, 'Moved Permanently'],
      [302, 'Moved Temporarily'],
      [400, 'Bad Request'],
      [401, 'Unauthorized'],
      [404, 'Not Found'],
      [405, 'Method Not Allowed'],
      [406, 'Not Acceptable'],
      [408, 'Request Time-out'],
      [413, 'Request Entity Too Large'],
      [414, 'Request-URI Too Large'],
      [451, 'Parameter Not Understood'],
      [452, 'Conference Not Found'],
      [453, 'Not Enough Bandwidth'],
      [454, 'Session Not Found'],
      [455, 'Method Not Valid in This State'],
      [456, 'Header Field Not Valid for Resource'],
      [457, 'Invalid Range'],
      [458, 'Parameter Is Read-Only'],
      [459, 'Aggregate operation not allowed'],
      [460, 'Only aggregate operation allowed'],
      [461, 'Unsupported transport'],
      [462, 'Destination unreachable'],
      [500, 'Internal Server Error'],
      [501, 'Not Implemented'],
      [503, 'Service Unavailable'],
      [505, 'RTSP Version not supported'],
      [551, 'Option not supported'],
    ];
    for (const [code, reason] of rfc) expect(STATUS_REASONS[code], String(code)).toBe(reason);
  });
});
