import { createLogger } from '../util/log.ts';

const log = createLogger('events');

type Listener<A extends unknown[]> = (...args: A) => void;

/**
 * A typed event emitter whose emit() cannot be broken by a listener: a throwing dashboard or lab
 * listener is logged and the media loop goes on.
 */
export class SafeEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never[]>>>();

  on<K extends keyof Events>(event: K, fn: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(fn as unknown as Listener<never[]>);
    return () => this.off(event, fn);
  }

  off<K extends keyof Events>(event: K, fn: Listener<Events[K]>): void {
    this.listeners.get(event)?.delete(fn as unknown as Listener<never[]>);
  }

  emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as unknown as Listener<Events[K]>)(...args);
      } catch (err) {
        log.warn('event listener failed', { event: String(event), error: String(err) });
      }
    }
  }
}
