import type { TransportSpec } from '../../src/rtsp/index.ts';
import { Scheduler } from '../../src/transport/index.ts';
import type { EgressHook } from '../../src/server/egress-hook.ts';
import { RtspError } from '../../src/server/errors.ts';
import type { SafeEmitter } from '../../src/server/events.ts';
import type { ServerEvents, SessionContext } from '../../src/server/session/context.ts';
import type { PlayAnswer, PresentationTraffic, Presentation } from '../../src/server/session/presentation.ts';
import type { SessionRegistry } from '../../src/server/session/registry.ts';
import type { ManualClock } from '../../src/util/clock.ts';
import { seededRandom } from '../../src/util/random.ts';
import type { SessionMethod } from '../../src/server/session/method-table.ts';
import type { SessionKind } from '../../src/server/session/server-events.ts';

const PLAY_METHODS: readonly SessionMethod[] = ['SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER'];
const RECORD_METHODS: readonly SessionMethod[] = ['SETUP', 'PAUSE', 'RECORD', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER'];

/**
 * A presentation that plays nothing and records what the session asked of it: for tests of the
 * one session class (state machine, expiry, close, the one request path) without media or sockets.
 */
export class FakePresentation implements Presentation {
  readonly methods: readonly SessionMethod[];
  readonly calls: string[] = [];
  closedWith: string | undefined;
  /** What the next PLAY answers. */
  answer: PlayAnswer = {
    range: 'npt=0-',
    aggregateUrl: 'rtsp://127.0.0.1/test.mp4',
    rtpInfo: [{ control: 'trackID=1', ssrc: 0x1234, seq: 7, rtptime: 9000 }],
    begin: () => this.calls.push('begin'),
  };

  constructor(
    readonly kind: SessionKind,
    readonly media = 'test.mp4',
  ) {
    this.methods = kind === 'publisher' ? RECORD_METHODS : PLAY_METHODS;
  }

  traffic(): PresentationTraffic {
    return { packetsSent: 0, bytesSent: 0, lastReports: [] };
  }

  /** SETUP: answers the transport it was given. */
  async setupTrack(control: string | undefined, spec: TransportSpec): Promise<TransportSpec> {
    this.calls.push(`setup ${control ?? '*'}`);
    return spec;
  }

  async play(): Promise<PlayAnswer> {
    this.calls.push('play');
    return this.answer;
  }

  pause(): string | undefined {
    this.calls.push('pause');
    return this.kind === 'publisher' ? undefined : 'npt=3-';
  }

  record(): void {
    this.calls.push('record');
  }

  close(reason: string): void {
    this.calls.push(`close ${reason}`);
    this.closedWith = reason;
  }
}

/** The RtspError `fn` throws (fails the test when it throws nothing or something else). */
export function refusal(fn: () => unknown): RtspError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RtspError) return err;
    throw err;
  }
  throw new Error('expected an RtspError');
}

/** What sessions share, on `clock`, for tests without sockets: timeout 60 s + 5 s grace, seeded randomness. */
export function testSessionContext(
  clock: ManualClock,
  registry: SessionRegistry,
  events: SafeEmitter<ServerEvents>,
  trackEgress: EgressHook,
): SessionContext {
  return {
    clock,
    random: seededRandom(1),
    scheduler: new Scheduler(clock),
    events,
    host: '127.0.0.1',
    rtpPortRange: { min: 40000, max: 40100 },
    timeoutSec: 60,
    timeoutGraceSec: 5,
    cname: 'test',
    counters: { rtcpMalformed: 0, natKeepAlives: 0, rtcpReceived: 0, sessionsExpired: 0, fanoutHeld: 0, fanoutOverflows: 0 },
    registry,
    trackEgress,
    releaseEntry: () => undefined,
  };
}
