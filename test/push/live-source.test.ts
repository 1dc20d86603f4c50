/**
 * The live source's pure parts: ffmpeg arguments split like a shell would, and MPEG-TS bytes cut
 * into RTP payloads of whole 188-byte packets (RFC 2250), stamped with their arrival time, in
 * chunks that exist as soon as a stream asks for them, however the bytes were split.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LiveTsSource, splitArgs } from '../../src/server/push/index.ts';

describe('splitArgs', () => {
  it.each([
    ['-re -f lavfi -i testsrc2', ['-re', '-f', 'lavfi', '-i', 'testsrc2']],
    ['  -i   "a b.mp4" ', ['-i', 'a b.mp4']],
    [`-vf 'scale=320:240,fps=25'`, ['-vf', 'scale=320:240,fps=25']],
    ['-i a"b c"d', ['-i', 'ab cd']],
    ['', []],
  ])('%j', (s, want) => {
    expect(splitArgs(s)).toEqual(want);
  });
});

/** `n` TS packets whose bytes say which packet they are (sync byte, then the index). */
function tsPackets(n: number): Buffer {
  const b = Buffer.alloc(188 * n);
  for (let i = 0; i < n; i++) {
    b[188 * i] = 0x47;
    b.writeUInt16BE(i, 188 * i + 1);
  }
  return b;
}

describe('LiveTsSource', () => {
  it('cuts whole TS packets, 7 per payload, stamps arrival time, and ends', async () => {
    const s = new LiveTsSource(1460, 1_000_000);
    expect(s.format.payloadType).toBe(33);
    expect(s.format.rtpmap).toBe('MP2T/90000');
    expect(s.sampleCount).toBe(Infinity);
    const first = await s.loadChunk(0);
    expect(first).toEqual([]); // exists before any data: a stream can start waiting on it
    const data = tsPackets(16);
    expect(s.append(data.subarray(0, 100), 0.5)).toBe(0); // less than one packet: kept
    expect(s.append(data.subarray(100), 1.0)).toBe(3); // 16 packets: 7 + 7 + 2
    expect(first.map((x) => x.payloads[0]!.payload.length)).toEqual([1316, 1316, 376]);
    expect(first.map((x) => [x.dtsSec, x.ptsSec, x.rtpTime])).toEqual([
      [1, 1, 90000],
      [1, 1, 90000],
      [1, 1, 90000],
    ]);
    expect(Buffer.concat(first.map((x) => x.payloads[0]!.payload))).toEqual(data);
    s.end();
    expect(s.sampleCount).toBe(3);
  });

  it('keeps every TS packet, in order, however the bytes arrive', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 40 }), (n, cuts) => {
        const s = new LiveTsSource(1460, 1_000_000);
        const data = tsPackets(n);
        let off = 0;
        for (const c of cuts) {
          if (off >= data.length) break;
          s.append(data.subarray(off, off + c), 0);
          off += c;
        }
        if (off < data.length) s.append(data.subarray(off), 0);
        s.end();
        const out: Buffer[] = [];
        for (let c = 0; c <= s.chunkOf(s.sampleCount - 1); c++) for (const x of s.peekChunk(c) ?? []) out.push(x.payloads[0]!.payload);
        expect(Buffer.concat(out)).toEqual(data);
        expect(out.every((p) => p.length % 188 === 0 && p.length <= 1316)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
