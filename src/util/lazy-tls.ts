/**
 * node:tls on first use. Loading it (with its secure-context and socket-wrapping code) adds to the
 * idle RSS of every `serve`, while only rtsps:// listeners, rtsps:// origins and `--tls` flags use
 * it: they ask for it here, synchronously, when they need it.
 */
import { createRequire } from 'node:module';
import type * as TlsModule from 'node:tls';

type Tls = typeof TlsModule;
let tls: Tls | undefined;

export function lazyTls(): Tls {
  return (tls ??= createRequire(import.meta.url)('node:tls') as Tls);
}
