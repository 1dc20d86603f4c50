import type { TransportSpec } from '../../rtsp/index.ts';
import { RtspError, notFound } from '../errors.ts';
import type { SessionRegistry } from './registry.ts';
import type { RtspSession } from './rtsp-session.ts';

/**
 * The life of a play SETUP, the same for a file and a live channel: in an existing session (state
 * checked, kept alive, same presentation or 459) or in a new one, admitted before anything is
 * awaited; registered only once its first track is set up, closed again when that fails; the
 * state committed last.
 */
export async function setupInSession<S extends RtspSession>(
  registry: SessionRegistry,
  existing: S | undefined,
  flow: {
    /** Whether a SETUP URL names the presentation `s` plays. */
    samePresentation(s: S): boolean;
    /** A new session (may await: opening the file). */
    create(): Promise<S>;
    /** Sets up the requested track in `s` and returns the Transport answer. */
    addTrack(s: S): Promise<TransportSpec>;
  },
): Promise<{ session: S; transport: TransportSpec }> {
  let admission: ReturnType<SessionRegistry['admit']> | undefined;
  let session: S;
  if (existing) {
    session = existing;
    session.check('SETUP');
    session.touch();
    if (!flow.samePresentation(session)) throw new RtspError(459, 'SRV_ERR_AGGREGATE', 'a session plays one presentation');
  } else {
    admission = registry.admit();
    try {
      session = await flow.create();
    } catch (err) {
      admission.release();
      throw err;
    }
  }
  try {
    const transport = await flow.addTrack(session);
    if (admission) registry.add(session, admission);
    session.commit('SETUP');
    return { session, transport };
  } catch (err) {
    if (admission) {
      admission.release();
      session.close('setup failed');
    }
    throw err;
  }
}

/** The track a SETUP URL names (404 when unknown), or on the aggregate URL the next one not set up (459 when none). */
export function pickTrack<T extends { control: string }>(
  tracks: readonly T[],
  control: string | undefined,
  isSetUp: (control: string) => boolean,
  where: string,
): T {
  if (control) {
    const track = tracks.find((x) => x.control === control);
    if (!track) throw notFound(`no ${control} in ${where}`);
    return track;
  }
  // SETUP on the aggregate URL: the next track not set up yet (clients of single-track media do this).
  const track = tracks.find((x) => !isSetUp(x.control));
  if (!track) throw new RtspError(459, 'SRV_ERR_AGGREGATE', 'every track is already set up');
  return track;
}
