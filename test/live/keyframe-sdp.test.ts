import { seededRandom } from '../../src/util/random.ts';
import { describe, expect, it } from 'vitest';
import {
  h264StartsKeyframe,
  h265StartsKeyframe,
  liveSdp,
  parseMulticastRange,
  isMulticastAddress,
  splitArgs,
  tracksFromAnnouncedSdp,
} from '../../src/server/live/index.ts';
import { parseLiveSpec } from '../../src/server/live/index.ts';
import { parseSdp } from '../../src/sdp/index.ts';

describe('keyframe detection on RTP payloads', () => {
  it.each([
    ['H.264 single IDR (nal 0x65)', [0x65, 0x88], true],
    ['H.264 single SPS (0x67)', [0x67, 0x4d], true],
    ['H.264 non-IDR slice (0x41)', [0x41, 0x9a], false],
    ['H.264 STAP-A [0x78][len 00 02][SPS 0x67..]', [0x78, 0x00, 0x02, 0x67, 0x4d], true],
    ['H.264 STAP-A starting with SEI (0x06)', [0x78, 0x00, 0x02, 0x06, 0x05], false],
    ['H.264 FU-A start of IDR [0x7c][S=1 type 5]', [0x7c, 0x85], true],
    ['H.264 FU-A middle of IDR [0x7c][S=0 type 5]', [0x7c, 0x05], false],
    ['H.264 FU-A start of non-IDR', [0x7c, 0x81], false],
    ['H.264 empty', [], false],
  ])('%s', (_name, bytes, want) => {
    expect(h264StartsKeyframe(Uint8Array.from(bytes))).toBe(want);
  });

  it.each([
    ['H.265 IDR_W_RADL (type 19: 0x26 0x01)', [0x26, 0x01], true],
    ['H.265 VPS (type 32: 0x40 0x01)', [0x40, 0x01], true],
    ['H.265 TRAIL_R (type 1: 0x02 0x01)', [0x02, 0x01], false],
    ['H.265 AP (0x60 0x01) with a VPS first', [0x60, 0x01, 0x00, 0x02, 0x40, 0x01], true],
    ['H.265 FU (0x62 0x01) start of IDR_N_LP (type 20)', [0x62, 0x01, 0x94], true],
    ['H.265 FU continuation of IDR', [0x62, 0x01, 0x14], false],
  ])('%s', (_name, bytes, want) => {
    expect(h265StartsKeyframe(Uint8Array.from(bytes))).toBe(want);
  });
});

// What ffmpeg 6 sends in ANNOUNCE for `-c copy` of the sample (H.264 + AAC).
const FFMPEG_ANNOUNCE = [
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=No Name',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'a=tool:libavformat 60.16.100',
  'm=video 0 RTP/AVP 96',
  'b=AS:1200',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z01AHuygUBf8uAiAAAADAIAAABkHixbL,aOvssg==; profile-level-id=4D401E',
  'a=control:streamid=0',
  'm=audio 0 RTP/AVP 97',
  'b=AS:128',
  'a=rtpmap:97 MPEG4-GENERIC/48000/2',
  'a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=119056E500',
  'a=control:streamid=1',
  '',
].join('\r\n');

describe('announced SDP → live channel SDP', () => {
  it('takes payload type, rtpmap, fmtp and control of each media section', () => {
    const r = tracksFromAnnouncedSdp(FFMPEG_ANNOUNCE);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(
      r.tracks.map((t) => [
        t.control,
        t.encodingName,
        t.format.payloadType,
        t.format.clockRate,
        t.format.rtpmap,
        t.format.media,
        t.format.bitrate,
      ]),
    ).toEqual([
      ['streamid=0', 'H264', 96, 90000, 'H264/90000', 'video', 1_200_000],
      ['streamid=1', 'MPEG4-GENERIC', 97, 48000, 'MPEG4-GENERIC/48000/2', 'audio', 128_000],
    ]);
    expect(r.tracks[0]!.format.fmtp).toBe(
      'packetization-mode=1; sprop-parameter-sets=Z01AHuygUBf8uAiAAAADAIAAABkHixbL,aOvssg==; profile-level-id=4D401E',
    );
    const sdp = liveSdp(
      'cam',
      r.tracks.map((t, i) => ({ control: `trackID=${i + 1}`, format: t.format })),
      { localIp: '127.0.0.1', serverName: 'streamlab/test' },
    );
    const parsed = parseSdp(sdp);
    expect(parsed.ok).toBe(true);
    expect(sdp).toContain('a=range:npt=now-\r\n');
    expect(sdp).toContain('a=rtpmap:96 H264/90000\r\n');
    expect(sdp).toContain(
      'a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=119056E500\r\n',
    );
    expect(sdp).toContain('a=control:trackID=2\r\n');
  });

  it('refuses bodies that are not a usable SDP, with a reason', () => {
    for (const bad of [
      '',
      'hello',
      'v=0\r\ns=x\r\n',
      FFMPEG_ANNOUNCE.replace('a=rtpmap:96 H264/90000\r\n', ''),
      FFMPEG_ANNOUNCE.replace('RTP/AVP 96', 'RTP/AVP 300'),
    ]) {
      const r = tracksFromAnnouncedSdp(bad);
      expect(r.ok).toBe(false);
    }
    // static payload type without rtpmap: PCMU
    const pcmu = 'v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=x\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n';
    const r = tracksFromAnnouncedSdp(pcmu);
    expect(r.ok && r.tracks[0]!.format.rtpmap).toBe('PCMU/8000');
  });
});

