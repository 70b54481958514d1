/**
 * Assertions that explain themselves: each compares what the learner's code
 * produced with what was expected and throws a {@linkcode LessonFailure}
 * that shows both (bytes as text, and hex when not printable), marks the
 * first difference, names the likely mistake and the section to reread.
 *
 * @module
 */

import { describe, firstDifference, quote, SHOW_LIMIT, toBytes } from "./bytes.ts";
import { type Awaiting, within } from "./deadline.ts";
import { fail, LessonFailure, type Section } from "./failure.ts";

/** The context every assertion takes: what is checked and where it is taught. */
export interface Check {
  /** What is being checked, e.g. `reply to a 16-byte datagram`. */
  what: string;
  /** The README section to reread on failure. */
  section: Section;
  /** The mistake a mismatch most likely comes from. */
  mistake?: string;
}

/**
 * Asserts two byte strings (or strings, compared as UTF-8) are identical.
 *
 * @example
 * ```ts
 * import { expectBytes } from "./expect.ts";
 * expectBytes("Hi", "Hi", { what: "greeting", section: { lesson: "lesson-01", heading: "Bytes" } });
 * ```
 */
export function expectBytes(
  actual: string | Uint8Array,
  expected: string | Uint8Array,
  check: Check,
): void {
  const a = toBytes(actual);
  const e = toBytes(expected);
  const at = firstDifference(a, e);
  if (at === -1) return;
  const column = at < SHOW_LIMIT ? quote(a.subarray(0, at)).length - 1 : 0;
  fail({
    summary: `${check.what}: the bytes differ from what was expected`,
    section: check.section,
    expected: describe(e),
    got: describe(a),
    marker: `${" ".repeat(column)}^ first difference at byte ${at}`,
    mistake: check.mistake,
  });
}

/**
 * Asserts a value equals the expected one (compared as JSON).
 *
 * @example
 * ```ts
 * import { expectEqual } from "./expect.ts";
 * expectEqual(3, 3, { what: "send count", section: { lesson: "lesson-04", heading: "Backoff" } });
 * ```
 */
export function expectEqual<T>(actual: T, expected: T, check: Check): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a === e) return;
  fail({
    summary: `${check.what}: not what was expected`,
    section: check.section,
    expected: e,
    got: a === undefined ? String(actual) : a,
    mistake: check.mistake,
  });
}

/**
 * Asserts a condition holds; `got` describes what was observed instead.
 *
 * @example
 * ```ts
 * import { expectThat } from "./expect.ts";
 * const port = 40000;
 * expectThat(port > 0, `port ${port}`, {
 *   what: "the OS picked a port",
 *   section: { lesson: "lesson-02", heading: "Port 0" },
 * });
 * ```
 */
export function expectThat(condition: boolean, got: string, check: Check & { expected?: string }) {
  if (condition) return;
  fail({
    summary: `${check.what}: not so`,
    section: check.section,
    expected: check.expected,
    got,
    mistake: check.mistake,
  });
}

/**
 * Runs `action` and asserts it rejects (or throws) with an error that is an
 * instance of `kind` and whose message matches `pattern`. Returns the error.
 *
 * @example
 * ```ts
 * import { expectRejects } from "./expect.ts";
 * await expectRejects(() => Promise.reject(new RangeError("port 70000 is out of range")), {
 *   kind: RangeError,
 *   pattern: /out of range/,
 *   what: "parse port 70000",
 *   section: { lesson: "lesson-02", heading: "Port numbers" },
 * });
 * ```
 */
export async function expectRejects(
  action: () => unknown,
  check: Check & { kind?: new (...args: never[]) => Error; pattern?: RegExp },
): Promise<Error> {
  let error: unknown;
  let value: unknown;
  try {
    value = await action();
  } catch (e) {
    error = e;
  }
  const wanted = `${check.kind?.name ?? "an error"}${
    check.pattern ? ` matching ${check.pattern}` : ""
  }`;
  if (error === undefined) {
    fail({
      summary: `${check.what}: expected it to fail, but it succeeded`,
      section: check.section,
      expected: wanted,
      got: `returned ${safeJson(value)}`,
      mistake: check.mistake,
    });
  }
  const err = error instanceof Error ? error : new Error(String(error));
  if (isNotImplemented(err)) throw err;
  if (
    (check.kind && !(err instanceof check.kind)) ||
    (check.pattern && !check.pattern.test(err.message))
  ) {
    fail({
      summary: `${check.what}: it failed, but not in the expected way`,
      section: check.section,
      expected: wanted,
      got: `${err.name}: ${err.message}`,
      mistake: check.mistake,
    });
  }
  return err;
}

/**
 * Whether an error is an unimplemented stub's "not implemented" error, which
 * must surface as such rather than count as the failure a test expected.
 *
 * @example
 * ```ts
 * import { isNotImplemented } from "./expect.ts";
 * isNotImplemented(new Error("not implemented: startServer")); // true
 * ```
 */
export function isNotImplemented(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("not implemented");
}

/**
 * How `running` settled, bounded by `wait`: its value, or the error it
 * rejected with, for a test that then says which outcome was right. A lesson
 * failure (the bound ran out, say) or "not implemented" is rethrown: that is
 * the test's verdict, not the code's outcome.
 *
 * @example
 * ```ts
 * import { settledWithin } from "./expect.ts";
 * const section = { lesson: "lesson-14", heading: "x" };
 * await settledWithin(Promise.reject(new Error("reset")), { awaiting: "a reset", section });
 * // the Error("reset") itself
 * ```
 */
export async function settledWithin(running: Promise<unknown>, wait: Awaiting): Promise<unknown> {
  try {
    return await within(running, wait);
  } catch (error) {
    if (error instanceof LessonFailure || isNotImplemented(error)) throw error;
    return error;
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
