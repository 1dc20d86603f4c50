/**
 * Keyboard control: space toggles PAUSE/PLAY (one request in flight at a time), q and Ctrl-C
 * stop; and a real session paused and resumed loses nothing to lateness (the jitter buffer
 * restarts its playout clock instead of dropping the resumed packets as late).
 */
import { describe, expect, it } from 'vitest';
import { keyboardHandler, trackStats } from '../../src/receiver/index.ts';
import type { KeyAction, PausableSession } from '../../src/receiver/index.ts';
import { startServer } from '../helpers/server.ts';
import { play } from './helpers.ts';

function fakeSession() {
  const calls: string[] = [];
  const pending: (() => void)[] = [];
  const s: PausableSession & { calls: string[]; settle(): Promise<void> } = {
    paused: false,
    calls,
    pause() {
      calls.push('PAUSE');
      (s as { paused: boolean }).paused = true;
      return new Promise<void>((r) => pending.push(r));
    },
    resume() {
      calls.push('PLAY');
      (s as { paused: boolean }).paused = false;
      return new Promise<void>((r) => pending.push(r));
    },
    stop() {
      calls.push('stop');
    },
    async settle() {
      for (const r of pending.splice(0)) r();
      await new Promise((r) => setTimeout(r, 0));
    },
  };
  return s;
}

describe('keyboardHandler', () => {
  it('space toggles pause and resume, ignoring presses while a request is in flight', async () => {
    const s = fakeSession();
    const actions: KeyAction[] = [];
    const onKey = keyboardHandler(s, { onAction: (a) => actions.push(a) });
    onKey(' ');
    onKey(' '); // PAUSE not answered yet: ignored
    await s.settle();
    onKey(Buffer.from(' '));
    await s.settle();
    onKey('x');
    expect(s.calls).toEqual(['PAUSE', 'PLAY']);
    expect(actions).toEqual(['pause', 'ignored', 'resume', 'ignored']);
  });

  it.each(['q', 'Q', '\x03'])('%j stops, and nothing after it in the same chunk runs', (key) => {
    const s = fakeSession();
    keyboardHandler(s)(`${key} `);
    expect(s.calls).toEqual(['stop']);
  });

  it('reports a failed PAUSE and lets the next space through', async () => {
    const s = fakeSession();
    const errors: unknown[] = [];
    s.pause = () => {
      s.calls.push('PAUSE');
      return Promise.reject(new Error('454 Session Not Found'));
    };
    const onKey = keyboardHandler(s, { onError: (e) => errors.push(e) });
    onKey(' ');
    await new Promise((r) => setTimeout(r, 0));
    onKey(' ');
    expect(errors).toHaveLength(1);
    expect(s.calls).toEqual(['PAUSE', 'PAUSE']);
  });
});

describe('pause and resume of a real session', () => {
  it('loses no frame across a 2.5 s pause', async () => {
    const { server, url } = await startServer();
    try {
      const r = await play(url(), {
        durationSec: 7,
        jitter: { mode: 'adaptive', minDelayMs: 500 },
        during: (s) => {
          const keys = keyboardHandler(s);
          setTimeout(() => keys(' '), 2000);
          setTimeout(() => keys(' '), 4500);
        },
      });
      expect(r.end).toEqual({ ok: true, reason: 'duration' });
      expect(r.session.requests.PAUSE).toBe(1);
      expect(r.session.requests.PLAY).toBe(2);
      for (const t of trackStats(r.session)) {
        expect(t).toMatchObject({ lost: 0, late: 0 });
        // The server may pause mid-frame and resume at a keyframe: at most that one unit is cut.
        expect(t.incompleteUnits).toBeLessThanOrEqual(1);
      }
      // 7 s of wall time less 2.5 s paused ≈ 4.5 s of media, less the buffer: ~100 frames.
      expect(r.units[0]).toBeGreaterThan(80);
      expect(r.units[0]).toBeLessThan(125);
    } finally {
      await server.close();
    }
  });
});
