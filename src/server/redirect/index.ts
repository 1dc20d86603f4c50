/**
 * redirect: running an origin with edges behind one address. A redirecting front answers
 * DESCRIBE with 302/301 + Location on the least loaded edge (redirect-front.ts), knowing each
 * edge's load from a session-less GET_PARAMETER `sessions` it polls (edge-pool.ts), passing over
 * edges that say they do not serve the path (edge-paths.ts); every server answers that poll
 * (load-parameter.ts).
 */
export { RedirectFront } from './redirect-front.ts';
export type { RedirectCounters, RedirectFrontOptions } from './redirect-front.ts';
export { EdgePaths, EDGE_PATH_DEFAULTS, classifyProbe } from './edge-paths.ts';
export type { EdgePathCounters, EdgePathOptions, PathAnswer, PathProber, ProbeResult } from './edge-paths.ts';
export { EdgePool, EDGE_POOL_DEFAULTS, MAX_EDGES, parseEdgeList } from './edge-pool.ts';
export type { EdgePoolOptions, EdgeState } from './edge-pool.ts';
export { LOAD_PARAMETERS, loadParameterAnswer, parseParameters } from './load-parameter.ts';
