/**
 * Renders suite results for a terminal (and for CI logs): a line per test,
 * the teaching message of the first failures, a summary line per lesson.
 * Colour follows `NO_COLOR`; lines stay within 80 columns where the content
 * allows.
 *
 * @module
 */

import { bold, dim, green, red, yellow } from "@std/fmt/colors";
import type { TestResult } from "./junit.ts";
import { relativize, type SuiteResult } from "./suite.ts";

/** How many failures get their full message in the default view. */
export const DETAILED_FAILURES = 3;

/** Counts of a suite's tests. */
export interface Tally {
  /** Tests that passed. */
  passed: number;
  /** Tests that failed, or 1 when the suite could not run at all. */
  failed: number;
  /** Tests skipped (ignored), e.g. Linux-only ones elsewhere. */
  skipped: number;
}

/**
 * Counts a suite's outcomes; a suite that could not run counts as one failure.
 *
 * @example
 * ```ts
 * import { tally } from "./report.ts";
 * tally({ lesson: "lesson-03", target: "solutions", tests: [], problem: "syntax error", ms: 5 });
 * // { passed: 0, failed: 1, skipped: 0 }
 * ```
 */
export function tally(result: SuiteResult): Tally {
  const passed = result.tests.filter((t) => t.passed).length;
  const skipped = result.tests.filter((t) => t.skipped).length;
  const failed = result.tests.length - passed - skipped + (result.problem ? 1 : 0);
  return { passed, failed, skipped };
}

/**
 * Whether a failure is a stub's `not implemented` error.
 *
 * @example
 * ```ts
 * import { isStubFailure } from "./report.ts";
 * isStubFailure({ name: "t", file: "", passed: false, skipped: false, message: "not implemented: ask", detail: "", ms: 1 });
 * // true
 * ```
 */
export function isStubFailure(test: TestResult): boolean {
  return !test.passed && !test.skipped && test.message.startsWith("not implemented");
}

/** Where in the learner's code a failure was thrown (first stack frame outside tests/). */
function thrownAt(test: TestResult): string | undefined {
  for (const m of test.detail.matchAll(/(file:\/\/\/[^\s)]+):(\d+):\d+/g)) {
    if (!m[1].includes("/tests/")) return `${relativize(m[1])}:${m[2]}`;
  }
  return undefined;
}

function indent(text: string, by: string): string {
  return text.split("\n").map((l) => by + l).join("\n");
}

/**
 * Renders one suite in full: header, one line per test, the first failures'
 * messages (all of them, with stacks, when `verbose`), and a summary line.
 *
 * @example
 * ```ts
 * import { renderSuite } from "./report.ts";
 * const text = renderSuite(
 *   { lesson: "lesson-03", target: "exercises", tests: [], problem: "missing file: x.ts", ms: 5 },
 *   { title: "A first UDP server and client", verbose: false },
 * );
 * ```
 */
export function renderSuite(
  result: SuiteResult,
  options: { title: string; verbose: boolean; targetPath?: string },
): string {
  const out: string[] = [];
  const against = options.targetPath ?? result.target;
  out.push(bold(`${result.lesson} · ${options.title}`) + dim(`  (testing ${against})`));
  if (result.problem) {
    out.push(red(`  ✗ the tests could not run:`));
    out.push(indent(result.problem, "      "));
    out.push(dim("    Fix the code above, then run the tests again."));
  }
  let detailed = 0;
  for (const test of result.tests) {
    if (test.skipped) {
      out.push(yellow(`  - ${test.name}`) + dim(" (skipped)"));
    } else if (test.passed) {
      out.push(green(`  ✓ `) + test.name + dim(` (${test.ms} ms)`));
    } else {
      out.push(red(`  ✗ `) + test.name);
      if (isStubFailure(test) && !options.verbose) {
        const at = thrownAt(test);
        out.push(dim(`      ${test.message.split("\n")[0]}${at ? `  (${at})` : ""}`));
      } else if (options.verbose) {
        out.push(indent(relativize(test.detail || test.message), "      "));
      } else if (detailed++ < DETAILED_FAILURES) {
        out.push(indent(relativize(test.message), "      "));
      } else {
        out.push(dim(`      ${relativize(test.message).split("\n")[0]}`));
      }
    }
  }
  out.push(summaryLine(result));
  return out.join("\n");
}

/**
 * The one-line summary of a suite: `lesson-03: 9 passed, 2 failed (0.8 s)`.
 *
 * @example
 * ```ts
 * import { summaryLine } from "./report.ts";
 * summaryLine({ lesson: "lesson-03", target: "solutions", tests: [], ms: 800 });
 * ```
 */
export function summaryLine(result: SuiteResult): string {
  const t = tally(result);
  const counts = `${t.passed} passed, ${t.failed} failed` +
    (t.skipped ? `, ${t.skipped} skipped` : "");
  const colour = t.failed ? red : green;
  return `${colour(`${result.lesson}: ${counts}`)} ${dim(`(${(result.ms / 1000).toFixed(1)} s)`)}`;
}
