/**
 * The users file of `serve --auth-file`: htdigest lines, one user and algorithm per line.
 *
 *   user:realm:HA1       HA1 = 32 hex digits: MD5(user:realm:password)  (what `htdigest` writes)
 *                        HA1 = 64 hex digits: SHA-256(user:realm:password)
 *
 * A user may have one line of each kind. No plain passwords: the file never holds a password in
 * clear, and HA1 is all Digest needs (Basic answers are hashed and compared with it). Lines of
 * another realm are skipped with a warning; `#` comments and blank lines are ignored.
 */

import type { DigestAlgorithm } from '../../rtsp/index.ts';

/** Largest users file read (an admin's file, but still bounded). */
export const MAX_USERS_FILE_BYTES = 1024 * 1024;

/** username → algorithm → HA1 (lowercase hex). */
export type UserTable = ReadonlyMap<string, ReadonlyMap<DigestAlgorithm, string>>;

export interface UsersFileResult {
  users: Map<string, Map<DigestAlgorithm, string>>;
  /** Lines skipped (another realm): `line N: ...`. */
  warnings: string[];
  /** Lines that are not `user:realm:HA1`: the file is refused when there is any. */
  errors: string[];
}

export function parseUsersFile(text: string, realm: string): UsersFileResult {
  const out: UsersFileResult = { users: new Map(), warnings: [], errors: [] };
  if (text.length > MAX_USERS_FILE_BYTES) {
    out.errors.push(`the file is larger than ${MAX_USERS_FILE_BYTES} bytes`);
    return out;
  }
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const where = `line ${i + 1}`;
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(':');
    if (fields.length !== 3) {
      out.errors.push(`${where}: expected user:realm:HA1 (${fields.length} fields)`);
      return;
    }
    const [user = '', lineRealm = '', hash = ''] = fields;
    if (user === '') {
      out.errors.push(`${where}: empty user name`);
      return;
    }
    const algorithm: DigestAlgorithm | undefined = /^[0-9a-f]{32}$/i.test(hash)
      ? 'MD5'
      : /^[0-9a-f]{64}$/i.test(hash)
        ? 'SHA-256'
        : undefined;
    if (!algorithm) {
      out.errors.push(`${where}: HA1 of ${user} is neither 32 (MD5) nor 64 (SHA-256) hex digits`);
      return;
    }
    if (lineRealm !== realm) {
      out.warnings.push(`${where}: ${user} is in realm ${JSON.stringify(lineRealm)}, not ${JSON.stringify(realm)}: skipped`);
      return;
    }
    let entry = out.users.get(user);
    if (!entry) out.users.set(user, (entry = new Map()));
    if (entry.has(algorithm)) out.errors.push(`${where}: a second ${algorithm} line for ${user}`);
    entry.set(algorithm, hash.toLowerCase());
  });
  return out;
}
