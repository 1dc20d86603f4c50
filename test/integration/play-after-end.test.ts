/**
 * A PLAY after the end of stream: the first run ends with SR + BYE per track; the second PLAY
 * brings each track back under a NEW SSRC (the old one left the session with its BYE, RFC 3550
 * §6.6), with sender-report counts that restart with it (§6.4.1), continuous sequence numbers as
 * RTP-Info says, and a BYE of its own at the new end. Checked with our own client over TCP (no
 * loss), so every SR count can be compared with the packets that arrived.
 */
import { describe, expect, it } from 'vitest';
import type { RtcpPacket } from '../../src/rtcp/index.ts';
import { RtspTestClient } from '../helpers/rtsp-client.ts';
import type { ClientTrack } from '../helpers/rtsp-client.ts';
import { serverForSuite } from '../helpers/server-fixture.ts';
import { waitUntil } from '../helpers/wait.ts';

type Bye = Extract<RtcpPacket, { type: 'bye' }>;
type Sr = Extract<RtcpPacket, { type: 'sr' }>;

describe('PLAY again after the end of stream', () => {
  const { url } = serverForSuite();

  const byes = (t: ClientTrack) => t.rtcp.filter((p): p is Bye => p.type === 'bye');
  /** The SR sent just before the n-th BYE (same compound). */
  const srBeforeBye = (t: ClientTrack, n: number): Sr => {
    let seen = 0;
    let last: Sr | undefined;
    for (const p of t.rtcp) {
      if (p.type === 'sr') last = p;
      if (p.type === 'bye' && seen++ === n) return last!;
    }
    throw new Error(`no BYE #${n}`);
  };

  it('comes back under a new SSRC with fresh SR counts, and ends with its own BYE', async () => {
    const client = await RtspTestClient.connect(url());
    try {
      const base = (await client.describe(url())).response.headers.get('Content-Base')!;
      const tracks = [(await client.setup(`${base}trackID=1`, 'tcp')).track, (await client.setup(`${base}trackID=2`, 'tcp')).track];
      await client.play(url(), 'npt=19-');
      await waitUntil(() => tracks.every((t) => byes(t).length === 1), 10_000, 'first BYE on both tracks');
      const firstRun = tracks.map((t) => t.rtp.length);
      const second = await client.play(url(), 'npt=18.5-');
      await waitUntil(() => tracks.every((t) => byes(t).length === 2), 10_000, 'second BYE on both tracks');
      tracks.forEach((t, i) => {
        const before = t.rtp.slice(0, firstRun[i]);
        const after = t.rtp.slice(firstRun[i]);
        const [oldSsrc, newSsrc] = [before[0]!.ssrc, after[0]!.ssrc];
        expect(new Set(before.map((p) => p.ssrc))).toEqual(new Set([oldSsrc]));
        expect(new Set(after.map((p) => p.ssrc))).toEqual(new Set([newSsrc]));
        expect(newSsrc).not.toBe(oldSsrc);
        expect(byes(t).map((b) => b.ssrcs)).toEqual([[oldSsrc], [newSsrc]]);
        // Each BYE's SR counts the packets of its own SSRC only.
        expect(srBeforeBye(t, 0)).toMatchObject({ ssrc: oldSsrc, senderInfo: { packetCount: before.length } });
        expect(srBeforeBye(t, 1)).toMatchObject({ ssrc: newSsrc, senderInfo: { packetCount: after.length } });
        // Sequence numbers continue, and the second RTP-Info announced the first new one.
        expect(after[0]!.seq).toBe((before.at(-1)!.seq + 1) & 0xffff);
        expect(second.rtpInfo.find((x) => x.url.endsWith(`trackID=${i + 1}`))?.seq).toBe(after[0]!.seq);
      });
    } finally {
      client.close();
    }
  });
});
