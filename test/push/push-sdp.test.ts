/**
 * The SDP file `streamlab push` writes, byte for byte: unicast and multicast (c= with /TTL, RFC
 * 4566 §5.7), one m= per track on its own port, a=rtcp only when RTCP is not on RTP + 1 (RFC 3605),
 * and the rtpmap/fmtp lines of our own payload formats (the same as in DESCRIBE answers).
 */
import { describe, expect, it } from 'vitest';
import { parseSdp } from '../../src/sdp/index.ts';
import { ChunkCache, describeSdp, openMediaEntry } from '../../src/server/index.ts';
import { pushSdp, resolveDestination } from '../../src/server/push/index.ts';
import type { PushDestination } from '../../src/server/push/index.ts';
import type { PayloadFormat } from '../../src/sender/payload-formats.ts';
import { SAMPLE } from '../helpers/server.ts';

const h264: PayloadFormat = {
  media: 'video',
  payloadType: 96,
  clockRate: 90000,
  rtpmap: 'H264/90000',
  fmtp: 'packetization-mode=1;profile-level-id=4d401e;sprop-parameter-sets=Z01AHuygUBf8uAiAAAADAIAAABkHixbL,aOvssg==',
  attributes: [['framesize', '96 640-360']],
  bitrate: 807_123,
  packetize: () => [],
};
const aac: PayloadFormat = {
  media: 'audio',
  payloadType: 97,
  clockRate: 48000,
  rtpmap: 'mpeg4-generic/48000/2',
  fmtp: 'streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=119056e500',
  attributes: [],
  bitrate: 96_000,
  packetize: () => [],
};
const mpa: PayloadFormat = {
  media: 'audio',
  payloadType: 14,
  clockRate: 90000,
  rtpmap: 'MPA/90000',
  fmtp: '',
  attributes: [],
  bitrate: 0,
  packetize: () => [],
};

function dest(url: string, trackCount: number, extra: { ttl?: number; ports?: string } = {}): PushDestination {
  const r = resolveDestination({ url, trackCount, ...extra });
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

const opts = { name: 'sample.mp4', originAddress: '192.0.2.2', sessionId: '3990000000', tool: 'streamlab push' };

describe('pushSdp', () => {
  it('unicast: c= is the destination, tracks on PORT and PORT+2', () => {
    const sdp = pushSdp([h264, aac], dest('rtp://127.0.0.1:5004', 2), opts);
    expect(sdp).toBe(
      [
        'v=0',
        'o=- 3990000000 1 IN IP4 192.0.2.2',
        's=sample.mp4',
        'c=IN IP4 127.0.0.1',
        't=0 0',
        'a=tool:streamlab push',
        'a=type:broadcast',
        'a=recvonly',
        'm=video 5004 RTP/AVP 96',
        'b=AS:808',
        'a=rtpmap:96 H264/90000',
        'a=fmtp:96 packetization-mode=1;profile-level-id=4d401e;sprop-parameter-sets=Z01AHuygUBf8uAiAAAADAIAAABkHixbL,aOvssg==',
        'a=framesize:96 640-360',
        'm=audio 5006 RTP/AVP 97',
        'b=AS:96',
        'a=rtpmap:97 mpeg4-generic/48000/2',
        'a=fmtp:97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=119056e500',
        '',
      ].join('\r\n'),
    );
  });

  it('multicast: c= carries the TTL; a=rtcp when RTCP is not RTP + 1; no fmtp or b= when there is none', () => {
    const sdp = pushSdp([h264, mpa], dest('rtp://239.255.1.2:5004', 2, { ttl: 16, ports: '6000:6101,6002' }), {
      ...opts,
      sessionVersion: '7',
    });
    expect(sdp).toBe(
      [
        'v=0',
        'o=- 3990000000 7 IN IP4 192.0.2.2',
        's=sample.mp4',
        'c=IN IP4 239.255.1.2/16',
        't=0 0',
        'a=tool:streamlab push',
        'a=type:broadcast',
        'a=recvonly',
        'm=video 6000 RTP/AVP 96',
        'b=AS:808',
        'a=rtpmap:96 H264/90000',
        'a=fmtp:96 packetization-mode=1;profile-level-id=4d401e;sprop-parameter-sets=Z01AHuygUBf8uAiAAAADAIAAABkHixbL,aOvssg==',
        'a=framesize:96 640-360',
        'a=rtcp:6101 IN IP4 239.255.1.2',
        'm=audio 6002 RTP/AVP 14',
        'a=rtpmap:14 MPA/90000',
        '',
      ].join('\r\n'),
    );
  });

  it('refuses a port list that does not match the tracks (programmer error)', () => {
    expect(() => pushSdp([h264], dest('rtp://127.0.0.1:5004', 2), opts)).toThrow(TypeError);
  });

  it('carries the rtpmap and fmtp lines the server sends for the same file, and parses back', async () => {
    const entry = await openMediaEntry(SAMPLE, 'sample.mp4', 1460, new ChunkCache(1));
    try {
      const formats = entry.tracks.map((t) => t.source.format);
      const sdp = pushSdp(formats, dest('rtp://239.1.1.1:5004', formats.length), opts);
      const described = describeSdp(entry, { localIp: '127.0.0.1', serverName: 'x' });
      const lines = (s: string) => s.split('\r\n').filter((l) => /^a=(rtpmap|fmtp):/.test(l));
      expect(lines(sdp)).toEqual(lines(described));
      expect(lines(sdp)).toHaveLength(4);
      const parsed = parseSdp(sdp);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) return;
      expect(parsed.value.connection?.address).toBe('239.1.1.1/1');
      expect(parsed.value.media.map((m) => [m.type, m.port, m.formats])).toEqual([
        ['video', 5004, ['96']],
        ['audio', 5006, ['97']],
      ]);
    } finally {
      await entry.file.close();
    }
  });
});
