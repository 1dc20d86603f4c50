/**
 * The one session state machine (RFC 2326 Appendix A, server side, plus RECORD): which method is
 * valid in which state and what follows, for file sessions, live viewers and publishers alike.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SESSION_STATES, transition } from '../../../src/server/session/method-table.ts';
import type { SessionMethod, SessionState } from '../../../src/server/session/method-table.ts';

const METHODS: SessionMethod[] = ['SETUP', 'PLAY', 'PAUSE', 'RECORD', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER'];

// Every (state, method) pair, written out independently of the table: undefined = 455.
const EXPECTED: Record<SessionState, Record<SessionMethod, SessionState | undefined>> = {
  init: {
    SETUP: 'ready',
    PLAY: undefined,
    PAUSE: undefined,
    RECORD: undefined,
    TEARDOWN: 'init',
    GET_PARAMETER: 'init',
    SET_PARAMETER: 'init',
  },
  ready: {
    SETUP: 'ready',
    PLAY: 'playing',
    PAUSE: 'ready',
    RECORD: 'recording',
    TEARDOWN: 'init',
    GET_PARAMETER: 'ready',
    SET_PARAMETER: 'ready',
  },
  playing: {
    SETUP: undefined,
    PLAY: 'playing',
    PAUSE: 'ready',
    RECORD: undefined,
    TEARDOWN: 'init',
    GET_PARAMETER: 'playing',
    SET_PARAMETER: 'playing',
  },
  recording: {
    SETUP: undefined,
    PLAY: undefined,
    PAUSE: 'recording',
    RECORD: 'recording',
    TEARDOWN: 'init',
    GET_PARAMETER: 'recording',
    SET_PARAMETER: 'recording',
  },
};

describe('method table', () => {
  const cases = SESSION_STATES.flatMap((state) => METHODS.map((method) => ({ state, method, next: EXPECTED[state][method] })));

  it('has exactly the four states', () => {
    expect([...SESSION_STATES].sort()).toEqual(['init', 'playing', 'ready', 'recording']);
  });

  it.each(cases)('$method in $state → $next', ({ state, method, next }) => {
    const t = transition(state, method);
    if (next === undefined) {
      expect(t.ok).toBe(false);
      // The refusal's Allow list is exactly the methods valid in that state.
      if (!t.ok) expect([...t.allowed].sort()).toEqual(METHODS.filter((m) => EXPECTED[state][m] !== undefined).sort());
    } else {
      expect(t).toEqual({ ok: true, next });
    }
  });

  it('refuses methods it does not know (OPTIONS, DESCRIBE, ANNOUNCE never reach a session)', () => {
    for (const state of SESSION_STATES) {
      for (const m of ['OPTIONS', 'DESCRIBE', 'ANNOUNCE', 'REDIRECT', 'FOO', '']) expect(transition(state, m).ok).toBe(false);
    }
  });

  it('any request sequence: SETUP only while idle, never straight between playing and recording, TEARDOWN always to init', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...METHODS), { maxLength: 40 }), (methods) => {
        let state: SessionState = 'init';
        for (const m of methods) {
          const t = transition(state, m);
          if (m === 'TEARDOWN') expect(t).toEqual({ ok: true, next: 'init' });
          if (m === 'SETUP') expect(t.ok).toBe(state === 'init' || state === 'ready');
          if (!t.ok) continue;
          const pair = `${state}>${t.next}`;
          expect(pair).not.toBe('playing>recording');
          expect(pair).not.toBe('recording>playing');
          state = t.next;
        }
      }),
    );
  });
});
