import { DEFAULTS, PathRules } from '../server/index.ts';
import type { ServerOptions } from '../server/index.ts';
import { ClusterPrimary } from './primary.ts';
import { ClusterView } from './view.ts';

/** A cluster started for `serve --workers N`: the primary, its operator's view, and how to stop both. */
export interface StartedCluster {
  primary: ClusterPrimary;
  view: ClusterView;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts the primary with the same bounds a single server has (ServerOptions and DEFAULTS): the
 * first request is read with the request size limits and timeouts, connections are limited per
 * address and in total, maxSessions is the budget the workers share.
 */
export async function startCluster(options: ServerOptions, workers: number, opts: { forwardEvents: boolean }): Promise<StartedCluster> {
  const rules = options.paths && options.paths.length > 0 ? new PathRules(options.paths) : undefined;
  const maxSessions = options.maxSessions ?? DEFAULTS.maxSessions;
  const primary = await ClusterPrimary.start({
    workers,
    host: options.host ?? DEFAULTS.host,
    port: options.port ?? DEFAULTS.port,
    maxSessions,
    maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? DEFAULTS.maxConnectionsPerAddress,
    maxConnections: options.maxConnections ?? maxSessions * 2,
    maxHeaderBytes: options.maxRequestHeaderBytes ?? DEFAULTS.maxRequestHeaderBytes,
    maxBodyBytes: options.maxRequestBodyBytes ?? DEFAULTS.maxRequestBodyBytes,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    isLivePath: (p) => rules?.isLivePath(p) ?? false,
    forwardEvents: opts.forwardEvents,
    tls: options.tls !== undefined,
  });
  const view = new ClusterView(primary, options.mediaDir);
  await view.refresh();
  return {
    primary,
    view,
    port: primary.port,
    close: async () => {
      view.close();
      await primary.stop();
    },
  };
}
