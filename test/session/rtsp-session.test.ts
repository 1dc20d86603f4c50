/**
 * The one session class (RtspSession) over a fake presentation, on the ManualClock: method validity
 * per state and per kind of presentation (455 + Allow), expiry with the grace as an option, close
 * (presentation first, then UDP ports and track egresses), registry removal, and the one request
 * path for PLAY/PAUSE/TEARDOWN/GET_PARAMETER byte for byte. No sockets carry anything.
 */
import net from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { createRequest, serializeResponse } from '../../src/rtsp/index.ts';
import type { RtspResponse, TransportSpec } from '../../src/rtsp/index.ts';
import { RtspError } from '../../src/server/errors.ts';
import { SafeEmitter } from '../../src/server/events.ts';
import type { ServerEvents, SessionContext } from '../../src/server/session/context.ts';
import type { SetupBase } from '../../src/server/session/presentation.ts';
import { SessionRegistry } from '../../src/server/session/registry.ts';
import type { HandlerContext } from '../../src/server/session/request-context.ts';
import { RtspSession } from '../../src/server/session/rtsp-session.ts';
import type { SessionKind } from '../../src/server/session/server-events.ts';
import { handleSessionRequest } from '../../src/server/session/session-requests.ts';
import type { Egress, UdpPortPair } from '../../src/transport/index.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { FakePresentation, refusal, testSessionContext } from '../helpers/fake-presentation.ts';

type Session = RtspSession<SetupBase, FakePresentation>;

const udpTransport: TransportSpec = {
  protocol: 'RTP',
  profile: 'AVP',
  lowerTransport: 'UDP',
  delivery: 'unicast',
  clientPort: [5000, 5001],
  unknownParams: [],
};

const nullEgress: Egress = { kind: 'udp', dropped: 0, sendRtp: () => undefined, sendRtcp: () => undefined };

async function refusalOf(p: Promise<unknown>): Promise<RtspError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RtspError) return err;
    throw err;
  }
  throw new Error('expected an RtspError');
}

/** The response as it goes on the wire (the handlers add CSeq, Server and Date later, in one place). */
const wire = (res: RtspResponse) => serializeResponse(res).toString('latin1');

