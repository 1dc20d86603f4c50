/**
 * DESCRIBE and SETUP run one path whatever the presentation (file, live view, record target):
 * the source chosen once per request answers DESCRIBE, chooses the transport, finds or opens the
 * session; the session's presentation sets up the track. Here over a fake source and presentation
 * on the ManualClock, no sockets.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createRequest } from '../../src/rtsp/index.ts';
import type { RtspRequest, TransportSpec } from '../../src/rtsp/index.ts';
import { RtspError } from '../../src/server/errors.ts';
import { SafeEmitter } from '../../src/server/events.ts';
import type { ServerEvents, SessionContext } from '../../src/server/session/context.ts';
import { describePresentation, setupPresentation } from '../../src/server/session/presentation-requests.ts';
import type { PresentationSource, SdpOrigin } from '../../src/server/session/presentation-requests.ts';
import type { SetupBase } from '../../src/server/session/presentation.ts';
import { SessionRegistry } from '../../src/server/session/registry.ts';
import type { HandlerContext } from '../../src/server/session/request-context.ts';
import { RtspSession } from '../../src/server/session/rtsp-session.ts';
import { findSession } from '../../src/server/session/session-requests.ts';
import { chooseUnicast } from '../../src/server/session/transport-negotiation.ts';
import { duplexPair } from '../../src/transport/index.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { FakePresentation, testSessionContext } from '../helpers/fake-presentation.ts';

const TCP = 'RTP/AVP/TCP;unicast;interleaved=0-1';

class FakeSource implements PresentationSource {
  readonly aggregateUrl = 'rtsp://127.0.0.1/test.mp4';
  readonly impairment = { config: { limit: 1000 }, seed: 3, text: 'loss 1%' };
  opened: RtspSession<SetupBase, FakePresentation>[] = [];
  origins: SdpOrigin[] = [];
  constructor(
    readonly media: string,
    readonly control: string | undefined,
  ) {}
  async describe(origin: SdpOrigin): Promise<string> {
    this.origins.push(origin);
    return 'v=0\r\n';
  }
  chooseTransport(specs: TransportSpec[], clientIp: string): TransportSpec {
    return chooseUnicast(specs, clientIp);
  }
  existing(req: RtspRequest, ctx: HandlerContext): RtspSession | undefined {
    return findSession(req, ctx);
  }
  plays(s: RtspSession): boolean {
    return s.media === this.media;
  }
  async open(ctx: HandlerContext): Promise<RtspSession> {
    const s = new RtspSession<SetupBase, FakePresentation>(
      `s${this.opened.length + 1}`,
      ctx.clientIp,
      ctx.sessionContext,
      () => new FakePresentation('file', this.media),
    );
    this.opened.push(s);
    return s;
  }
}

describe('the one DESCRIBE and SETUP path', () => {
  let ctx: SessionContext;
  let hctx: HandlerContext;
  let registry: SessionRegistry;

  beforeEach(() => {
    const clock = new ManualClock();
    const events = new SafeEmitter<ServerEvents>();
    registry = new SessionRegistry(1, events, () => clock.now());
    ctx = testSessionContext(clock, registry, events, (direct) => ({ egress: direct, release: () => undefined }));
    hctx = {
      catalog: undefined as never,
      sessionContext: ctx,
      clientIp: '127.0.0.1',
      localIp: '127.0.0.1',
      socket: duplexPair()[0],
      serverName: 'test',
      defaultImpairment: undefined,
      describedImpairments: new Map(),
    };
  });

  const req = (method: string, uri: string, headers: Record<string, string> = {}) => createRequest(method, uri, { CSeq: '1', ...headers });

  it('DESCRIBE: the SDP with Content-Base; the URL impairment remembered by the media name; a track URL is 404, another Accept 406', async () => {
    const source = new FakeSource('test.mp4', undefined);
    const r = await describePresentation(req('DESCRIBE', 'rtsp://127.0.0.1/test.mp4'), hctx, source);
    expect([
      r.response.statusCode,
      r.response.headers.get('Content-Type'),
      r.response.headers.get('Content-Base'),
      r.response.body.toString(),
    ]).toEqual([200, 'application/sdp', 'rtsp://127.0.0.1/test.mp4/', 'v=0\r\n']);
    expect(source.origins).toEqual([
      { localIp: '127.0.0.1', serverName: 'test', sessionId: String(Math.floor(ctx.clock.wallNow() / 1000)) },
    ]);
    expect(hctx.describedImpairments.get('test.mp4')?.seed).toBe(3);
    await expect(describePresentation(req('DESCRIBE', 'x'), hctx, new FakeSource('test.mp4', 'trackID=1'))).rejects.toMatchObject({
      status: 404,
    });
    await expect(describePresentation(req('DESCRIBE', 'x', { Accept: 'text/html' }), hctx, source)).rejects.toMatchObject({ status: 406 });
  });

  it('SETUP opens a session (admitted, registered, ready) and the presentation sets up the named track; the next SETUP continues it', async () => {
    const first = await setupPresentation(req('SETUP', 'x', { Transport: TCP }), hctx, new FakeSource('test.mp4', 'trackID=1'));
    expect(first.response.statusCode).toBe(200);
    expect(first.response.headers.get('Session')).toBe('s1;timeout=60');
    expect(first.response.headers.get('Transport')).toBe('RTP/AVP/TCP;unicast;interleaved=0-1');
    const s = registry.get('s1') as RtspSession<SetupBase, FakePresentation>;
    expect([s.state, s.impairment?.seed, s.presentation.calls]).toEqual(['ready', undefined, ['setup trackID=1']]);
    const second = await setupPresentation(
      req('SETUP', 'x', { Transport: TCP, Session: 's1' }),
      hctx,
      new FakeSource('test.mp4', 'trackID=2'),
    );
    expect(second.response.headers.get('Session')).toBe('s1;timeout=60');
    expect(s.presentation.calls).toEqual(['setup trackID=1', 'setup trackID=2']);
    expect(registry.size).toBe(1);
  });

  it('SETUP refusals: transport first (461), another presentation 459, capacity 453; a failed first track leaves no session', async () => {
    await expect(
      setupPresentation(req('SETUP', 'x', { Transport: 'RTP/AVP;multicast' }), hctx, new FakeSource('a', undefined)),
    ).rejects.toMatchObject({
      status: 461,
    });
    await setupPresentation(req('SETUP', 'x', { Transport: TCP }), hctx, new FakeSource('a', undefined));
    const other = setupPresentation(req('SETUP', 'x', { Transport: TCP, Session: 's1' }), hctx, new FakeSource('b', undefined));
    await expect(other).rejects.toMatchObject({ status: 459 });
    await expect(setupPresentation(req('SETUP', 'x', { Transport: TCP }), hctx, new FakeSource('c', undefined))).rejects.toMatchObject({
      status: 453,
    });
    registry.get('s1')?.close('teardown');
    const failing = new FakeSource('d', undefined);
    const open = failing.open.bind(failing);
    failing.open = async (c) => {
      const s = (await open(c)) as RtspSession<SetupBase, FakePresentation>;
      s.presentation.setupTrack = () => Promise.reject(new RtspError(404, 'SRV_ERR_NOT_FOUND', 'no such track'));
      return s;
    };
    await expect(setupPresentation(req('SETUP', 'x', { Transport: TCP }), hctx, failing)).rejects.toMatchObject({ status: 404 });
    expect([registry.size, registry.occupied, failing.opened[0]?.isClosed]).toEqual([0, 0, true]);
  });
});
