/**
 * Keyboard control of a playing session when stdin is a terminal in raw mode: space toggles
 * PAUSE / PLAY, `q` and Ctrl-C stop (raw mode turns Ctrl-C into a byte instead of SIGINT).
 * Pure: the CLI feeds it stdin's chunks; tests feed it strings.
 */

/** What the handler needs of a session (PlaySession fits). */
export interface PausableSession {
  readonly paused: boolean;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): void;
}

export type KeyAction = 'pause' | 'resume' | 'stop' | 'ignored';

/**
 * Returns the stdin listener. Toggles are serialized: a space pressed while a PAUSE or PLAY is
 * still in flight is ignored, so the server never sees two of them crossed. `onAction` hears what
 * each key did (for a status message); `onError` gets a failed PAUSE/PLAY.
 */
export function keyboardHandler(
  session: PausableSession,
  hooks: { onAction?(action: KeyAction): void; onError?(err: unknown): void } = {},
): (chunk: Buffer | string) => void {
  let busy = false;
  return (chunk) => {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    for (const ch of text) {
      let action: KeyAction = 'ignored';
      if (ch === '\x03' || ch === 'q' || ch === 'Q') {
        action = 'stop';
        session.stop();
      } else if (ch === ' ' && !busy) {
        action = session.paused ? 'resume' : 'pause';
        busy = true;
        const op = action === 'pause' ? session.pause() : session.resume();
        op.catch((err: unknown) => hooks.onError?.(err)).finally(() => {
          busy = false;
        });
      }
      hooks.onAction?.(action);
      if (action === 'stop') return;
    }
  };
}
