/**
 * DESCRIBE's answer for a file is kept per open entry and handed out again while what it is made
 * of stays the same (describe.ts): it must always be the answer a fresh build gives, whatever
 * order the origins come in, and an entry being written (a running preparation's output) is never
 * answered from what it was before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeSdp, rtspSdp } from '../../src/server/describe.ts';
import { openMediaEntry } from '../../src/server/media-catalog.ts';
import type { MediaEntry } from '../../src/server/media-catalog.ts';
import { ChunkCache } from '../../src/sender/packetized-track.ts';
import type { TrackGrowth } from '../../src/sender/packetized-track.ts';
import { SAMPLE } from '../helpers/server.ts';

type Origin = { localIp: string; serverName: string; sessionId?: string };

/** What describeSdp answered before it kept anything. */
function fresh(entry: MediaEntry, o: Origin): string {
  const range = entry.growth?.growing ? 'npt=0-' : `npt=0-${entry.durationSec.toFixed(3)}`;
  return rtspSdp(
    entry.relPath,
    range,
    entry.tracks.map((t) => ({ control: t.control, format: t.source.format })),
    o,
  );
}

describe('describeSdp kept per entry', () => {
  let entry: MediaEntry;

  beforeAll(async () => {
    entry = await openMediaEntry(SAMPLE, 'sample.mp4', 1400, new ChunkCache());
  });

  afterAll(async () => {
    await entry.file.close();
  });

  it('is the fresh answer for every origin, asked in any order and again', () => {
    const a: Origin = { localIp: '127.0.0.1', serverName: 'streamlab', sessionId: '3900000000' };
    const origins: Origin[] = [
      a,
      a,
      { ...a, sessionId: '3900000001' },
      a,
      { ...a, localIp: '::1' },
      { ...a, serverName: 'other' },
      { localIp: '127.0.0.1', serverName: 'streamlab' },
      a,
    ];
    for (const o of origins) expect(describeSdp(entry, o)).toBe(fresh(entry, o));
    expect(describeSdp(entry, a)).toContain('o=- 3900000000 1 IN IP4 127.0.0.1');
    expect(describeSdp(entry, { ...a, sessionId: '3900000001' })).toContain('o=- 3900000001 1 IN IP4 127.0.0.1');
  });

  it('another entry of the same file gets its own answer (its name)', () => {
    const o: Origin = { localIp: '127.0.0.1', serverName: 'streamlab', sessionId: '1' };
    const other: MediaEntry = { ...entry, relPath: 'latest.mp4' };
    expect(describeSdp(entry, o)).toContain('s=sample.mp4');
    expect(describeSdp(other, o)).toContain('s=latest.mp4');
    expect(describeSdp(entry, o)).toContain('s=sample.mp4');
  });

  it('an entry being written is answered as it is now: range open while growing, then its duration at each DESCRIBE', () => {
    const o: Origin = { localIp: '127.0.0.1', serverName: 'streamlab', sessionId: '1' };
    const growth: { growing: boolean } & TrackGrowth = { growing: true, onChange: () => () => undefined };
    const growingEntry: MediaEntry = { ...entry, durationSec: 4, growth };
    expect(describeSdp(growingEntry, o)).toContain('a=range:npt=0-\r\n');
    growingEntry.durationSec = 7.5;
    growth.growing = false;
    expect(describeSdp(growingEntry, o)).toContain('a=range:npt=0-7.500\r\n');
    growingEntry.durationSec = 9.25;
    expect(describeSdp(growingEntry, o)).toContain('a=range:npt=0-9.250\r\n');
    expect(describeSdp(growingEntry, o)).toBe(fresh(growingEntry, o));
  });
});
