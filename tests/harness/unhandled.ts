/**
 * A server that starts a task per connection and lets one of its promises
 * reject unhandled (a write or a handler not awaited, an error not caught
 * inside the task) would make Deno fail the whole test file with "Uncaught
 * error", cancelling every test after it and naming nothing. While an
 * {@linkcode UnhandledRejections} is in use, such rejections are recorded
 * instead, and `check()` fails the test that saw them, naming the mistake.
 *
 * @module
 */

import { fail, LessonFailure, type Section } from "./failure.ts";
import { pollOnce } from "./io_turn.ts";

/** The mistake named when a server's promise was rejected and nothing handled it. */
export const UNHANDLED_REJECTION =
  "an error in one connection's task escaped as an unhandled rejection: await every write " +
  "and handler inside the task, and catch errors there";

/**
 * Records unhandled promise rejections while in use (from the moment it is
 * made until disposed), instead of letting them crash the test file.
 *
 * @example
 * ```ts ignore
 * import { UnhandledRejections } from "./unhandled.ts";
 * using unhandled = new UnhandledRejections("the server", section("Many clients"));
 * // … run the server and its clients …
 * await unhandled.check();
 * ```
 */
export class UnhandledRejections implements Disposable {
  /** The reasons of the rejections seen so far. */
  readonly seen: unknown[] = [];
  readonly #whose: string;
  readonly #section: Section;
  readonly #mistake: string;
  readonly #handler = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    this.seen.push(event.reason);
  };

  /** Starts recording; `whose` names the code under test (`the server`). */
  constructor(whose: string, section: Section, mistake: string = UNHANDLED_REJECTION) {
    this.#whose = whose;
    this.#section = section;
    this.#mistake = mistake;
    globalThis.addEventListener("unhandledrejection", this.#handler);
  }

  /**
   * Lets finished I/O settle and the runtime dispatch pending
   * `unhandledrejection` events (it does so between event-loop turns:
   * `pollOnce`, not a wait for the code under test), then fails, naming the
   * mistake, if anything was rejected unhandled.
   */
  async check(): Promise<void> {
    await pollOnce();
    if (!this.seen.length) return;
    const reason = this.seen[0];
    fail({
      summary: `an unhandled rejection in ${this.#whose}: ${
        reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason)
      }`,
      section: this.#section,
      mistake: this.#mistake,
    });
  }

  /** Stops recording. */
  [Symbol.dispose](): void {
    globalThis.removeEventListener("unhandledrejection", this.#handler);
  }
}

/** How {@linkcode failOnUnhandled} names what went wrong. */
export interface UnhandledOptions {
  /** The mistake named for a rejection (default {@linkcode UNHANDLED_REJECTION}). */
  mistake?: string;
  /**
   * Let a failure of `body` that names a mistake stand over the rejections
   * seen, where the suite knows them to be that mistake's consequence (writes
   * not awaited, rejected when the connection closes under them). By default
   * a rejection is named first: an error that escaped is the likely cause of
   * whatever else went wrong (a log line that never came, a reply cut short).
   */
  namedFirst?: boolean;
}

/**
 * Runs `body` while recording unhandled rejections: if any was seen, the
 * test fails naming it (unless `body` failed with a report that
 * `causesRejections`, or `options.namedFirst` and `body` failed naming a
 * mistake); otherwise `body`'s own result or failure stands.
 *
 * @example
 * ```ts ignore
 * import { failOnUnhandled } from "./unhandled.ts";
 * await failOnUnhandled("the server", section("The server"), async () => {
 *   // … start the server, talk to it, stop it …
 * });
 * ```
 */
export async function failOnUnhandled<T>(
  whose: string,
  section: Section,
  body: () => Promise<T>,
  options: UnhandledOptions = {},
): Promise<T> {
  using unhandled = new UnhandledRejections(whose, section, options.mistake);
  let result: { value: T } | { error: unknown };
  try {
    result = { value: await body() };
  } catch (error) {
    result = { error };
  }
  const report = "error" in result && result.error instanceof LessonFailure
    ? result.error.report
    : undefined;
  if (report?.causesRejections || (options.namedFirst && report?.mistake !== undefined)) {
    await unhandled.check().catch(() => {}); // still let pending rejections arrive here
    throw (result as { error: unknown }).error;
  }
  await unhandled.check();
  if ("error" in result) throw result.error;
  return result.value;
}
