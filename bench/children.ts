/**
 * Every child process the bench starts is registered here, so that none is left behind: they are
 * killed on normal exit, on an uncaught error, and on Ctrl-C / SIGTERM (the children also stop by
 * themselves when the bench's IPC channel or stdin pipe closes).
 */
import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
let installed = false;

export function registerChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  installCleanup();
}

/** Ends a child politely (SIGTERM), then by force after `graceMs`. Resolves once it has exited. */
export function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function killAllNow(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.once('exit', killAllNow);
  const onSignal = (sig: NodeJS.Signals): void => {
    process.stderr.write(`\nbench: ${sig}, stopping servers\n`);
    void Promise.all([...children].map((c) => stopChild(c, 1000))).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('uncaughtException', (err) => {
    process.stderr.write(`bench: ${err.stack ?? String(err)}\n`);
    killAllNow();
    process.exit(1);
  });
}
