/**
 * `streamlab prepare <file|dir> [--cache-dir D]`: prepares non-MP4 media ahead of time (what
 * `serve` would do on the first DESCRIBE), with a progress bar on a terminal and one line per file.
 * Exit status 1 when any file failed.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { openMp4 } from '../media/index.ts';
import { DEFAULT_CACHE_DIR_NAME, Preparer, TtyProgressBar } from '../media/prepare/index.ts';
import { setLogLevel } from '../util/log.ts';
import { cleanMessage } from './errors.ts';
import type { LogLevel } from '../util/log.ts';

/** Extensions a directory walk considers (a file named on the command line is always tried). */
const MEDIA_EXTENSIONS = new Set(
  'mkv webm ts m2ts mts tsv avi flv f4v ogg ogv oga opus spx wav aif aiff mp3 mp2 aac ac3 eac3 flac mpg mpeg m2v vob wmv wma asf 3gp 3g2 mp4 m4v m4a mov dv mxf nut amr au caf'.split(
    ' ',
  ),
);

interface PrepareFlags {
  cacheDir?: string;
  log?: LogLevel;
}

async function walk(dir: string, skip: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (path.resolve(p) === skip) continue;
    if (e.isDirectory()) await walk(p, skip, out);
    else if (e.isFile() && MEDIA_EXTENSIONS.has(path.extname(e.name).slice(1).toLowerCase())) out.push(p);
  }
}

/**
 * 'native' when our MP4 reader serves the file as it is, 'prepare' when it is not MP4 (or is
 * fragmented), else the reader's error: a damaged MP4 (a truncated one) that serve and probe refuse.
 */
async function nativeOrNot(file: string): Promise<'native' | 'prepare' | Error> {
  try {
    const f = await openMp4(file);
    await f.close();
    return 'native';
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'MEDIA_ERR_NOT_MP4' || code === 'MEDIA_ERR_FRAGMENTED') return 'prepare';
    return e instanceof Error ? e : new Error(String(e));
  }
}

export function registerPrepare(program: Command): void {
  program
    .command('prepare')
    .description('prepare media that is not MP4/MOV (remux or transcode through ffmpeg) into the cache serve uses')
    .argument('<target>', 'a file or a directory (walked recursively)')
    .option('--cache-dir <dir>', `where prepared files go (default <dir>/${DEFAULT_CACHE_DIR_NAME}, as serve <dir>)`)
    .option('--log <level>', 'log level (error, warn, info, debug)')
    .action(async (target: string, flags: PrepareFlags) => {
      if (flags.log) setLogLevel(flags.log);
      // Each failure is printed once, below; the preparer's own warning would repeat it.
      else if (!(flags as { verbose?: boolean }).verbose) setLogLevel('error');
      const st = await stat(target).catch(() => undefined);
      if (!st) throw new Error(`${target} does not exist`);
      const root = st.isDirectory() ? target : path.dirname(target);
      const cacheDir = path.resolve(flags.cacheDir ?? path.join(root, DEFAULT_CACHE_DIR_NAME));
      const files: string[] = [];
      if (st.isDirectory()) await walk(target, cacheDir, files);
      else files.push(target);
      const bar = new TtyProgressBar();
      const preparer = new Preparer({ cacheDir, onProgress: (job, p) => bar.update(job.sourcePath, p) });
      let failed = 0;
      for (const file of files) {
        const started = Date.now();
        const kind = await nativeOrNot(file);
        if (kind === 'native') {
          process.stdout.write(`${file}: MP4/MOV, served as it is\n`);
          continue;
        }
        if (kind instanceof Error) {
          // As probe and serve see it: an MP4 our reader refuses (truncated, damaged) is not served.
          failed++;
          process.stdout.write(`${file}: FAILED ${cleanMessage(kind)}\n`);
          continue;
        }
        try {
          const r = await preparer.prepare(file).done;
          bar.clear();
          const secs = ((Date.now() - started) / 1000).toFixed(1);
          const how = r.reused ? `already prepared (${r.manifest.summary})` : r.manifest.summary;
          const streams = r.manifest.streams.map((s) => (s.action === 'copy' ? s.codec : `${s.codec}→${s.codecOut}`)).join(', ');
          process.stdout.write(`${file}: ${how} [${streams}] → ${r.outputPath} (${secs} s)\n`);
        } catch (e) {
          bar.clear();
          failed++;
          process.stdout.write(`${file}: FAILED ${cleanMessage(e)}\n`);
        }
      }
      if (files.length === 0) process.stdout.write(`${target}: no media files\n`);
      if (failed > 0) {
        process.exitCode = 1;
        process.stderr.write(`streamlab: ${failed} of ${files.length} file(s) failed\n`);
      }
    });
}
