/**
 * Captures what a lesson program prints through its `log` option, so a test
 * can wait (bounded) for a given line, e.g. `Listening at 127.0.0.1:PORT`.
 *
 * @module
 */

import { type Awaiting, within } from "./deadline.ts";

/** Lines logged by a program, awaitable by pattern. */
export class LogLines {
  /** Every line logged so far, in order. */
  readonly lines: string[] = [];
  #cursor = 0;
  #wake: (() => void) | undefined;

  /**
   * Records one line; pass it as the program's `log` option.
   *
   * @example
   * ```ts
   * import { LogLines } from "./log.ts";
   * const log = new LogLines();
   * log.push("Listening at 127.0.0.1:1060");
   * ```
   */
  push = (line: string): void => {
    this.lines.push(line);
    this.#wake?.();
  };

  /**
   * Waits for the next line (after those already matched) that matches
   * `pattern`, and returns the match. Fails with the lines seen so far if
   * none arrives in time.
   *
   * @example
   * ```ts
   * import { LogLines } from "./log.ts";
   * const log = new LogLines();
   * log.push("Listening at 127.0.0.1:1060");
   * const m = await log.next(/:(\d+)$/, { awaiting: "the port", section: { lesson: "lesson-03", heading: "Running it as a program" } });
   * m[1]; // "1060"
   * ```
   */
  async next(pattern: RegExp, wait: Awaiting): Promise<RegExpMatchArray> {
    const found = async (): Promise<RegExpMatchArray> => {
      while (true) {
        for (; this.#cursor < this.lines.length; this.#cursor++) {
          const m = this.lines[this.#cursor].match(pattern);
          if (m) {
            this.#cursor++;
            return m;
          }
        }
        await new Promise<void>((resolve) => this.#wake = resolve);
      }
    };
    const seen = () =>
      this.lines.length ? this.lines.map((l) => JSON.stringify(l)).join(", ") : "(nothing)";
    try {
      return await within(found(), wait);
    } catch (e) {
      if (e instanceof Error) {
        e.message = e.message.replace("\n", `\n  printed so far: ${seen()}\n`);
      }
      throw e;
    }
  }
}
