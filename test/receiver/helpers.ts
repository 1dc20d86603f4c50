/**
 * Running a PlaySession in a test: in-process, units counted per track (and kept when asked),
 * with short timeouts suited to fake servers.
 */
import { PlaySession } from '../../src/receiver/index.ts';
import type { PlayEnd, PlayOptions, ReceivedUnit } from '../../src/receiver/index.ts';

export interface PlayResult {
  end: PlayEnd;
  session: PlaySession;
  units: Record<number, number>;
  kept: ReceivedUnit[];
  wallMs: number;
}

export async function play(
  url: string,
  opts: Partial<PlayOptions> & { keep?: boolean; during?(s: PlaySession): void } = {},
): Promise<PlayResult> {
  const units: Record<number, number> = {};
  const kept: ReceivedUnit[] = [];
  const { keep, during, ...rest } = opts;
  const session = new PlaySession({
    url,
    transport: 'udp',
    udpFallbackMs: 0,
    jitter: { mode: 'adaptive', minDelayMs: 100 },
    waitKeyframe: false,
    idleTimeoutMs: 3000,
    responseTimeoutMs: 3000,
    ...rest,
    onUnit: (u) => {
      units[u.track] = (units[u.track] ?? 0) + 1;
      if (keep) kept.push(u);
      rest.onUnit?.(u);
    },
  });
  const t0 = performance.now();
  const running = session.run();
  during?.(session);
  const end = await running;
  return { end, session, units, kept, wallMs: performance.now() - t0 };
}
