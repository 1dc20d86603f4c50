/**
 * Waiting in integration tests: poll a condition with a deadline (the failure names what was
 * awaited), and plain sleeps. Deadlines are generous: the machine is shared and noisy.
 */

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `pred()` is true; rejects after `timeoutMs` with `what` in the message. */
export async function waitUntil(pred: () => boolean, timeoutMs: number, what: string | (() => string), intervalMs = 20): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (pred()) return;
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    }
    await sleep(intervalMs);
  }
}
