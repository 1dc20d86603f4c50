/** `serve --auth-*` flags to AuthOptions, and the refusals a user sees at start. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BASIC_REFUSED, authFromFlags } from '../../src/cli/serve-auth.ts';
import { digestHa1 } from '../../src/rtsp/index.ts';

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-auth-'));
  file = path.join(dir, 'users');
  await writeFile(
    file,
    `alice:streamlab:${digestHa1('MD5', 'alice', 'streamlab', 'pw')}\nbob:cams:${digestHa1('MD5', 'bob', 'cams', 'pw')}\n`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('no --auth-file: no authentication; the other flags alone are refused', async () => {
  expect(await authFromFlags({}, () => undefined)).toBeUndefined();
  await expect(authFromFlags({ auth: 'read' }, () => undefined)).rejects.toThrow(/need the users of --auth-file/);
});

it('--auth-file: rule all by default, realm streamlab, other realms skipped with a warning', async () => {
  const warnings: string[] = [];
  const o = await authFromFlags({ authFile: file }, (l) => warnings.push(l));
  expect(o).toMatchObject({ rule: 'all', realm: 'streamlab', basic: false });
  expect([...o!.users.keys()]).toEqual(['alice']);
  expect(warnings).toEqual([expect.stringContaining('line 2: bob is in realm "cams"')]);
  const cams = await authFromFlags({ authFile: file, authRealm: 'cams', auth: 'publish' }, () => undefined);
  expect(cams).toMatchObject({ rule: 'publish', realm: 'cams' });
  expect([...cams!.users.keys()]).toEqual(['bob']);
  await expect(authFromFlags({ authFile: file, authRealm: 'none' }, () => undefined)).rejects.toThrow(/no user of realm "none"/);
});

it('--auth-basic is refused over plain TCP unless forced with --auth-basic-insecure, which warns', async () => {
  await expect(authFromFlags({ authFile: file, authBasic: true }, () => undefined)).rejects.toThrow(BASIC_REFUSED);
  const warnings: string[] = [];
  const o = await authFromFlags({ authFile: file, authBasic: true, authBasicInsecure: true }, (l) => warnings.push(l));
  expect(o?.basic).toBe(true);
  expect(warnings.at(-1)).toMatch(/in clear/);
});
