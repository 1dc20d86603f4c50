/**
 * Control URLs of the tracks (RFC 2326 C.1.1 and what real servers send): relative controls under
 * the Content-Base (with or without its trailing slash), absolute ones as given, `*` and a missing
 * control meaning the aggregate URL, and a session-level control changing the aggregate.
 */
import { describe, expect, it } from 'vitest';
import { tracksFromSdp } from '../../src/receiver/index.ts';
import { parseSdp } from '../../src/sdp/index.ts';

function sdp(sessionControl: string | undefined, controls: (string | undefined)[]): string {
  const lines = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=x', 't=0 0'];
  if (sessionControl) lines.push(`a=control:${sessionControl}`);
  controls.forEach((c, i) => {
    lines.push(`m=video 0 RTP/AVP ${96 + i}`, `a=rtpmap:${96 + i} H264/90000`);
    if (c !== undefined) lines.push(`a=control:${c}`);
  });
  return `${lines.join('\r\n')}\r\n`;
}

function controls(text: string, base: string): string[] {
  const p = parseSdp(text);
  if (!p.ok) throw new Error(p.code);
  return tracksFromSdp(p.value, base).map((t) => t.controlUrl);
}

describe('tracksFromSdp control URLs', () => {
  it.each([
    // [Content-Base, a=control values, expected SETUP URLs]
    ['rtsp://h:554/live/', ['trackID=1', 'trackID=2'], ['rtsp://h:554/live/trackID=1', 'rtsp://h:554/live/trackID=2']],
    ['rtsp://h:554/live', ['trackID=1'], ['rtsp://h:554/live/trackID=1']], // no slash: still under it (players do so)
    ['rtsp://h:554/a.mp4/', ['rtsp://other:8554/x/stream=0'], ['rtsp://other:8554/x/stream=0']],
    ['rtsp://h:554/live/', ['*'], ['rtsp://h:554/live/']],
    ['rtsp://h:554/live/', [undefined], ['rtsp://h:554/live/']],
  ] as const)('base %s, controls %j', (base, cs, want) => {
    expect(controls(sdp(undefined, [...cs]), base)).toEqual(want);
  });

  it('resolves under a session-level control', () => {
    expect(controls(sdp('rtsp://h:554/agg', ['t1']), 'rtsp://h:554/base/')).toEqual(['rtsp://h:554/agg/t1']);
  });

  it('marks tracks it cannot receive, with the reason', () => {
    const text = sdp(undefined, ['a']).replace('H264/90000', 'VP8/90000');
    const p = parseSdp(text);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    const [t] = tracksFromSdp(p.value, 'rtsp://h/x/');
    expect(t!.codec).toBeUndefined();
    expect(t!.unsupported).toBe('video VP8 over RTP/AVP is not received yet');
  });
});
