/**
 * Waits until the kernel stamps what it receives as it arrives. Linux turns its receive stamping
 * on lazily (a work item run after the first socket asks for it), and what is queued before it is
 * on is stamped when it is read: on a busy machine that took ~200 ms here. Call it with the socket
 * under test open (its stamping keeps the kernel's on); a probe datagram counts once its age at the
 * read is its real wait.
 */
import dgram from 'node:dgram';
import { DatagramDrain, Scheduler } from '../../src/transport/index.ts';
import { realClock } from '../../src/util/clock.ts';

const HOST = '127.0.0.1';

function bound(): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, HOST, () => resolve(s));
  });
}

export async function untilKernelStamps(timeoutMs = 5000): Promise<void> {
  const probe = await bound();
  const sender = await bound();
  let age = 0;
  const drain = DatagramDrain.open(
    probe,
    new Scheduler(realClock),
    realClock,
    () => 60_000,
    (_msg, _ip, _port, arrivalWallMs) => {
      age = realClock.wallNow() - arrivalWallMs;
    },
  );
  if (!drain) throw new Error('untilKernelStamps needs the native addon with its batched reader');
  try {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
      await new Promise<void>((resolve, reject) => sender.send('probe', probe.address().port, HOST, (e) => (e ? reject(e) : resolve())));
      await new Promise((r) => setTimeout(r, 20));
      drain.read();
      if (age >= 10) return;
    }
    throw new Error(`the kernel did not stamp datagrams on arrival within ${timeoutMs} ms`);
  } finally {
    drain.close();
    probe.close();
    sender.close();
  }
}
