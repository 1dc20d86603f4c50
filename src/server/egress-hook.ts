import { ImpairedEgress, ImpairmentGroup } from '../transport/index.ts';
import type { Egress, ImpairmentSpec, Scheduler } from '../transport/index.ts';
import type { Clock } from '../util/clock.ts';

/** One track of one session about to send: what an egress hook knows when it wraps its path. */
export interface TrackEgressRequest {
  sessionId: string;
  media: string;
  control: string;
  /** The track's index in its presentation (0-based): its impairment seeds differ per track. */
  trackIndex: number;
  /** The session's impairment (its URL's, the DESCRIBE's, or `--netem`), if any. */
  impairment: ImpairmentSpec | undefined;
  /**
   * Hands RTCP from this track's client to the session's RTCP handling, as if it had come on the
   * track's RTCP port or odd interleaved channel: for a hook whose egress is itself the path to
   * the client (the lab's simulated link in `--fast`, whose receiver runs in-process).
   */
  receiveRtcp(data: Buffer, from: string): void;
}

/** The egress a track's sender writes to, and what to call when the session lets it go. */
export interface TrackEgress {
  egress: Egress;
  release(): void;
}

/**
 * The one place between a session's senders and the network (ServerOptions.egress): it gets the
 * direct path to the client (UDP ports or interleaved channels) and returns what the track sends
 * through. File sessions and live viewers both go through it; the default applies the session's
 * impairment; the lab passes its own to keep the emulator (and its fate log) in hand.
 */
export type EgressHook = (direct: Egress, track: TrackEgressRequest) => TrackEgress;

/** Makes the server's egress hook from the server's clock and scheduler (ServerOptions.egress). */
export type EgressHookFactory = (clock: Clock, scheduler: Scheduler) => EgressHook;

/**
 * The default hook: the session's impairment, if any, as an ImpairedEgress released with the
 * session; the tracks of one session share their group (a shared bottleneck, when asked for).
 */
export const impairingEgressHook: EgressHookFactory = (clock, scheduler) => {
  const groups = new Map<string, { group: ImpairmentGroup; tracks: number }>();
  return (direct, t) => {
    if (!t.impairment) return { egress: direct, release: () => undefined };
    let g = groups.get(t.sessionId);
    if (!g || g.group.spec !== t.impairment) {
      g = { group: new ImpairmentGroup(t.impairment, clock, scheduler), tracks: 0 };
      groups.set(t.sessionId, g);
    }
    const entry = g;
    entry.tracks++;
    const egress = new ImpairedEgress(direct, t.impairment, clock, scheduler, t.trackIndex, entry.group);
    return {
      egress,
      release: () => {
        egress.close();
        if (--entry.tracks === 0 && groups.get(t.sessionId) === entry) groups.delete(t.sessionId);
      },
    };
  };
};
