/**
 * The addon's wake-up timer (native/timer.c) as the server's scheduler uses it: never before the
 * due time on the real clock, fractional delays kept, a callback that behaves as a timer's
 * (microtasks and process.nextTick run after it, its exception is the process's uncaught one),
 * and an event loop it keeps alive only while armed. Its precision is a figure of the benchmark
 * (README), not asserted here: on two shared cores any wake-up can be late.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Scheduler, nativeSenderError, preciseWakeTimer, wakeTimerKind } from '../../src/transport/index.ts';
import { realClock } from '../../src/util/clock.ts';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const addonFile = path.join(root, 'native/build/sendmmsg.node');

/** Runs a CommonJS snippet with the addon as `addon`; its stdout, stderr and exit code. */
async function child(code: string, env: NodeJS.ProcessEnv = {}): Promise<{ out: string; err: string; code: number }> {
  const script = `const addon = require(${JSON.stringify(addonFile)});\n${code}`;
  try {
    const r = await run(process.execPath, ['-e', script], { timeout: 10_000, env: { ...process.env, ...env } });
    return { out: r.stdout, err: r.stderr, code: 0 };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; code?: number };
    return { out: x.stdout ?? '', err: x.stderr ?? '', code: typeof x.code === 'number' ? x.code : -1 };
  }
}

describe.runIf(process.platform === 'linux')('the native wake-up timer', () => {
  it('is what the server wakes on here', () => {
    expect(nativeSenderError()).toBeUndefined();
    expect(wakeTimerKind()).toBe(process.env.STREAMLAB_PRECISE_TIMER === '0' ? 'node' : 'native');
  });

  it('a scheduler on it runs every task at or after its fractional due time, in order', async () => {
    const timer = preciseWakeTimer();
    expect(timer).toBeDefined();
    // Resolution 0: no task may run early with another's wake-up.
    const s = new Scheduler(realClock, 0, undefined, timer);
    const t0 = realClock.now();
    const due = [0.3, 1.7, 2.05, 4.5, 4.75, 9.99].map((d) => t0 + d);
    const ran: { due: number; at: number }[] = [];
    await new Promise<void>((done) => {
      for (const d of due)
        s.once(d, () => {
          ran.push({ due: d, at: realClock.now() });
          if (ran.length === due.length) done();
        });
    });
    expect(ran.map((r) => r.due)).toEqual(due);
    for (const r of ran) expect(r.at).toBeGreaterThanOrEqual(r.due);
    expect(s.size).toBe(0);
  });

  it('two schedulers share the one timer of the thread, each woken for its own tasks', async () => {
    const a = new Scheduler(realClock, 0, undefined, preciseWakeTimer());
    const b = new Scheduler(realClock, 0, undefined, preciseWakeTimer());
    const t0 = realClock.now();
    const order: string[] = [];
    await new Promise<void>((done) => {
      a.once(t0 + 3.5, () => order.push('a1'));
      b.once(t0 + 1.25, () => order.push('b1'));
      a.once(t0 + 0.5, () => order.push('a0'));
      b.once(t0 + 6, () => {
        order.push('b2');
        done();
      });
    });
    expect(order).toEqual(['a0', 'b1', 'a1', 'b2']);
  });

  it('runs microtasks and nextTick callbacks after each fire, as a timer callback does', async () => {
    const r = await child(`
      const seen = [];
      let fires = 0;
      addon.timerStart(() => {
        fires++;
        if (fires === 1) {
          process.nextTick(() => seen.push('tick'));
          Promise.resolve().then(() => seen.push('microtask'));
          addon.timerArm(1.5);
        } else {
          // Nothing else ran a callback in between: only the fire's own scope can have run them.
          console.log(JSON.stringify(seen));
        }
      });
      addon.timerArm(0.5);
    `);
    expect(r.err).toBe('');
    expect(JSON.parse(r.out)).toEqual(['tick', 'microtask']);
  });

  it('keeps the process alive while armed and lets it exit when not', async () => {
    // Armed for 200 ms and nothing else to do: the process waits for it, then exits on its own.
    const armed = await child(`
      const t0 = performance.now();
      addon.timerStart(() => console.log('fired after ' + Math.round(performance.now() - t0)));
      addon.timerArm(200);
    `);
    expect(armed.code).toBe(0);
    expect(armed.out).toMatch(/^fired after (\d+)/);
    expect(Number(/(\d+)/.exec(armed.out)![1])).toBeGreaterThanOrEqual(200);
    // Stopped before it fires: the process exits at once without it.
    const stopped = await child(`
      addon.timerStart(() => console.log('fired'));
      addon.timerArm(5000);
      addon.timerStop();
      process.on('exit', () => console.log('exit'));
    `);
    expect(stopped).toMatchObject({ out: 'exit\n', code: 0 });
  });

  it("a callback's exception is the process's uncaught exception", async () => {
    const r = await child(`
      process.on('uncaughtException', (e) => { console.log('caught: ' + e.message); });
      addon.timerStart(() => { throw new Error('wake failed'); });
      addon.timerArm(1);
    `);
    expect(r.out).toBe('caught: wake failed\n');
  });

  it('refuses a second start in one thread, and an arm before the start', async () => {
    const r = await child(`
      try { addon.timerArm(1); } catch (e) { console.log(e.message); }
      addon.timerStart(() => undefined);
      try { addon.timerStart(() => undefined); } catch (e) { console.log(e.message); }
      try { addon.timerArm('soon'); } catch (e) { console.log(e.message); }
    `);
    expect(r.out.trim().split('\n')).toEqual([
      'timerArm: timerStart first',
      'timerStart: already started in this thread',
      'timerArm(delayMs: number)',
    ]);
  });
});
