/**
 * Path rules (src/server/path-rules.ts) match request paths, which come from the network: exact
 * paths, `*` (one segment), a trailing `**`, `~regex`; the first rule wins; file and folder rules
 * mount a path on a folder. Properties: no spelling of a path (percent-encoding, doubled
 * slashes) escapes its rule, and only plain names make live channels.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ruleFor } from '../../src/server/path-access.ts';
import { PathRules, pathPatternError } from '../../src/server/path-rules.ts';

const rules = new PathRules([
  { path: 'studio/cam1', source: { kind: 'publisher' }, publish: ['alice'] },
  { path: 'cams/*', source: { kind: 'publisher' } },
  { path: 'movies/**', source: { kind: 'folder', dir: '/srv/movies' } },
  { path: 'trailer', source: { kind: 'file', file: '/srv/clips/trailer 1.mp4' } },
  { path: '~^old-[0-9]+$', read: 'any' },
  { path: 'private/**', read: ['alice'] },
]);

describe('path rules', () => {
  it('match exact paths, one segment for *, any depth for a trailing **, a regex; first rule wins', () => {
    expect(rules.match('studio/cam1')?.path).toBe('studio/cam1');
    expect(rules.match('studio/cam2')).toBeUndefined();
    expect(rules.match('cams/x')?.path).toBe('cams/*');
    expect(rules.match('cams/x/y')).toBeUndefined();
    expect(rules.match('cams')).toBeUndefined();
    expect(rules.match('movies/a/b.mp4')?.path).toBe('movies/**');
    expect(rules.match('movies')).toBeUndefined();
    expect(rules.match('old-12')?.path).toBe('~^old-[0-9]+$');
    expect(rules.match('old-x')).toBeUndefined();
    expect(rules.match('')).toBeUndefined();
  });

  it('publisher rules make live paths; file and folder rules mount a folder', () => {
    expect(rules.isLivePath('cams/x')).toBe(true);
    expect(rules.isLivePath('movies/a.mp4')).toBe(false);
    expect(rules.mount('movies/a/b.mp4')).toEqual({ rootDir: '/srv/movies', urlPath: 'a/b.mp4' });
    expect(rules.mount('trailer')).toEqual({ rootDir: '/srv/clips', urlPath: 'trailer%201.mp4' });
    expect(rules.mount('movies/my%20clip.mp4')).toEqual({ rootDir: '/srv/movies', urlPath: 'my%20clip.mp4' });
    expect(rules.mount('cams/x')).toBeUndefined();
  });

  it('no spelling of a path escapes its rule: encoded, doubled slashes (property)', () => {
    // Any file name under private/, written plainly or percent-encoded, with extra slashes: the
    // private/** rule (read: alice) always applies. A path that slipped past it would fall to the
    // server's own --auth rule.
    const name = fc.string({ minLength: 1, maxLength: 12 }).filter((x) => !x.includes('/') && x !== '.' && x !== '..');
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.boolean(), (names, encodePrefix, doubled) => {
        const prefix = encodePrefix ? '%70rivate' : 'private';
        const p = [prefix, ...names.map(encodeURIComponent)].join(doubled ? '//' : '/');
        expect(rules.match(p)?.path).toBe('private/**');
      }),
      { numRuns: 2000 },
    );
  });

  it('only plain names make live channels; matching never throws (property)', () => {
    expect(rules.isLivePath('cams/x')).toBe(true);
    expect(rules.isLivePath('cams/a%20b')).toBe(false);
    expect(rules.isLivePath('cams/..')).toBe(false);
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (p) => {
        rules.match(p);
        if (rules.isLivePath(p)) expect(p.split('/').every((s) => /^[A-Za-z0-9._~-]{1,64}$/.test(s) && s !== '..')).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('pattern errors say what a path may be', () => {
    expect(pathPatternError('a/b')).toBeUndefined();
    expect(pathPatternError('a/**')).toBeUndefined();
    expect(pathPatternError('a/**/b')).toMatch(/last segment/);
    expect(pathPatternError('../x')).toMatch(/segments of letters/);
    expect(pathPatternError('~(')).toMatch(/invalid regular expression/);
    expect(pathPatternError('~^(a)\\1$')).toMatch(/backreferences or lookarounds/);
    expect(pathPatternError('~^cam(?=[0-9])')).toMatch(/backreferences or lookarounds/);
  });

  it('a regex rule costs time linear in the path, whatever the pattern (catastrophic backtracking)', () => {
    // `^(a+)+$` against "aaaa…b" takes 2^n steps in a backtracking engine: with n = 40, hours, and
    // this test runs into its timeout. The linear engine answers at once.
    const evil = new PathRules([{ path: '~^(a+)+$', read: 'any' }]);
    expect(evil.match('a'.repeat(40) + 'b')).toBeUndefined();
    expect(evil.match('a'.repeat(200))?.path).toBe('~^(a+)+$');
  });

  it("a path's own rule, or its parent's only for a stream control (a publisher's SETUP of PATH/streamid=0)", () => {
    const paths = new PathRules([
      { path: 'public', read: 'any' },
      { path: 'studio/cam1', publish: ['alice'] },
    ]);
    expect(ruleFor({ paths }, 'studio/cam1/streamid=0')?.path).toBe('studio/cam1');
    expect(ruleFor({ paths }, 'studio/cam1/stream=1')?.path).toBe('studio/cam1');
    // A file under an opened path does not take its rule (it keeps the server's --auth).
    expect(ruleFor({ paths }, 'public/secret.mp4')).toBeUndefined();
    expect(ruleFor({ paths }, 'public/a/streamid=0')).toBeUndefined();
  });
});
