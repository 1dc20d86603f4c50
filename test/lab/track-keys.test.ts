/**
 * Per-track impairment keyed as a researcher writes it: `video:` / `audio:` (the SDP m= media
 * type), a control id (`trackID=2`) or an index; unknown keys refused before any run, naming
 * what the presentation has; applied in --fast to the track they name.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExperimentError, expandRuns, loadExperiment, presentationOf, resolveTrackKeys, runFast } from '../../src/lab/index.ts';
import { describeScope } from '../../src/lab/experiment.ts';

const MEDIA = path.resolve('media/sample.mp4');
const dir = mkdtempSync(path.join(os.tmpdir(), 'streamlab-track-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const av = [
  { index: 0, media: 'video', control: 'trackID=1' },
  { index: 1, media: 'audio', control: 'trackID=2' },
];

function experiment(name: string, tracks: Record<string, string>): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name,
      mode: 'fast',
      media: MEDIA,
      durationSec: 2,
      seeds: [4],
      quality: false,
      matrix: { netem: [{ rtp: '', tracks }] },
    }),
  );
  return file;
}

describe('per-track keys', () => {
  it('resolve by media type, control id or index', () => {
    expect(resolveTrackKeys({ audio: 'A' }, av)).toEqual({ ok: true, byIndex: [undefined, 'A'] });
    expect(resolveTrackKeys({ VIDEO: 'V', 'trackID=2': 'A' }, av)).toEqual({ ok: true, byIndex: ['V', 'A'] });
    expect(resolveTrackKeys({ '1': 'A' }, av)).toEqual({ ok: true, byIndex: [undefined, 'A'] });
    // A media type names every track of that type.
    const two = [...av, { index: 2, media: 'audio', control: 'trackID=3' }];
    expect(resolveTrackKeys({ audio: 'A' }, two)).toEqual({ ok: true, byIndex: [undefined, 'A', 'A'] });
  });

  it('refuse a key that names no track, naming what the presentation has, and two keys for one track', () => {
    const r = resolveTrackKeys({ subtitles: 'x' }, av);
    expect(r).toEqual({
      ok: false,
      message:
        'tracks.subtitles: the presentation has no such track (it has 0 video (trackID=1), 1 audio (trackID=2); a key is a media type, a control id or an index)',
    });
    expect(resolveTrackKeys({ '2': 'x' }, av).ok).toBe(false);
    expect(resolveTrackKeys({ video: 'x', '0': 'y' }, av)).toEqual({
      ok: false,
      message: 'tracks.video and tracks.0 both name track 0 (video)',
    });
  });

  it('the lab reads the presentation of an MP4 as the server describes it', async () => {
    expect(await presentationOf(MEDIA)).toEqual(av);
    expect(await presentationOf(path.join(dir, 'missing.mp4'))).toBeUndefined();
  });

  it('loading an experiment refuses an unknown key before any run, with the file and its tracks', async () => {
    const err = await loadExperiment(experiment('unknown', { vidoe: 'loss 5%' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExperimentError);
    expect((err as ExperimentError).message).toContain(
      'experiment.matrix.netem[0]: sample.mp4: tracks.vidoe: the presentation has no such track (it has 0 video (trackID=1), 1 audio (trackID=2)',
    );
  });

  it('--fast: `audio:` impairs the audio track only; the scope says so', async () => {
    const e = await loadExperiment(experiment('audio', { audio: 'loss 50%' }));
    expect(e.netem[0]!.scope).toContain('on every track except audio "loss random 50%"');
    expect(describeScope({ ...e.netem[0]!, tracks: { '1': e.netem[0]!.tracks!.audio! } })).toContain('except track 1');
    const [spec] = expandRuns(e);
    const obs = await runFast(spec!, undefined);
    const [video, audio] = [obs.fates[0]!, obs.fates[1]!];
    expect(obs.receivers.map((r) => r.track.media)).toEqual(['video', 'audio']);
    expect(video.filter((f) => f.dropped)).toHaveLength(0);
    const lost = audio.filter((f) => f.dropped).length / audio.length;
    expect(audio.length).toBeGreaterThan(50);
    expect(lost).toBeGreaterThan(0.3);
    expect(lost).toBeLessThan(0.7);
  });

  it('a run whose key names no track fails before SETUP with the reason', async () => {
    // Past the load-time check (as for a file the server prepares first): the run itself refuses.
    const e = await loadExperiment(experiment('ok', { audio: 'loss 1%' }));
    const [spec] = expandRuns(e);
    const bad = { ...spec!, netem: { ...spec!.netem, tracks: { text: spec!.netem.tracks!.audio! } } };
    await expect(runFast(bad, undefined)).rejects.toThrow(
      /per-track impairment: tracks\.text: the presentation has no such track \(it has 0 video/,
    );
  });
});
