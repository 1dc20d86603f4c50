/**
 * The RTSP session state machine of RFC 2326 Appendix A (server side), as a pure function.
 * Methods that need no session (OPTIONS, DESCRIBE) never reach it.
 */
export type SessionState = 'init' | 'ready' | 'playing';

export type Transition = { ok: true; next: SessionState } | { ok: false; allowed: string[] };

const TABLE: Record<SessionState, Record<string, SessionState>> = {
  init: { SETUP: 'ready', TEARDOWN: 'init', GET_PARAMETER: 'init', SET_PARAMETER: 'init' },
  ready: {
    SETUP: 'ready',
    PLAY: 'playing',
    PAUSE: 'ready',
    TEARDOWN: 'init',
    GET_PARAMETER: 'ready',
    SET_PARAMETER: 'ready',
  },
  playing: {
    SETUP: 'playing',
    PLAY: 'playing',
    PAUSE: 'ready',
    TEARDOWN: 'init',
    GET_PARAMETER: 'playing',
    SET_PARAMETER: 'playing',
  },
};

export function transition(state: SessionState, method: string): Transition {
  const next = TABLE[state][method];
  return next ? { ok: true, next } : { ok: false, allowed: Object.keys(TABLE[state]) };
}
