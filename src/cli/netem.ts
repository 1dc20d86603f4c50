import type { Command } from 'commander';
import { NetemRelay, parseEndpoint } from '../transport/index.ts';
import { parseIntOption } from './options.ts';
import { impairmentFromCli } from './serve.ts';
import { printNetemNotice } from './netem-notice.ts';

/** `streamlab netem --listen HOST:PORT --forward HOST:PORT [--seed N] <netem args>`. */
export function registerNetem(program: Command): void {
  program
    .command('netem')
    .description('relay UDP datagrams from --listen to --forward through a netem-like impairment (replies go back unimpaired)')
    .argument('<args...>', 'netem words, as for tc qdisc ... netem, e.g. loss gemodel 1% 30% delay 40ms 10ms')
    .requiredOption('--listen <host:port>', 'where the sender sends')
    .requiredOption('--forward <host:port>', 'where the receiver listens')
    .option('--seed <n>', 'seed: the same seed and words drop and delay the same packets', parseIntOption(0, 2 ** 31))
    .action(async (words: string[], flags: { listen: string; forward: string; seed?: number }) => {
      const listen = parseEndpoint(flags.listen);
      const forward = parseEndpoint(flags.forward);
      if (!listen) throw new Error(`--listen: expected HOST:PORT, got ${flags.listen}`);
      if (!forward) throw new Error(`--forward: expected HOST:PORT, got ${flags.forward}`);
      const spec = await impairmentFromCli(words.join(' '), flags.seed);
      printNetemNotice(undefined, words.join(' ')); // the relay line below shows the words
      const relay = await NetemRelay.start(listen, forward, spec);
      process.stdout.write(
        `netem relay ${listen.host}:${relay.listenPort} -> ${forward.host}:${forward.port}: ${spec.text} (seed ${spec.seed})\n`,
      );
      const tty = process.stderr.isTTY === true;
      const ticker = setInterval(() => {
        const c = relay.counters;
        if (tty) process.stderr.write(`\r\x1b[2Kreceived ${c.received} forwarded ${c.forwarded} dropped ${c.dropped} replies ${c.replies}`);
      }, 1000);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      clearInterval(ticker);
      relay.close();
      const s = relay.summary();
      if (tty) process.stderr.write('\n');
      process.stdout.write(
        `${s.packets} packets, ${s.lost} lost (${(s.lossRate * 100).toFixed(2)} %), ${s.reordered} reordered, ` +
          `${s.duplicatesDelivered} duplicates, delay mean ${s.delay.mean.toFixed(1)} ms p95 ${s.delay.p95.toFixed(1)} ms\n`,
      );
    });
}
