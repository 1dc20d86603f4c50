/**
 * The `$` flood of the trust bench in a process of its own, so that pumping frames does not slow
 * the probe's own event loop: argv port, bytes per second (0: unpaced). It sends
 * `{ frames }` and exits when told `{ cmd: 'stop' }` or when the IPC channel closes.
 */
import { dollarFlood } from './attacks.ts';

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  const rate = Number(process.argv[3] ?? 0);
  const flood = await dollarFlood(port, `rtsp://127.0.0.1:${port}/${process.argv[4] ?? 'sample.mp4'}`, rate);
  process.send?.({ type: 'started' });
  const end = (): void => {
    const frames = flood.frames();
    flood.stop();
    if (process.connected) process.send?.({ type: 'stopped', frames }, () => process.exit(0));
    else process.exit(0);
  };
  process.on('message', end);
  process.on('disconnect', () => process.exit(0));
}

void main();
