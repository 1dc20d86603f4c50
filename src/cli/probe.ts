import path from 'node:path';
import type { Command } from 'commander';
import { planPreparation, probeFile } from '../media/prepare/index.ts';
import { ChunkCache, DEFAULTS, describeSdp, openMediaEntry } from '../server/index.ts';

/** Codes of the native reader for files that the server prepares through ffmpeg instead. */
const PREPARED_CODES = new Set(['MEDIA_ERR_NOT_MP4', 'MEDIA_ERR_FRAGMENTED']);

/** A file our MP4 reader does not open: what ffprobe sees and what preparation would do with it. */
async function probePrepared(file: string, json: boolean): Promise<void> {
  const info = await probeFile(path.resolve(file));
  const plan = planPreparation(info);
  if (json) {
    process.stdout.write(JSON.stringify({ file, prepared: true, probe: info, plan }, null, 2) + '\n');
    return;
  }
  const duration = info.durationSec !== undefined ? `${info.durationSec.toFixed(3)} s, ` : '';
  process.stdout.write(`${file}: ${info.format}, ${duration}${info.streams.length} stream(s); not MP4/MOV: served after preparation\n`);
  if (!plan.ok) {
    process.stdout.write(`  cannot be prepared: ${plan.reason}\n`);
    return;
  }
  for (const s of plan.streams) {
    const what = s.action === 'copy' ? `copied (${s.codecOut})` : `transcoded to ${s.codecOut}`;
    process.stdout.write(`  stream ${s.index}: ${s.type} ${s.codec} -> ${what}\n`);
  }
  for (const d of plan.dropped) process.stdout.write(`  stream ${d.index}: ${d.type} ${d.codec} -> dropped\n`);
  const route = plan.route === 'mp2t' ? 'MPEG-TS, sent as RTP MP2T' : plan.route.toUpperCase();
  process.stdout.write(`  preparation: ${plan.summary} into ${route} (streamlab prepare ${file}, or on the first DESCRIBE)\n`);
}

/** `streamlab probe <file>`: tracks, codecs, duration and the SDP the server would send. */
export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description('show the tracks of a media file and the SDP the server would send for it')
    .argument('<file>', 'media file')
    .option('--json', 'machine-readable output')
    .action(async (file: string, flags: { json?: boolean }) => {
      let entry: Awaited<ReturnType<typeof openMediaEntry>>;
      try {
        entry = await openMediaEntry(path.resolve(file), path.basename(file), DEFAULTS.mtu - 40, new ChunkCache(1));
      } catch (err) {
        if (!PREPARED_CODES.has((err as { code?: string }).code ?? '')) throw err;
        return probePrepared(file, flags.json === true);
      }
      try {
        const sdp = describeSdp(entry, { localIp: '127.0.0.1', serverName: 'streamlab/0.1' });
        const tracks = entry.file.tracks.map((t) => {
          const served = entry.tracks.find((s) => s.source.track === t);
          return {
            id: t.id,
            kind: t.kind,
            codec: t.codec,
            durationSec: t.durationSec,
            samples: t.samples.count,
            ...(t.width ? { width: t.width, height: t.height } : {}),
            ...(t.sampleRate ? { sampleRate: t.sampleRate, channels: t.channels } : {}),
            streamed: served
              ? `${served.control}, payload type ${served.source.format.payloadType}, ${served.source.format.rtpmap}`
              : undefined,
            skipped: entry.skipped.find((s) => s.id === t.id)?.reason,
            editList: t.editListNote,
          };
        });
        // The lattice as the served track's control and a period in ms (sessions send on it at Scale 1).
        const l = entry.sendLattice;
        const lattice = l && { control: entry.tracks[l.track]!.control, periodMs: l.periodSec * 1000, phaseMs: l.phaseSec * 1000 };
        if (flags.json) {
          process.stdout.write(
            JSON.stringify(
              { file, durationSec: entry.durationSec, sendGridMs: entry.sendGridMs ?? null, sendLattice: lattice ?? null, tracks, sdp },
              null,
              2,
            ) + '\n',
          );
          return;
        }
        const grid =
          (entry.sendGridMs !== undefined ? `send grid ${entry.sendGridMs.toFixed(3)} ms` : 'no send grid') +
          (lattice ? `, send lattice ${lattice.periodMs.toFixed(3)} ms (${lattice.control})` : ', no send lattice');
        process.stdout.write(`${file}: ${entry.durationSec.toFixed(3)} s, ${tracks.length} track(s), ${grid}\n`);
        for (const t of tracks) {
          const dims = t.width ? ` ${t.width}x${t.height}` : t.sampleRate ? ` ${t.sampleRate} Hz ${t.channels} ch` : '';
          process.stdout.write(
            `  track ${t.id}: ${t.kind} ${t.codec}${dims}, ${t.samples} samples, ${t.durationSec.toFixed(3)} s` +
              (t.streamed ? ` -> ${t.streamed}` : ` (not streamed: ${t.skipped})`) +
              (t.editList ? `\n    edit list: ${t.editList}` : '') +
              '\n',
          );
        }
        process.stdout.write(`\nSDP:\n${sdp}`);
      } finally {
        await entry.file.close();
      }
    });
}
