/**
 * Bounded waits. Every await on the learner's code goes through
 * {@linkcode within}, so a stub or a hung implementation fails quickly with a
 * message naming what was awaited, instead of hanging the run.
 *
 * @module
 */

import { fail, type Section } from "./failure.ts";

/** How long a test waits for one network event by default, in milliseconds. */
export const DEFAULT_WAIT_MS = 1000;

/** How many more turns of the event loop a bounded wait allows once its time is up. */
const LAST_TURNS = 2;

/** What a bounded wait is for. */
export interface Awaiting {
  /** What is awaited, e.g. `a reply datagram from the server`. */
  awaiting: string;
  /** Where the behaviour is taught. */
  section: Section;
  /** The limit in milliseconds (default {@linkcode DEFAULT_WAIT_MS}). */
  ms?: number;
  /** The mistake a timeout most likely comes from. */
  mistake?: string;
  /**
   * The learner's code running meanwhile (e.g. a client awaiting the reply
   * this test is about to send). If it fails first, the wait fails with its
   * error at once, instead of timing out.
   */
  watch?: Promise<unknown>;
}

/**
 * Resolves like `promise`, or fails with a {@linkcode LessonFailure} once
 * `ms` milliseconds pass. The timer is always cleared, so the test's op
 * sanitizer stays quiet.
 *
 * @example
 * ```ts
 * import { within } from "./deadline.ts";
 * const value = await within(Promise.resolve(42), {
 *   awaiting: "the answer",
 *   section: { lesson: "lesson-01", heading: "Bytes" },
 * });
 * ```
 */
export async function within<T>(promise: Promise<T>, wait: Awaiting): Promise<T> {
  const ms = wait.ms ?? DEFAULT_WAIT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const expire = () => {
      try {
        fail({
          summary: `timed out after ${ms} ms awaiting ${wait.awaiting}`,
          section: wait.section,
          mistake: wait.mistake,
        });
      } catch (e) {
        reject(e);
      }
    };
    // When the time is up, the awaited event may have become ready in the same stretch of a
    // busy event loop (code that never yields, a starved process): let the loop turn
    // LAST_TURNS more times before calling it late, so that it is judged on whether it
    // happened, not on which of the two the loop looked at first.
    let turns = LAST_TURNS;
    const last = () => turns-- > 0 ? void (timer = setTimeout(last, 0)) : expire();
    timer = setTimeout(last, ms);
  });
  const watched = wait.watch?.then(() => new Promise<never>(() => {}));
  try {
    return await Promise.race(watched ? [promise, timeout, watched] : [promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves after one turn of the event loop (a message to itself on a
 * `MessageChannel`, then closed): what a fake connection waits before it
 * answers, as a socket's operation completes a turn later. Every pending
 * promise job has run by then. A zero-delay timer would do the same, but
 * Deno's fire 1–2 ms apart, which over a stream of 1-byte reads adds up to
 * a test's whole run time. (Not `setImmediate`: under the grader's lockdown
 * its queue is frozen.)
 *
 * @example
 * ```ts
 * import { nextTurn } from "./deadline.ts";
 * await nextTurn();
 * ```
 */
export function nextTurn(): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    port2.onmessage = () => {
      port1.close();
      port2.close();
      resolve();
    };
    port1.postMessage(undefined);
  });
}

/**
 * Settles after `ms` milliseconds. Only for fault injection (a delayed
 * forward, a withheld second half), never to wait for the code under test.
 *
 * @example
 * ```ts
 * import { pause } from "./deadline.ts";
 * await pause(1);
 * ```
 */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Marks a promise of the learner's code as handled, so that a rejection
 * before the test awaits it cannot abort the whole test file, and returns it
 * (awaiting it still throws). Pass it as `watch` to waits meanwhile.
 *
 * @example
 * ```ts
 * import { background } from "./deadline.ts";
 * const running = background(Promise.reject(new Error("not implemented")));
 * await running.catch((e) => e.message); // "not implemented"
 * ```
 */
export function background<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
