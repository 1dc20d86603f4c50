/**
 * Who may do what on a path: the server's `--auth` rule, replaced on a path by its config rule's
 * `read:` / `publish:` (anyone, or these users). Called once per request from handleRequest,
 * before any handler runs.
 */
import { createResponse } from '../rtsp/index.ts';
import type { RtspRequest } from '../rtsp/index.ts';
import type { ImpairmentSpec } from '../transport/index.ts';
import { PUBLISH_METHODS, READ_METHODS } from './auth/gate.ts';
import type { AuthOutcome } from './auth/gate.ts';
import type { PathRule } from './path-rules.ts';
import { parseRequestTarget } from './request-target.ts';
import { sessionIdOf } from './session/lookup.ts';
import type { HandlerContext } from './session/request-context.ts';

/** The media path a request is about: its URI's, else (`*`, a bare host) its session's. */
export function requestPath(req: RtspRequest, ctx: HandlerContext): string {
  const t = parseRequestTarget(req.uri);
  if (t && t.mediaPath !== '') return t.mediaPath;
  const id = sessionIdOf(req);
  return (id !== undefined ? ctx.sessionContext.registry.get(id)?.media : undefined) ?? '';
}

/** A publisher's or a track's last segment (`streamid=0`, GStreamer's `stream=1`): not a path of its own. */
const STREAM_CONTROL = /^[A-Za-z_]{1,16}=\d{1,4}$/;

/**
 * The rule of a path, or, when its last segment is a stream control (a publisher's SETUP names
 * `PATH/streamid=0`), of its parent. Only then: a file `public/x.mp4` does not take the rule of
 * `public`.
 */
export function ruleFor(ctx: Pick<HandlerContext, 'paths'>, path: string): PathRule | undefined {
  if (!ctx.paths || path === '') return undefined;
  const rule = ctx.paths.match(path);
  if (rule) return rule;
  const slash = path.lastIndexOf('/');
  return slash > 0 && STREAM_CONTROL.test(path.slice(slash + 1)) ? ctx.paths.match(path.slice(0, slash)) : undefined;
}

/** Whether a request reads or publishes: ANNOUNCE, RECORD and SETUP mode=record publish. */
export function accessKind(req: RtspRequest): 'read' | 'publish' | undefined {
  if ((PUBLISH_METHODS as readonly string[]).includes(req.method)) return 'publish';
  if (req.method === 'SETUP' && /mode\s*=\s*"?record/i.test(req.headers.get('Transport') ?? '')) return 'publish';
  if ((READ_METHODS as readonly string[]).includes(req.method)) return 'read';
  return undefined;
}

/** Authentication and per-path permission of one request. */
export function checkAccess(req: RtspRequest, ctx: HandlerContext): AuthOutcome {
  const kind = accessKind(req);
  const rule = kind ? ruleFor(ctx, requestPath(req, ctx)) : undefined;
  const access = kind ? rule?.[kind] : undefined;
  if (access === undefined) return ctx.auth?.check(req, ctx.clientIp) ?? { ok: true };
  if (access === 'any') return { ok: true };
  if (!ctx.auth) {
    // src/config refuses users without an --auth-file; a library caller may still pass them.
    return { ok: false, response: createResponse(403), reason: `${kind} of ${rule?.path} is for named users, and no users file is loaded` };
  }
  const outcome = ctx.auth.check(req, ctx.clientIp, true);
  if (!outcome.ok) return outcome;
  if (outcome.user !== undefined && access.includes(outcome.user)) return outcome;
  return { ok: false, response: createResponse(403), reason: `user ${outcome.user ?? '?'} may not ${kind} ${rule?.path}` };
}

/** The impairment of a session on `path`: its rule's, else the server's `--netem`. */
export function defaultImpairmentFor(ctx: HandlerContext, path: string): ImpairmentSpec | undefined {
  return ruleFor(ctx, path)?.impairment ?? ctx.defaultImpairment;
}
