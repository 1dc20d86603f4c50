/**
 * The end of a --fast run, defined as in real time: PAUSE, the emulators empty, the final RR
 * (with BYE) crosses a delayed return path to the server, then TEARDOWN. So RTCP's cumulative
 * lost equals what an exact RFC 3550 receiver reports for the ground truth, on every track, even
 * with packets still delayed at the end and a 30 ms return path (the final RR used to be cut off).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandRuns, parseExperimentText, runFast, trackResult } from '../../src/lab/index.ts';

describe('end of a --fast run', () => {
  it('nothing is left in flight, and the final RR reaches the server through a delayed return path', async () => {
    const e = parseExperimentText(
      JSON.stringify({
        name: 'end',
        media: path.resolve('media/sample.mp4'),
        durationSec: 3,
        seeds: [1, 2],
        quality: false,
        matrix: { netem: [{ rtp: 'delay 200ms 20ms loss 5%', return: 'delay 30ms' }] },
      }),
      'end.json',
      { mode: 'fast' },
    );
    for (const spec of expandRuns(e)) {
      const obs = await runFast(spec, undefined);
      for (const rx of obs.receivers) {
        const i = rx.track.index;
        const t = trackResult(rx, obs.fates[i] ?? [], obs.seq0[i], obs.reports[i] ?? [], { return: obs.returnFates?.[i] });
        expect(t.truth.lost, `seed ${spec.seed} track ${i}`).toBeGreaterThan(0);
        expect(t.truth.inFlight).toBe(0);
        // Every RR sent came back, the last one (the BYE's) included.
        expect(t.rtcpPaths?.return?.lost).toBe(0);
        expect(t.rtcp.receiverReports).toBe(t.rtcpPaths?.return?.sent);
        expect(t.rtcp.cumulativeLost).toBe(t.truth.window?.rfcLost);
        expect(t.rtcp.cumulativeLostError).toBe(0);
      }
    }
  });
});
