/**
 * A fake clock for a lesson's injected `sleep(ms, signal)`: time moves only
 * when the test calls {@linkcode ManualClock.advance}, so no real pause (and
 * no stall of a loaded machine) decides a test's outcome.
 *
 * @module
 */

/** Waits `ms` milliseconds, or less if `signal` aborts first; resolves either way. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/**
 * Records every wait asked of it and ends those that are due when the test
 * moves time on; an aborted wait ends at once.
 *
 * @example
 * ```ts
 * import { ManualClock } from "./manual_clock.ts";
 * const clock = new ManualClock();
 * const waiting = clock.sleep(400, new AbortController().signal);
 * clock.advance(400); // waiting resolves now
 * await waiting;
 * clock.asked; // [400]
 * await clock.waitsAsked(1); // already so
 * ```
 */
export class ManualClock {
  #now = 0;
  readonly #waits = new Set<{ due: number; wake: () => void }>();
  readonly #watchers = new Set<{ count: number; resolve: () => void }>();
  /** Every wait asked for, in milliseconds, in order. */
  readonly asked: number[] = [];

  /** Resolves once `count` waits in all have been asked for. */
  waitsAsked(count: number): Promise<void> {
    if (this.asked.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#watchers.add({ count, resolve }));
  }

  /** Pass this as the code's `sleep` option. */
  sleep: Sleep = (ms, signal) =>
    new Promise((resolve) => {
      this.asked.push(ms);
      for (const watcher of [...this.#watchers]) {
        if (this.asked.length < watcher.count) continue;
        this.#watchers.delete(watcher);
        watcher.resolve();
      }
      const wait = {
        due: this.#now + ms,
        wake: () => {
          this.#waits.delete(wait);
          signal.removeEventListener("abort", wait.wake);
          resolve();
        },
      };
      this.#waits.add(wait);
      signal.addEventListener("abort", wait.wake, { once: true });
      if (signal.aborted || wait.due <= this.#now && ms > 0) wait.wake();
    });

  /** Ends every wait now, and every wait asked for from now on at once: time runs out. */
  runOut(): void {
    this.advance(Infinity);
  }

  /** Moves time on by `ms` and ends every wait that is then due. */
  advance(ms: number): void {
    this.#now += ms;
    for (const wait of [...this.#waits]) if (wait.due <= this.#now) wait.wake();
  }
}
