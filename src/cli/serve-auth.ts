/**
 * `serve --auth-file/--auth/--auth-realm/--auth-basic`: the flags turned into the server's
 * AuthOptions, with the refusals a user must see at start rather than at the first client.
 */
import { readFile } from 'node:fs/promises';
import { AUTH_DEFAULTS, parseUsersFile } from '../server/auth/index.ts';
import type { AuthOptions, AuthRule } from '../server/auth/index.ts';

export interface AuthFlags {
  authFile?: string;
  auth?: AuthRule;
  authRealm?: string;
  authBasic?: boolean;
  authBasicInsecure?: boolean;
  authNonceLifetime?: number;
}

export const BASIC_REFUSED =
  '--auth-basic sends passwords in clear over plain TCP: serve RTSPS (--tls-cert/--tls-key), or add --auth-basic-insecure to use it anyway';

/**
 * The server's authentication, or undefined when no --auth-file is given. Warnings go to `warn`.
 * `secure`: the server speaks RTSPS, so Basic's password travels inside TLS.
 */
export async function authFromFlags(flags: AuthFlags, warn: (line: string) => void, secure = false): Promise<AuthOptions | undefined> {
  if (!flags.authFile) {
    if (flags.auth || flags.authBasic || flags.authBasicInsecure || flags.authRealm) {
      throw new Error('--auth, --auth-realm and --auth-basic need the users of --auth-file FILE');
    }
    return undefined;
  }
  if (flags.authBasic && !flags.authBasicInsecure && !secure) throw new Error(BASIC_REFUSED);
  if (flags.authBasicInsecure && !flags.authBasic) throw new Error('--auth-basic-insecure only goes with --auth-basic');
  const realm = flags.authRealm ?? AUTH_DEFAULTS.realm;
  const text = await readFile(flags.authFile, 'utf8');
  const parsed = parseUsersFile(text, realm);
  if (parsed.errors.length > 0) throw new Error(`--auth-file ${flags.authFile}: ${parsed.errors.slice(0, 5).join('; ')}`);
  for (const w of parsed.warnings) warn(`streamlab: --auth-file ${flags.authFile}: ${w}`);
  if (parsed.users.size === 0) throw new Error(`--auth-file ${flags.authFile}: no user of realm ${JSON.stringify(realm)}`);
  if (flags.authBasic && !secure) warn('streamlab: Basic authentication is on: passwords cross the network in clear (plain RTSP)');
  return {
    users: parsed.users,
    rule: flags.auth ?? 'all',
    realm,
    basic: flags.authBasic === true,
    ...(flags.authNonceLifetime !== undefined ? { nonceLifetimeSec: flags.authNonceLifetime } : {}),
  };
}
