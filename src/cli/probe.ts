import path from 'node:path';
import type { Command } from 'commander';
import { ChunkCache, DEFAULTS, describeSdp, openMediaEntry } from '../server/index.ts';

/** `streamlab probe <file>`: tracks, codecs, duration and the SDP the server would send. */
export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description('show the tracks of a media file and the SDP the server would send for it')
    .argument('<file>', 'media file')
    .option('--json', 'machine-readable output')
    .action(async (file: string, flags: { json?: boolean }) => {
      const entry = await openMediaEntry(path.resolve(file), path.basename(file), DEFAULTS.mtu - 40, new ChunkCache(1));
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
            streamed: served ? `${served.control}, payload type ${served.source.format.payloadType}, ${served.source.format.rtpmap}` : undefined,
            skipped: entry.skipped.find((s) => s.id === t.id)?.reason,
            editList: t.editListNote,
          };
        });
        if (flags.json) {
          process.stdout.write(JSON.stringify({ file, durationSec: entry.durationSec, tracks, sdp }, null, 2) + '\n');
          return;
        }
        process.stdout.write(`${file}: ${entry.durationSec.toFixed(3)} s, ${tracks.length} track(s)\n`);
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
