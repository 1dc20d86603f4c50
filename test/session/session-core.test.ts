/**
 * The session (RtspSession over a fake presentation) and the registry on the ManualClock: expiry (advertised timeout + grace, both
 * options), the state only moving through commit(), atomic admission, interleaved channel routing
 * in O(1), connection loss, and the typed events. No sockets carry data; net.Socket objects are
 * only identities here.
 */
import net from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Egress } from '../../src/transport/index.ts';
import type { TrackEgressRequest } from '../../src/server/egress-hook.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { RtspError } from '../../src/server/errors.ts';
import { SafeEmitter } from '../../src/server/events.ts';
import type { ServerEvents, SessionContext } from '../../src/server/session/context.ts';
import { SessionRegistry } from '../../src/server/session/registry.ts';
import { RtspSession } from '../../src/server/session/rtsp-session.ts';
import { FakePresentation, refusal, testSessionContext } from '../helpers/fake-presentation.ts';
import type { SessionKind } from '../../src/server/session/server-events.ts';
import type { SetupBase } from '../../src/server/session/presentation.ts';

/** A session over a fake presentation (which records the reason it was closed with). */
function newSession(id: string, kind: SessionKind, ctx: SessionContext): RtspSession<SetupBase, FakePresentation> {
  return new RtspSession<SetupBase, FakePresentation>(id, '127.0.0.1', ctx, () => new FakePresentation(kind));
}

const nullEgress: Egress = { kind: 'udp', dropped: 0, sendRtp: () => undefined, sendRtcp: () => undefined };

