import { rename, unlink, writeFile } from 'node:fs/promises';
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { Pusher } from '../server/push/index.ts';
import type { PushSummary } from '../server/push/index.ts';
import { setLogLevel } from '../util/log.ts';
import type { LogLevel } from '../util/log.ts';
import { parseIntOption } from './options.ts';

interface PushFlags {
  to: string;
  sdp?: string;
  ttl?: number;
  interface?: string;
  ports?: string;
  loop?: boolean;
  start?: number;
  duration?: number;
  wait: number;
  mtu: number;
  log?: LogLevel;
  verbose?: boolean;
}

function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds ≥ 0');
  return n;
}

/** Writes the SDP atomically (a temporary file renamed over the target), or to stdout for `-`. */
export async function writeSdp(target: string, sdp: string): Promise<void> {
  if (target === '-') {
    process.stdout.write(sdp);
    return;
  }
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, sdp);
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw new Error(`cannot write the SDP to ${target}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function describeSummary(s: PushSummary): string {
  const parts = s.tracks.map((t) => `${t.media} ${t.packets} packets to port ${t.rtpPort}, ${t.reportsReceived} receiver report(s)`);
  return `streamlab push ended (${s.reason}): ${parts.join('; ')}\n`;
}

/** `streamlab push <file> --to rtp://ADDR:PORT [--sdp out.sdp]`. */
export function registerPush(program: Command): void {
  program
    .command('push')
    .description('send a file as RTP/RTCP to a unicast or multicast address and write the SDP players open')
    .argument(
      '<source>',
      'media file (MP4/MOV), or ffmpeg:<input args> for a live source (encoded to H.264/AAC, sent as MPEG-TS over RTP; add -re for files and lavfi)',
    )
    .requiredOption('--to <url>', 'destination rtp://ADDR:PORT (IPv4; track i uses PORT+2i, RTCP on the next port)')
    .option('--sdp <file>', 'write the SDP here (atomically); "-" prints it on stdout')
    .option('--ports <list>', 'per-track ports instead of PORT+2i: RTP[:RTCP],... one entry per track')
    .option('--ttl <n>', 'multicast TTL (default 1)', parseIntOption(0, 255))
    .option('--interface <addr>', 'local IPv4 address to send from (outgoing multicast interface); default: the OS chooses')
    .option(
      '--loop',
      'play the file over and over from its start (--start applies to the first pass); sequence numbers and timestamps continue',
    )
    .option('--start <npt>', 'start at this position (seconds; the keyframe at or before it)', seconds)
    .option('--duration <s>', 'stop after this many seconds of media (with --loop: in total)', seconds)
    .option(
      '--wait <s>',
      'seconds between writing the SDP and the first packet, for players to open it (SIGUSR1 ends the wait)',
      seconds,
      0,
    )
    .option('--mtu <bytes>', 'largest IP packet; RTP payloads are cut to fit', parseIntOption(576, 65535), 1500)
    .addOption(new Option('--log <level>', 'log level (default warn, or STREAMLAB_LOG)').choices(['error', 'warn', 'info', 'debug']))
    .option('-v, --verbose', 'same as --log info')
    .action(async (source: string, flags: PushFlags) => {
      if (flags.log) setLogLevel(flags.log);
      else if (flags.verbose) setLogLevel('info');
      const pusher = await Pusher.open({
        file: source,
        to: flags.to,
        ttl: flags.ttl,
        interfaceAddress: flags.interface,
        ports: flags.ports,
        mtu: flags.mtu,
        loop: flags.loop,
        startNpt: flags.start,
        durationSec: flags.duration,
      });
      let interrupted = false;
      const onSignal = () => {
        interrupted = true;
        void pusher.stop('interrupted');
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        if (flags.sdp !== undefined) await writeSdp(flags.sdp, pusher.sdp);
        const d = pusher.destination;
        const ports = d.ports.map((p) => (p.rtcp === p.rtp + 1 ? `${p.rtp}` : `${p.rtp}/${p.rtcp}`)).join(',');
        process.stderr.write(
          `streamlab push ${source} to ${d.address}${d.multicast ? ` (multicast, ttl ${d.ttl})` : ''} ports ${ports}` +
            `${flags.sdp !== undefined && flags.sdp !== '-' ? `, SDP in ${flags.sdp}` : ''}  (Ctrl-C to stop)\n`,
        );
        if (flags.wait > 0) {
          // SIGUSR1 ends the wait early: a script starts the push once its player is listening.
          let onUsr1 = () => undefined as void;
          const ready = new Promise<void>((resolve) => (onUsr1 = resolve));
          process.once('SIGUSR1', onUsr1);
          const timer = setTimeout(onUsr1, flags.wait * 1000);
          await Promise.race([ready, pusher.done]);
          clearTimeout(timer);
          process.off('SIGUSR1', onUsr1);
        }
        if (!interrupted) await pusher.start();
        const summary = await pusher.done;
        process.stderr.write(describeSummary(summary));
        if (summary.reason !== 'end of stream' && summary.reason !== 'interrupted')
          throw new Error(`push stopped early: ${summary.reason}`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await pusher.stop('error');
      }
    });
}
