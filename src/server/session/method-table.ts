/**
 * The RTSP session state machine (RFC 2326 Appendix A, server side) for every kind of session:
 * file playback, live viewers and publishers share one state enum. This table is the only place
 * that says which method is valid in which state and what state follows; RtspSession.commit()
 * is the only writer of a session's state. Methods that need no session (OPTIONS, DESCRIBE,
 * ANNOUNCE, which creates a publisher in `init`) never reach it.
 */
export type SessionState = 'init' | 'ready' | 'playing' | 'recording';

export type SessionMethod = 'SETUP' | 'PLAY' | 'PAUSE' | 'RECORD' | 'TEARDOWN' | 'GET_PARAMETER' | 'SET_PARAMETER';

export type Transition = { ok: true; next: SessionState } | { ok: false; allowed: SessionMethod[] };

const TABLE: Record<SessionState, Partial<Record<SessionMethod, SessionState>>> = {
  init: { SETUP: 'ready', TEARDOWN: 'init', GET_PARAMETER: 'init', SET_PARAMETER: 'init' },
  ready: {
    SETUP: 'ready',
    PLAY: 'playing',
    PAUSE: 'ready',
    RECORD: 'recording',
    TEARDOWN: 'init',
    GET_PARAMETER: 'ready',
    SET_PARAMETER: 'ready',
  },
  // No SETUP while playing or recording: adding a track to a running session is not supported (455).
  playing: { PLAY: 'playing', PAUSE: 'ready', TEARDOWN: 'init', GET_PARAMETER: 'playing', SET_PARAMETER: 'playing' },
  // GStreamer's rtspclientsink PAUSEs before its TEARDOWN: the publisher keeps recording until it leaves.
  recording: { RECORD: 'recording', PAUSE: 'recording', TEARDOWN: 'init', GET_PARAMETER: 'recording', SET_PARAMETER: 'recording' },
};

export const SESSION_STATES = Object.keys(TABLE) as SessionState[];

export function transition(state: SessionState, method: string): Transition {
  const next = TABLE[state][method as SessionMethod];
  return next ? { ok: true, next } : { ok: false, allowed: Object.keys(TABLE[state]) as SessionMethod[] };
}

/** The methods valid in `state`, in the table's order (the Allow of a 455). */
export function methodsAllowedIn(state: SessionState): SessionMethod[] {
  return Object.keys(TABLE[state]) as SessionMethod[];
}