describe('RtspSession over a presentation', () => {
  let clock: ManualClock;
  let registry: SessionRegistry;
  let ctx: SessionContext;
  let events: string[];
  let order: string[];

  beforeEach(() => {
    clock = new ManualClock();
    const emitter = new SafeEmitter<ServerEvents>();
    registry = new SessionRegistry(10, emitter, () => clock.now());
    events = [];
    order = [];
    emitter.on('session-started', (e) => events.push(`started ${e.kind} ${e.media}`));
    emitter.on('stream-started', (e) => events.push(`stream ${e.kind} ${e.media}`));
    emitter.on('session-ended', (e) => events.push(`ended ${e.kind} ${e.reason}`));
    ctx = testSessionContext(clock, registry, emitter, (direct, t) => ({
      egress: direct,
      release: () => order.push(`egress ${t.control} released`),
    }));
    ctx.timeoutSec = 30;
  });

  function open(id: string, kind: SessionKind = 'file'): Session {
    const s = new RtspSession<SetupBase, FakePresentation>(id, '127.0.0.1', ctx, () => new FakePresentation(kind));
    registry.add(s, registry.admit());
    return s;
  }

  function handlerContext(): HandlerContext {
    return {
      catalog: undefined as never,
      sessionContext: ctx,
      clientIp: '127.0.0.1',
      localIp: '127.0.0.1',
      socket: new net.Socket(),
      serverName: 'test',
      defaultImpairment: undefined,
      describedImpairments: new Map(),
    };
  }

  describe('method validity per state (455 + Allow)', () => {
    it('a player: PLAY only once set up, no SETUP while playing, never RECORD', () => {
      const s = open('a');
      let e = refusal(() => s.check('PLAY'));
      expect([e.status, e.code, e.headers.Allow]).toEqual([455, 'SRV_ERR_STATE', 'SETUP, TEARDOWN, GET_PARAMETER, SET_PARAMETER']);
      s.commit('SETUP');
      // RECORD is valid in `ready` by the table, but a player does not record.
      e = refusal(() => s.check('RECORD'));
      expect([e.status, e.headers.Allow]).toEqual([455, 'SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER']);
      s.check('PLAY');
      s.commit('PLAY');
      e = refusal(() => s.check('SETUP'));
      expect(e.headers.Allow).toBe('PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER');
      expect(s.state).toBe('playing');
    });

    it('a record target: RECORD once set up, never PLAY', () => {
      const s = open('p', 'publisher');
      s.commit('SETUP');
      const e = refusal(() => s.check('PLAY'));
      expect([e.status, e.headers.Allow]).toEqual([455, 'SETUP, PAUSE, RECORD, TEARDOWN, GET_PARAMETER, SET_PARAMETER']);
      s.check('RECORD');
      s.commit('RECORD');
      // PAUSE keeps recording (rtspclientsink pauses before its TEARDOWN).
      s.check('PAUSE');
      s.commit('PAUSE');
      expect(s.state).toBe('recording');
      expect(refusal(() => s.check('SETUP')).headers.Allow).toBe('RECORD, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER');
    });

    it('a track set up twice is 455; the first setup stays', async () => {
      const s = open('a');
      const first = await s.addSetup('trackID=1', () => ({ transport: udpTransport }));
      const e = await refusalOf(s.addSetup('trackID=1', () => ({ transport: first.transport })));
      expect([e.status, e.code]).toEqual([455, 'SRV_ERR_ALREADY_SETUP']);
      expect(s.setups.get('trackID=1')).toBe(first);
    });
  });

  it('expires timeout + grace after the last touch (the grace an option): presentation closed, out of the registry', () => {
    ctx.timeoutGraceSec = 2;
    const s = open('a');
    clock.advance(20_000);
    s.touch();
    clock.advance(31_999);
    expect(s.isClosed).toBe(false);
    clock.advance(1);
    expect([s.isClosed, s.presentation.closedWith, registry.get('a')]).toEqual([true, 'timeout', undefined]);
    expect(events).toEqual(['started file test.mp4', 'ended file timeout']);
  });

  describe('close', () => {
    it('closes the presentation first (its BYEs), then the UDP ports and the track egresses, once', async () => {
      const s = open('a');
      s.trackEgress(nullEgress, 'trackID=1', 0);
      s.trackEgress(nullEgress, 'trackID=2', 1);
      const pair = { close: () => order.push('udp closed') } as unknown as UdpPortPair;
      await s.addSetup('trackID=1', () => ({ transport: udpTransport, udp: pair }));
      const realClose = s.presentation.close.bind(s.presentation);
      s.presentation.close = (reason) => {
        order.push(`presentation closed (${reason})`);
        realClose(reason);
      };
      s.close('teardown');
      s.close('timeout');
      // UDP sockets close on the next turn, after the BYE queued on them went out.
      expect(order).toEqual(['presentation closed (teardown)', 'egress trackID=1 released', 'egress trackID=2 released']);
      await new Promise((r) => setImmediate(r));
      expect(order.at(-1)).toBe('udp closed');
      expect(events).toEqual(['started file test.mp4', 'ended file teardown']);
      expect(registry.size).toBe(0);
    });
  });

  describe('the one request path (PLAY, PAUSE, TEARDOWN, GET_PARAMETER)', () => {
    const req = (method: string, session?: string) =>
      createRequest(method, 'rtsp://127.0.0.1/test.mp4', session ? { CSeq: '3', Session: session } : { CSeq: '3' });

    it('PLAY asks the presentation, answers Range, RTP-Info and Session, commits, and begins after the response', async () => {
      const s = open('abc');
      s.commit('SETUP');
      const r = await handleSessionRequest(req('PLAY', 'abc'), handlerContext());
      expect(wire(r.response)).toBe(
        'RTSP/1.0 200 OK\r\nRange: npt=0-\r\nRTP-Info: url=rtsp://127.0.0.1/test.mp4/trackID=1;seq=7;rtptime=9000\r\nSession: abc;timeout=30\r\n\r\n',
      );
      expect(s.state).toBe('playing');
      expect(s.presentation.calls).toEqual(['play']);
      r.after?.();
      expect(s.presentation.calls).toEqual(['play', 'begin']);
      expect(events).toContain('stream file test.mp4');
    });

    it('PLAY that changes nothing: no begin, no stream-started; extra headers after RTP-Info', async () => {
      const s = open('abc');
      s.commit('SETUP');
      s.presentation.answer = { range: 'npt=1-2', aggregateUrl: 'rtsp://h/x', rtpInfo: [], extra: [['Scale', '2']] };
      const r = await handleSessionRequest(req('PLAY', 'abc'), handlerContext());
      expect(wire(r.response)).toBe('RTSP/1.0 200 OK\r\nRange: npt=1-2\r\nRTP-Info: \r\nScale: 2\r\nSession: abc;timeout=30\r\n\r\n');
      expect(r.after).toBeUndefined();
      expect(events.some((e) => e.startsWith('stream'))).toBe(false);
    });

    it('PAUSE answers the presentation Range (none for a record target) and the Session', async () => {
      const s = open('abc');
      s.commit('SETUP');
      s.commit('PLAY');
      const r = await handleSessionRequest(req('PAUSE', 'abc'), handlerContext());
      expect(wire(r.response)).toBe('RTSP/1.0 200 OK\r\nRange: npt=3-\r\nSession: abc;timeout=30\r\n\r\n');
      expect(s.state).toBe('ready');
      const p = open('pub', 'publisher');
      p.commit('SETUP');
      p.commit('RECORD');
      const rp = await handleSessionRequest(req('PAUSE', 'pub'), handlerContext());
      expect(wire(rp.response)).toBe('RTSP/1.0 200 OK\r\nSession: pub;timeout=30\r\n\r\n');
      expect(p.state).toBe('recording');
    });

    it('refusals: no Session header 455, unknown or closed session 454, a method the state refuses 455 + Allow', async () => {
      const c = handlerContext();
      expect((await refusalOf(handleSessionRequest(req('PLAY'), c))).code).toBe('SRV_ERR_NO_SESSION');
      expect((await refusalOf(handleSessionRequest(req('PLAY', 'nope'), c))).status).toBe(454);
      expect((await refusalOf(handleSessionRequest(req('GET_PARAMETER', 'nope'), c))).status).toBe(454);
      const s = open('abc');
      const e = await refusalOf(handleSessionRequest(req('PLAY', 'abc'), c));
      expect([e.status, e.headers.Allow]).toEqual([455, 'SETUP, TEARDOWN, GET_PARAMETER, SET_PARAMETER']);
      const p = open('pub', 'publisher');
      p.commit('SETUP');
      expect((await refusalOf(handleSessionRequest(req('PLAY', 'pub'), c))).status).toBe(455);
      expect(p.presentation.calls).toEqual([]);
      s.close('teardown');
      expect((await refusalOf(handleSessionRequest(req('PAUSE', 'abc'), c))).status).toBe(454);
    });

    it('GET_PARAMETER keeps the session alive and names it; TEARDOWN closes it and takes it out of the registry', async () => {
      const s = open('abc');
      clock.advance(30_000);
      const r = await handleSessionRequest(req('GET_PARAMETER', 'abc'), handlerContext());
      expect(wire(r.response)).toBe('RTSP/1.0 200 OK\r\nSession: abc;timeout=30\r\n\r\n');
      clock.advance(34_999);
      expect(s.isClosed).toBe(false);
      const t = await handleSessionRequest(req('TEARDOWN', 'abc'), handlerContext());
      expect(wire(t.response)).toBe('RTSP/1.0 200 OK\r\n\r\n');
      expect(s.presentation.closedWith).toBe('teardown');
      expect(registry.get('abc')).toBeUndefined();
      expect(events.at(-1)).toBe('ended file teardown');
    });
  });
});
