import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { lazyTls } from '../../util/lazy-tls.ts';

/**
 * The CA an edge checks an `rtsps://` origin's certificate against (`--pull-tls-ca FILE`, or a
 * config rule's `sourceTlsCa: FILE`), read and parsed now so a wrong file fails at start, not at
 * the first pull. `what` names the setting in the message (`--pull-tls-ca`, `paths.news.sourceTlsCa`).
 */
export async function readPullCa(file: string, what: string): Promise<Buffer> {
  const ca = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${what} ${file} (${err.code ?? err.message})`);
  });
  try {
    // createSecureContext takes anything as a CA; X509Certificate parses the (first) certificate.
    new X509Certificate(ca);
    lazyTls().createSecureContext({ ca });
  } catch (err) {
    throw new Error(`${what} ${file} is not a PEM certificate: ${(err as Error).message}`);
  }
  return ca;
}

/** A rule's own trust for its origin: a CA file (read or to read), or any certificate. */
export interface PullTlsSetting {
  caFile?: string;
  ca?: Buffer;
  /** true: any certificate; false: checked (the global CA, else the system's), whatever the global flag says. */
  insecure?: boolean;
}

/**
 * The TLS options a pull uses: the rule's own when it names any, else the server's (`--pull-tls-ca`
 * / `--pull-tls-insecure`). A rule's CA file not read yet is read here.
 */
export async function pullTlsFor(
  rule: PullTlsSetting | undefined,
  global: { ca?: Buffer; insecure?: boolean } | undefined,
  what: string,
): Promise<{ ca?: Buffer; insecure?: boolean } | undefined> {
  if (!rule) return global;
  if (rule.insecure === true) return { insecure: true };
  if (rule.ca) return { ca: rule.ca };
  if (rule.caFile !== undefined) return { ca: await readPullCa(rule.caFile, what) };
  // insecure: false — checked, with the global CA when there is one.
  return global?.ca ? { ca: global.ca } : {};
}