describe('live options', () => {
  it('parses multicast ranges (only 224.0.0.0/4)', () => {
    expect(parseMulticastRange('239.255.0.0/16')).toEqual({ base: 0xefff0000, size: 65536 });
    expect(parseMulticastRange('239.255.7.9/24')).toEqual({ base: 0xefff0700, size: 256 });
    expect(parseMulticastRange('10.0.0.0/8')).toBeUndefined();
    expect(parseMulticastRange('239.255.0.0')).toBeUndefined();
    expect(parseMulticastRange('239.255.0.0/40')).toBeUndefined();
    expect(isMulticastAddress('239.1.2.3')).toBe(true);
    expect(isMulticastAddress('127.0.0.1')).toBe(false);
  });

  it('splits ffmpeg input arguments with quotes', () => {
    expect(splitArgs(' -re -f lavfi -i testsrc2=size=320x240:rate=25 ')).toEqual([
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=25',
    ]);
    expect(splitArgs(`-i "my file.mp4" -vf 'a b' x\\ y ""`)).toEqual(['-i', 'my file.mp4', '-vf', 'a b', 'x y', '']);
    expect(() => splitArgs('-i "open')).toThrow(/unbalanced/);
  });

  it('parses --live NAME=FILE and NAME=ffmpeg:ARGS', () => {
    expect(parseLiveSpec('news=clip.mp4')).toEqual({ name: 'news', file: 'clip.mp4' });
    expect(parseLiveSpec('t=ffmpeg:-f lavfi -i testsrc2')).toEqual({ name: 't', ffmpegArgs: ['-f', 'lavfi', '-i', 'testsrc2'] });
    for (const bad of ['clip.mp4', '=x.mp4', 'a/b=x.mp4', 'x=', 't=ffmpeg:  ']) expect(() => parseLiveSpec(bad)).toThrow(/--live/);
  });
});

describe('multicast allocation', () => {
  it('gives each track its own group and even port pair inside the ranges', async () => {
    const { MulticastAllocator } = await import('../../src/server/live/multicast.ts');
    const { LiveTrack } = await import('../../src/server/live/index.ts');
    const { ManualClock } = await import('../../src/util/clock.ts');
    const rtcp = () => ({ receive() {}, start() {}, pause() {}, sendBye() {}, close() {} });
    const alloc = new MulticastAllocator(
      { range: '239.255.9.0/30', ports: { min: 41001, max: 41010 }, ttl: 3, interfaceAddress: '127.0.0.1', allowClientDestination: false },
      seededRandom(1),
      rtcp,
    );
    const clock = new ManualClock();
    const format = {
      media: 'audio',
      payloadType: 0,
      clockRate: 8000,
      rtpmap: 'PCMU/8000',
      fmtp: '',
      attributes: [] as [string, string][],
      bitrate: 0,
    };
    const tracks = Array.from({ length: 5 }, (_, i) => new LiveTrack(`trackID=${i + 1}`, format, clock));
    const groups = [];
    for (const t of tracks) groups.push(await alloc.groupFor(t));
    // The same track always gets its group back.
    expect(await alloc.groupFor(tracks[0]!)).toBe(groups[0]);
    // A /30 has 3 usable addresses after the first: they are reused in turn.
    expect(groups.map((g) => g.address)).toEqual(['239.255.9.1', '239.255.9.2', '239.255.9.3', '239.255.9.1', '239.255.9.2']);
    for (const g of groups) {
      expect(g.port % 2).toBe(0);
      expect(g.port).toBeGreaterThanOrEqual(41002);
      expect(g.port + 1).toBeLessThanOrEqual(41010);
      expect(g.ttl).toBe(3);
    }
    // Ports go round on their own (4 pairs here), so up to 12 tracks never share address and port.
    const keys = groups.map((g) => `${g.address}:${g.port}`);
    expect(new Set(keys).size).toBe(keys.length);
    // A track that is gone (a publisher came back with other tracks) gives its group back.
    alloc.release(tracks[0]!);
    expect(await alloc.all()).not.toContain(groups[0]);
    expect(await alloc.groupFor(tracks[0]!)).not.toBe(groups[0]);
    await alloc.close();
  });

  it('releases the groups of tracks a channel replaces', async () => {
    const { LiveChannel } = await import('../../src/server/live/index.ts');
    const { ManualClock } = await import('../../src/util/clock.ts');
    const channel = new LiveChannel('x', 'publish', new ManualClock());
    const replaced: string[][] = [];
    channel.onTracksReplaced = (old) => replaced.push(old.map((t) => t.control));
    const pcmu = {
      media: 'audio' as const,
      payloadType: 0,
      clockRate: 8000,
      rtpmap: 'PCMU/8000',
      fmtp: '',
      attributes: [] as [string, string][],
      bitrate: 0,
    };
    channel.setFormats([pcmu]);
    channel.setFormats([{ ...pcmu, fmtp: 'x' }]); // same shape: tracks kept, nothing replaced
    expect(replaced).toEqual([]);
    channel.setFormats([pcmu, { ...pcmu, payloadType: 8, rtpmap: 'PCMA/8000' }]);
    expect(replaced).toEqual([['trackID=1']]);
  });
});