describe('session and registry', () => {
  let clock: ManualClock;
  let events: SafeEmitter<ServerEvents>;
  let registry: SessionRegistry;
  let ctx: SessionContext;
  let log: string[];
  let hooked: (TrackEgressRequest & { released: boolean })[];

  beforeEach(() => {
    hooked = [];
    clock = new ManualClock();
    events = new SafeEmitter<ServerEvents>();
    registry = new SessionRegistry(3, events, () => clock.now());
    log = [];
    events.on('session-started', (e) => log.push(`started ${e.id} ${e.kind}`));
    events.on('session-ended', (e) => log.push(`ended ${e.id} ${e.reason}`));
    events.on('session-closed', (e) => log.push(`closed ${e.id} ${e.reason}`));
    ctx = testSessionContext(clock, registry, events, (direct, t) => {
      const record = { ...t, released: false };
      hooked.push(record);
      return { egress: direct, release: () => (record.released = true) };
    });
  });

  it('every track egress comes from the one hook, with the session, track and impairment; all released at close', () => {
    const s = open('h');
    s.impairment = { config: { limit: 1000 }, seed: 9, text: 'loss 1%' };
    expect(s.trackEgress(nullEgress, 'trackID=1', 0)).toBe(nullEgress);
    s.trackEgress(nullEgress, 'trackID=2', 1);
    expect(hooked.map((h) => [h.sessionId, h.media, h.control, h.trackIndex, h.impairment?.seed, h.released])).toEqual([
      ['h', 'test.mp4', 'trackID=1', 0, 9, false],
      ['h', 'test.mp4', 'trackID=2', 1, 9, false],
    ]);
    s.close('teardown');
    expect(hooked.every((h) => h.released)).toBe(true);
  });

  const open = (id: string) => {
    const s = newSession(id, 'file', ctx);
    registry.add(s, registry.admit());
    return s;
  };

  it('expires after timeout + grace of silence; every touch restarts the count', () => {
    const s = open('a');
    // t=30 s: a request keeps it alive → it now expires at 30 + 65 = 95 s.
    clock.advance(30_000);
    s.touch();
    clock.advance(64_999);
    expect(s.isClosed).toBe(false);
    clock.advance(1);
    expect(s.presentation.closedWith).toBe('timeout');
    expect(ctx.counters.sessionsExpired).toBe(1);
    expect(log).toEqual(['started a file', 'ended a timeout', 'closed a timeout']);
    expect(registry.get('a')).toBeUndefined();
    // Closed: touching again arms nothing.
    s.touch();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a grace of 0 (ServerOptions.sessionTimeoutGraceSec) expires at the advertised timeout', () => {
    ctx.timeoutGraceSec = 0;
    const s = open('a');
    clock.advance(59_999);
    expect(s.isClosed).toBe(false);
    clock.advance(1);
    expect(s.isClosed).toBe(true);
  });

  it('the state moves only along the method table; refusals are 455 with Allow', () => {
    const s = open('a');
    expect(s.state).toBe('init');
    const e = refusal(() => s.check('PLAY'));
    expect([e.status, e.code, e.headers.Allow]).toEqual([455, 'SRV_ERR_STATE', 'SETUP, TEARDOWN, GET_PARAMETER, SET_PARAMETER']);
    s.commit('SETUP');
    s.commit('PLAY');
    expect(s.state).toBe('playing');
    expect(refusal(() => s.check('SETUP')).status).toBe(455);
    // Committing what the table refuses is a programmer error, not a state change.
    expect(() => s.commit('SETUP')).toThrow(/SETUP committed in state playing/);
    expect(s.state).toBe('playing');
    s.commit('PAUSE');
    expect(s.state).toBe('ready');
  });

  it('admission is held synchronously: concurrent SETUPs cannot exceed the limit', () => {
    // Three SETUPs in progress (each awaiting its file or ports) hold all three places.
    const held = [registry.admit(), registry.admit(), registry.admit()];
    const e = refusal(() => registry.admit());
    expect([e.status, e.code, e.headers['Retry-After']]).toEqual([453, 'SRV_ERR_CAPACITY', '10']);
    // One fails and gives its place back (twice is harmless); another takes it.
    held[0]!.release();
    held[0]!.release();
    expect(registry.occupied).toBe(2);
    const s = newSession('x', 'live-viewer', ctx);
    registry.add(s, registry.admit());
    expect(registry.occupied).toBe(3);
    expect(registry.size).toBe(1);
    expect(() => registry.admit()).toThrow(RtspError);
    s.close('teardown');
    expect(registry.occupied).toBe(2);
  });

  it('routes $ frames by (connection, channel) and refuses channels already taken on the connection', () => {
    const sock = new net.Socket();
    const other = new net.Socket();
    const a = open('a');
    const b = open('b');
    const got: string[] = [];
    const ta = a.bindInterleaved(sock, [0, 1], [{ channel: 1, handler: (d) => got.push(`a:${d.toString()}`) }]);
    expect(ta.interleaved).toEqual([0, 1]);
    expect(a.nextChannels()).toEqual([2, 3]);
    // b on the same connection cannot take channel 1; it gets the next pair.
    expect(refusal(() => b.bindInterleaved(sock, [1, 2], [])).code).toBe('SRV_ERR_CHANNEL_IN_USE');
    b.bindInterleaved(sock, [2, 3], [{ channel: 3, handler: (d) => got.push(`b:${d.toString()}`) }]);
    // One session, one connection.
    expect(refusal(() => a.bindInterleaved(other, [4, 5], [])).status).toBe(459);
    expect(registry.routeFrame(sock, 1, Buffer.from('x'))).toBe(true);
    expect(registry.routeFrame(sock, 3, Buffer.from('y'))).toBe(true);
    expect(registry.routeFrame(sock, 0, Buffer.from('z'))).toBe(false);
    expect(registry.routeFrame(other, 1, Buffer.from('z'))).toBe(false);
    expect(got).toEqual(['a:x', 'b:y']);
    // A closed session frees its channels at once.
    a.close('teardown');
    expect(registry.routeFrame(sock, 1, Buffer.from('x'))).toBe(false);
    expect(registry.channelTaken(sock, 1)).toBe(false);
  });

  it('closing a connection ends exactly the sessions bound to it', () => {
    const sock = new net.Socket();
    const a = open('a');
    const b = open('b');
    const c = open('c');
    a.bindInterleaved(sock, [0, 1], []);
    registry.bindSocket(sock, c);
    registry.connectionClosed(sock);
    expect([a.presentation.closedWith, b.presentation.closedWith, c.presentation.closedWith]).toEqual([
      'connection closed',
      undefined,
      'connection closed',
    ]);
    expect([...registry.values()].map((s) => s.id)).toEqual(['b']);
  });

  it('a session that never got registered (setup failed) ends silently', () => {
    const admission = registry.admit();
    const s = newSession('z', 'file', ctx);
    admission.release();
    s.close('setup failed');
    expect(log).toEqual([]);
    expect(registry.occupied).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('publishers are announced as session-started/-ended only (no legacy file events)', () => {
    const p = newSession('p', 'publisher', ctx);
    registry.add(p, registry.admit());
    p.close('teardown');
    expect(log).toEqual(['started p publisher', 'ended p teardown']);
  });
});
