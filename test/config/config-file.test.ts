/**
 * Issue 12, the `serve` config file: a valid file gives the flags (parsed by the flags' own
 * parsers), the media folder and the path rules; each kind of mistake is one line naming the file,
 * the line, the key's place and what was expected; flags given on the command line win over the
 * file. The schema is serve's commander options: every flag is a setting.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeFlags, mergedMistakes } from '../../src/config/index.ts';
import { parseServeConfig } from '../../src/config/config-file.ts';
import type { ServeConfig } from '../../src/config/index.ts';
import { flagSpecsOf } from '../../src/cli/config-flags.ts';
import { serveCommand } from '../../src/cli/config.ts';

const FLAGS = flagSpecsOf(serveCommand());
const WHERE = { file: 'streamlab.yml', baseDir: '/etc/streamlab' };

function parse(text: string) {
  return parseServeConfig(text, FLAGS, WHERE);
}

function valid(text: string): ServeConfig {
  const r = parse(text);
  if (!r.ok) throw new Error(r.mistakes.join('\n'));
  return r.config;
}

function mistakes(text: string): string[] {
  const r = parse(text);
  if (r.ok) throw new Error('the file was accepted');
  return r.mistakes;
}

describe('config file: a valid file', () => {
  it('takes every serve flag under its option name, camelCase or kebab-case, through the flag parsers', () => {
    const c = valid(
      [
        'port: 9554',
        'max-sessions: 50',
        'rtpPorts: 20000-20999',
        'log: debug',
        'logFormat: json',
        'authBasic: false',
        'live:',
        '  - cam=clip.mp4',
        '  - test=ffmpeg:-re -f lavfi -i testsrc2',
        'authFile: users.htdigest',
        'media: ../media',
      ].join('\n'),
    );
    expect(c.flags).toEqual({
      port: 9554,
      maxSessions: 50,
      rtpPorts: '20000-20999',
      log: 'debug',
      logFormat: 'json',
      authBasic: false,
      live: [
        { name: 'cam', file: 'clip.mp4' },
        { name: 'test', ffmpegArgs: ['-re', '-f', 'lavfi', '-i', 'testsrc2'] },
      ],
      // File and folder values are taken from the file's folder.
      authFile: '/etc/streamlab/users.htdigest',
    });
    expect(c.media).toBe('/etc/media');
  });

  it('every serve flag but --config is a setting (derived from the commander options)', () => {
    const keys = serveCommand()
      .options.map((o) => o.attributeName())
      .filter((k) => k !== 'config');
    for (const key of keys) expect(FLAGS.some((f) => f.key === key)).toBe(true);
    expect(keys).toContain('maxWriteBacklog');
    expect(mistakes('config: other.yml')[0]).toMatch(/--config only on the command line/);
  });

  it('turns paths: into rules in file order: sources, readers and publishers, impairment', () => {
    const c = valid(
      [
        'authFile: users',
        'paths:',
        '  studio/cam1:',
        '    publish: any',
        '  cams/*:',
        '    source: publisher',
        '    publish: [alice]',
        '    read: [alice, bob]',
        '  lobby:',
        '    source: { loop: lobby.mp4 }',
        '    netem: loss 2% delay 40ms',
        '  test:',
        '    source: { ffmpeg: "-re -f lavfi -i testsrc2" }',
        '  movies/**:',
        '    source: { folder: /srv/movies }',
        '    read: any',
        '  trailer:',
        '    source: { file: trailer.mp4 }',
        "  '~^old-[0-9]+$':",
      ].join('\n'),
    );
    expect(c.paths.map((p) => p.path)).toEqual(['studio/cam1', 'cams/*', 'lobby', 'test', 'movies/**', 'trailer', '~^old-[0-9]+$']);
    // publish: alone makes the path a publisher's.
    expect(c.paths[0]).toEqual({ path: 'studio/cam1', publish: 'any', source: { kind: 'publisher' } });
    expect(c.paths[1]).toEqual({ path: 'cams/*', source: { kind: 'publisher' }, publish: ['alice'], read: ['alice', 'bob'] });
    expect(c.paths[2]!.source).toEqual({ kind: 'loop', file: '/etc/streamlab/lobby.mp4' });
    expect(c.paths[2]!.impairment?.text).toBe('delay 40ms loss random 2%');
    expect(c.paths[3]!.source).toEqual({ kind: 'ffmpeg', args: ['-re', '-f', 'lavfi', '-i', 'testsrc2'] });
    expect(c.paths[4]!.source).toEqual({ kind: 'folder', dir: '/srv/movies' });
    expect(c.paths[5]!.source).toEqual({ kind: 'file', file: '/etc/streamlab/trailer.mp4' });
    // Looped files and ffmpeg inputs become live channels at their paths.
    expect(c.live).toEqual([
      { name: 'lobby', file: '/etc/streamlab/lobby.mp4', path: 'lobby' },
      { name: 'test', ffmpegArgs: ['-re', '-f', 'lavfi', '-i', 'testsrc2'], path: 'test' },
    ]);
    expect(c.users.sort()).toEqual(['alice', 'bob']);
    expect(mergedMistakes(c, c.flags, 'streamlab.yml')).toEqual([]);
  });

  it('the example file media/streamlab.example.yml is valid', () => {
    const file = path.join(import.meta.dirname, '../../media/streamlab.example.yml');
    const r = parseServeConfig(readFileSync(file, 'utf8'), FLAGS, { file, baseDir: path.dirname(file) });
    expect(r.ok ? [] : r.mistakes).toEqual([]);
    expect(r.ok && r.config.paths.map((p) => p.path)).toEqual(['studio/cam1', 'lobby', 'trailer']);
  });

  it('an empty file is valid and sets nothing', () => {
    expect(valid('')).toEqual({ flags: {}, media: undefined, paths: [], live: [], users: [] });
  });
});

describe('config file: a pulled origin as a path rule', () => {
  it('source: rtsp://... is a live channel at the exact path, on demand (closed 10 s after the last viewer) unless it says', () => {
    const c = valid(
      [
        'paths:',
        '  news:',
        '    source: rtsp://edge:secret@origin.example:8554/live/news',
        '  cams/door:',
        '    source: rtsps://origin.example/door',
        '    sourceTransport: udp',
        '    sourceOnDemand: false',
        '  radio:',
        '    sourceCloseAfter: 30',
        '    source: rtsp://origin.example/radio',
      ].join('\n'),
    );
    expect(c.paths.map((r) => r.source)).toEqual([
      { kind: 'pull', url: 'rtsp://edge:secret@origin.example:8554/live/news', onDemand: true, closeAfterMs: 10_000 },
      { kind: 'pull', url: 'rtsps://origin.example/door', onDemand: false, closeAfterMs: 10_000, transport: 'udp' },
      { kind: 'pull', url: 'rtsp://origin.example/radio', onDemand: true, closeAfterMs: 30_000 },
    ]);
    expect(c.live).toEqual([
      { name: 'news', pull: 'rtsp://edge:secret@origin.example:8554/live/news', path: 'news', onDemand: { closeAfterMs: 10_000 } },
      { name: 'cams/door', pull: 'rtsps://origin.example/door', path: 'cams/door', transport: 'udp' },
      { name: 'radio', pull: 'rtsp://origin.example/radio', path: 'radio', onDemand: { closeAfterMs: 30_000 } },
    ]);
  });

  it("an rtsps:// origin may name its own CA (from the file's folder) or accept any certificate", () => {
    const c = valid(
      [
        'paths:',
        '  a:',
        '    source: rtsps://one.example/a',
        '    sourceTlsCa: certs/one.pem',
        '  b:',
        '    sourceTlsInsecure: true',
        '    source: rtsps://two.example/b',
        '  c:',
        '    source: rtsps://three.example/c',
        '    sourceTlsInsecure: false',
      ].join('\n'),
    );
    expect(c.live.map((l) => ('pull' in l ? l.tls : undefined))).toEqual([
      { caFile: path.resolve(WHERE.baseDir, 'certs/one.pem') },
      { insecure: true },
      { insecure: false },
    ]);
  });

  it.each([
    [
      'a pattern path',
      ['  cams/*:', '    source: rtsp://o/x'],
      /paths\.cams\/\*\.source: a pulled origin is served at one exact path, not the pattern cams\/\*$/,
    ],
    [
      'a bad URL (credentials not echoed)',
      ['  a:', '    source: "rtsp://u:pw@[::1"'],
      /paths\.a\.source: expected rtsp:\/\/\[USER:PASS@\]HOST\[:PORT\]\/PATH or rtsps:\/\/\.\.\., got "rtsp:\/\/\[::1"$/,
    ],
    [
      'a pull setting without a pulled source',
      ['  a:', '    source: { loop: x.mp4 }', '    sourceOnDemand: true'],
      /paths\.a\.sourceOnDemand: sourceOnDemand is for a pulled source \(source: rtsp:\/\/ORIGIN\/PATH\)$/,
    ],
    [
      'a transport that is not one',
      ['  a:', '    source: rtsp://o/x', '    sourceTransport: sctp'],
      /paths\.a\.sourceTransport: expected one of tcp, udp, got "sctp"$/,
    ],
    [
      'a close delay that is not seconds',
      ['  a:', '    source: rtsp://o/x', '    sourceCloseAfter: 2.5'],
      /paths\.a\.sourceCloseAfter: expected seconds, an integer in 0\.\.86400, got 2\.5$/,
    ],
    [
      'a CA for an rtsp:// origin',
      ['  a:', '    source: rtsp://o/x', '    sourceTlsCa: ca.pem'],
      /paths\.a\.sourceTlsCa: sourceTlsCa is for an rtsps:\/\/ origin \(source: rtsps:\/\/ORIGIN\/PATH\)$/,
    ],
    [
      'a CA that is not a file name',
      ['  a:', '    source: rtsps://o/x', '    sourceTlsCa: [a, b]'],
      /paths\.a\.sourceTlsCa: expected the PEM file of the origin's CA, got a list$/,
    ],
    [
      'insecure that is not true or false',
      ['  a:', '    source: rtsps://o/x', '    sourceTlsInsecure: yes please'],
      /paths\.a\.sourceTlsInsecure: expected true or false, got "yes please"$/,
    ],
    [
      'a CA and insecure',
      ['  a:', '    source: rtsps://o/x', '    sourceTlsCa: ca.pem', '    sourceTlsInsecure: true'],
      /paths\.a\.sourceTlsInsecure: give sourceTlsCa or sourceTlsInsecure: true, not both$/,
    ],
    [
      'a CA key mistyped',
      ['  a:', '    source: rtsps://o/x', '    sourceTlsCA: ca.pem'],
      /paths\.a\.sourceTlsCA: unknown rule setting; .* \(did you mean sourceTlsCa\?\)$/,
    ],
    [
      'on demand that is not true or false',
      ['  a:', '    source: rtsp://o/x', '    sourceOnDemand: sometimes'],
      /paths\.a\.sourceOnDemand: expected true or false, got "sometimes"$/,
    ],
  ])('%s: one line', (_what, lines, expected) => {
    const got = mistakes(['paths:', ...lines].join('\n'));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(expected);
    expect(got[0]).not.toContain('pw@');
  });
});

describe('config file: each kind of mistake is one line (file:line: place: what was expected)', () => {
  it.each([
    ['not YAML', 'port: [1, 2\n', /^streamlab\.yml:2: not valid YAML: /],
    ['a list at the top', '- port\n', /^streamlab\.yml:1: expected a map of settings .*got a list$/],
    [
      'an unknown setting, with the nearest one',
      'port: 1\nmaxSesions: 5\n',
      /^streamlab\.yml:2: maxSesions: unknown setting; .*\(did you mean maxSessions\?\)$/,
    ],
    [
      'a value the flag parser refuses',
      'port: eighty\n',
      /^streamlab\.yml:1: port: expected an integer in 0\.\.65535 \(as --port\), got "eighty"$/,
    ],
    ['out of range', 'mtu: 100\n', /^streamlab\.yml:1: mtu: expected an integer in 576\.\.65535 \(as --mtu\), got 100$/],
    [
      'not one of the choices',
      'logFormat: xml\n',
      /^streamlab\.yml:1: logFormat: expected one of text, json \(as --log-format\), got "xml"$/,
    ],
    [
      'a switch that is not a boolean',
      'auth-basic: yes\n',
      /^streamlab\.yml:1: auth-basic: expected true or false \(as --auth-basic\), got "yes"$/,
    ],
    ['a map where a value goes', 'host: { a: 1 }\n', /^streamlab\.yml:1: host: expected a value \(as --host\), got a map$/],
    [
      'an item of a repeatable flag',
      'live:\n  - cam=clip.mp4\n  - cam=\n',
      /^streamlab\.yml:3: live\[1\]: wants NAME=FILE, NAME=ffmpeg:<input args> or NAME=rtsp:\/\/ORIGIN\/PATH \(as --live\), got "cam="$/,
    ],
    ['a flag given twice', 'maxSessions: 5\nmax-sessions: 6\n', /^streamlab\.yml:2: max-sessions: given twice/],
    ['paths not a map', 'paths: [a]\n', /^streamlab\.yml:1: paths: expected a map of path or pattern → rule, got a list$/],
    [
      'a rule not a map',
      'paths:\n  cam: 3\n',
      /^streamlab\.yml:2: paths\.cam: expected a map of source, read, publish, netem, sourceOnDemand, sourceCloseAfter, sourceTransport, sourceTlsCa, sourceTlsInsecure, got 3$/,
    ],
    ['a bad path', "paths:\n  '/abs/x':\n    read: any\n", /^streamlab\.yml:2: paths\.\/abs\/x: a path is segments of letters/],
    [
      '** not last',
      "paths:\n  'a/**/b':\n    read: any\n",
      /^streamlab\.yml:2: paths\.a\/\*\*\/b: a path is `\*\*` only as the last segment$/,
    ],
    [
      'a bad regular expression',
      "paths:\n  '~(':\n    read: any\n",
      /^streamlab\.yml:2: paths\.~\(: a path is an invalid regular expression/,
    ],
    [
      'an unknown rule setting',
      'paths:\n  cam:\n    sauce: publisher\n',
      /^streamlab\.yml:3: paths\.cam\.sauce: unknown rule setting; .*\(did you mean source\?\)$/,
    ],
    [
      'an unknown source',
      'paths:\n  cam:\n    source: camera\n',
      /^streamlab\.yml:3: paths\.cam\.source: expected publisher, rtsp:\/\/ORIGIN\/PATH, or a map with one of file:, folder:, loop:, ffmpeg:, got "camera"$/,
    ],
    [
      'an unknown source kind',
      'paths:\n  cam:\n    source: { lopo: a.mp4 }\n',
      /^streamlab\.yml:3: paths\.cam\.source\.lopo: expected .*\(did you mean loop\?\)$/,
    ],
    [
      'a looped file on a pattern',
      "paths:\n  'cams/*':\n    source: { loop: a.mp4 }\n",
      /^streamlab\.yml:3: paths\.cams\/\*\.source\.loop: a loop source needs one exact path, not the pattern cams\/\*$/,
    ],
    [
      'a folder not under /**',
      'paths:\n  movies:\n    source: { folder: /srv }\n',
      /^streamlab\.yml:3: paths\.movies\.source\.folder: a folder is served under a path ending in \/\*\* /,
    ],
    [
      'empty ffmpeg arguments',
      "paths:\n  cam:\n    source: { ffmpeg: '' }\n",
      /^streamlab\.yml:3: paths\.cam\.source\.ffmpeg: expected ffmpeg input arguments, got ""$/,
    ],
    [
      'publishers on a file path',
      'paths:\n  cam:\n    source: { file: a.mp4 }\n    publish: any\n',
      /^streamlab\.yml:2: paths\.cam\.publish: publishing needs source: publisher \(this path plays its file\)$/,
    ],
    [
      'a bad user list',
      'paths:\n  cam:\n    read: [alice, "b b"]\n',
      /^streamlab\.yml:3: paths\.cam\.read\[1\]: expected a user name \(no ':' or spaces\), got "b b"$/,
    ],
    [
      'read neither any nor users',
      'paths:\n  cam:\n    read: 5\n',
      /^streamlab\.yml:3: paths\.cam\.read: expected any, or a list of user names of the users file, got 5$/,
    ],
    [
      'bad netem words',
      'paths:\n  cam:\n    netem: loss 200%\n',
      /^streamlab\.yml:3: paths\.cam\.netem: expected netem words like .*: loss: "200%" is outside 0%\.\.100%, got "loss 200%"$/,
    ],
    [
      'a netem trace',
      'paths:\n  cam:\n    netem: trace t.txt\n',
      /^streamlab\.yml:3: paths\.cam\.netem: a loss trace file is only for --netem/,
    ],
  ])('%s', (_what, text, expected) => {
    const lines = mistakes(text);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(expected);
  });

  it('reports every mistake of a file, one line each, in file order', () => {
    const lines = mistakes('port: x\nmtu: 1\npaths:\n  cam:\n    read: 5\n');
    expect(lines.map((l) => l.split(':')[1])).toEqual(['1', '2', '5']);
  });

  it('rules naming users need a users file (the file or --auth-file)', () => {
    const c = valid('paths:\n  cam:\n    read: [alice]\n');
    expect(mergedMistakes(c, c.flags, 'streamlab.yml')).toEqual([
      'streamlab.yml: paths: rules name users (alice): set authFile in the file or give --auth-file',
    ]);
    expect(mergedMistakes(c, { authFile: '/x' }, 'streamlab.yml')).toEqual([]);
  });
});

describe('config file: flags override the file', () => {
  it('a flag given on the command line wins; the file fills the rest, over the defaults', () => {
    const cmd = serveCommand();
    cmd.action(() => undefined);
    cmd.parse(['--port', '7000', '--max-sessions', '9', 'media'], { from: 'user' });
    const file = valid('port: 9554\nmaxSessions: 50\nmtu: 1400\nidleTimeout: 30\n').flags;
    const merged = mergeFlags(cmd.opts(), file, (k) => cmd.getOptionValueSource(k) === 'cli');
    expect(merged).toMatchObject({ port: 7000, maxSessions: 9, mtu: 1400, idleTimeout: 30 });
    // A default the file does not set stays.
    expect(merged.sessionTimeout).toBe(60);
  });
});
