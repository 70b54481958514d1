/**
 * Renders suite results for a terminal (and for CI logs): a line per test,
 * the teaching message of the first failures, a summary line per lesson.
 * Colour follows `NO_COLOR`; lines stay within 80 columns where the content
 * allows.
 *
 * @module
 */

import { bold, dim, green, red, stripAnsiCode, yellow } from "@std/fmt/colors";
import { explainError } from "./explain_error.ts";
import type { TestResult } from "./junit.ts";
import { LeakNotes } from "./leaks.ts";
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
  return !test.passed && !test.skipped && isNotImplementedMessage(test.message);
}

/**
 * Whether a failure message is the stub's "not implemented".
 *
 * @example
 * ```ts
 * import { isNotImplementedMessage } from "./report.ts";
 * isNotImplementedMessage("not implemented: parseHostPort"); // true
 * ```
 */
export function isNotImplementedMessage(message: string): boolean {
  return message.startsWith("not implemented");
}

/** Where in the learner's code a failure was thrown (first stack frame outside tests/). */
function thrownAt(test: TestResult): string | undefined {
  for (const m of test.detail.matchAll(/(file:\/\/\/[^\s)]+):(\d+):\d+/g)) {
    if (!m[1].includes("/tests/")) return `${relativize(m[1])}:${m[2]}`;
  }
  return undefined;
}

/** Output width the reports keep to. */
export const WIDTH = 80;

/**
 * Fits every line into {@linkcode WIDTH} columns. Prose wraps at spaces,
 * continuing with deeper indentation. Lines whose columns matter keep their
 * start: an `expected:`/`got:` value too long for one line (JSON, escapes,
 * hex) continues on lines aligned under the value, broken after a comma or
 * space where there is one near the edge; wire transcripts and code continue
 * 4 columns deeper; a caret that would point past the edge becomes its words.
 * A single word longer than a continuation line (a long link) moves left, or
 * is cut, to fit.
 *
 * @example
 * ```ts
 * import { wrap } from "./report.ts";
 * wrap("  " + "word ".repeat(30)).split("\n").every((l) => l.length <= 80); // true
 * wrap("      got:      " + "[1,2]".repeat(40)).split("\n").every((l) => l.length <= 80); // true
 * ```
 */
export function wrap(text: string, width = WIDTH): string {
  return text.split("\n").flatMap((line) => fitLine(line, width)).join("\n");
}

/** A line that is a caret under a `got:` value (with the words beside it). */
const CARET = /^\s*(?:\^|[^\s^][^^]*\^\s*$)/;
/** Lines whose columns carry meaning: values, transcripts, code excerpts. */
const COLUMNS = /^\s*(expected:|got:|wire:|\+ *\d+ ms |\d+ \|)/;

function fitLine(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const visible = stripAnsiCode(line);
  if (visible !== line) return visible.length <= width ? [line] : wordWrap(line, width);
  if (CARET.test(line) && line.includes("^")) {
    const words = line.replace(/\^/, "").trim();
    return [`        (${words || "the difference is"} past the right edge)`];
  }
  const column = line.match(/^(\s*(?:expected:|got:)\s*)/);
  if (column) return hardWrap(line, " ".repeat(column[1].length), width);
  if (COLUMNS.test(line)) return hardWrap(line, " ".repeat(leading(line) + 4), width);
  return wordWrap(line, width);
}

function leading(line: string): number {
  return line.match(/^\s*/)![0].length;
}

/** Cuts a line at the edge (after a comma or space near it if there is one), continuing at `lead`. */
function hardWrap(line: string, lead: string, width: number): string[] {
  if (lead.length > width - 20) lead = "    "; // every pass must make progress
  const out: string[] = [];
  let rest = line;
  while (rest.length > width) {
    const floor = Math.max(lead.length + 1, width - 24);
    let cut = width;
    for (let i = width; i > floor; i--) {
      if (rest[i - 1] === "," || rest[i - 1] === " ") {
        cut = i;
        break;
      }
    }
    out.push(rest.slice(0, cut).trimEnd());
    rest = lead + rest.slice(cut).trimStart();
    if (rest.length <= lead.length) return out;
  }
  out.push(rest);
  return out;
}

/** Wraps prose at spaces; a word too long for a continuation line moves left or is cut. */
function wordWrap(line: string, width: number): string[] {
  const indent = line.match(/^\s*/)![0];
  const out: string[] = [];
  let current = "";
  for (const word of line.trim().split(" ")) {
    const lead = out.length ? `${indent}    ` : indent;
    if (current && (lead + current + " " + word).length > width) {
      out.push(lead + current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  out.push((out.length ? `${indent}    ` : indent) + current);
  return out.flatMap((l) => {
    if (stripAnsiCode(l).length <= width) return [l];
    const word = l.trim();
    if (word.includes(" ") || word.length > width) {
      return word.includes(" ") ? [l] : hardWrap(l, " ".repeat(leading(l)), width);
    }
    return [" ".repeat(Math.min(leading(l), width - word.length)) + word];
  });
}

function indent(text: string, by: string, wrapLines = true): string {
  const indented = text.split("\n").map((l) => by + l).join("\n");
  return wrapLines ? wrap(indented) : indented;
}

/**
 * The teaching paragraph for a failure that is a raw network error
 * (`ConnectionRefused: …`, `AddrInUse: …`, "Message too long", a permission
 * denial), or undefined.
 *
 * @example
 * ```ts
 * import { explainFailure } from "./report.ts";
 * explainFailure("AddrInUse: Address already in use (os error 98)", "lesson-06")?.startsWith("why:"); // true
 * ```
 */
export function explainFailure(message: string, lesson: string): string | undefined {
  // The error may follow where it came from (an uncaught error: `file.ts:3:9  BadResource: …`).
  const m = message.replace(/^not run: /, "").match(/^(?:\S+:\d+:\d+ {2})?(\w+): ([^\n]*)/);
  if (!m || m[1] === "LessonFailure" || message.startsWith("not implemented")) return undefined;
  const error = Object.assign(new Error(m[2]), { name: m[1] });
  const why = explainError(error, lesson);
  return why ? `why: ${why.text} Read: ${why.lesson}` : undefined;
}

/**
 * Commands that replay a lesson's exchange by hand with its runnable
 * program, the learner's half against the reference half.
 *
 * @example
 * ```ts
 * import { reproduceLines } from "./report.ts";
 * reproduceLines("lesson-03")[1]; // "    deno task run lesson-03 server               # yours"
 * ```
 */
export function reproduceLines(lesson: string): string[] {
  return [
    "  Reproduce it by hand, in two terminals:",
    `    deno task run ${lesson} server               # yours`,
    `    deno task run ${lesson} client --solutions   # the reference client`,
    `  (or: deno task run ${lesson} server --solutions, then your client)`,
  ];
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
  options: { title: string; verbose: boolean; targetPath?: string; program?: boolean },
): string {
  const out: string[] = [];
  const against = options.targetPath ?? result.target;
  out.push(wrap(bold(`${result.lesson} · ${options.title}`) + dim(`  (testing ${against})`)));
  if (result.problem) {
    out.push(red(`  ✗ the tests could not run:`));
    // Compiler output keeps file:line:col whole; what a stopped run says is prose, wrapped.
    out.push(indent(result.problem, "      ", result.stopped !== undefined));
    out.push(dim(
      result.stopped
        ? "    Fix what is named above, then run the tests again."
        : "    Fix the code above, then run the tests again.",
    ));
  }
  let detailed = 0;
  const leaks = new LeakNotes(result.lesson);
  for (const test of result.tests) {
    const leak = options.verbose ? undefined : leaks.render(test.message);
    if (test.skipped) {
      out.push(wrap(yellow(`  - ${test.name}`) + dim(" (skipped)")));
    } else if (test.passed) {
      out.push(wrap(green(`  ✓ `) + test.name + dim(` (${test.ms} ms)`)));
    } else {
      out.push(wrap(red(`  ✗ `) + test.name));
      if (isStubFailure(test) && !options.verbose) {
        const at = thrownAt(test);
        out.push(dim(wrap(`      ${test.message.split("\n")[0]}${at ? `  (${at})` : ""}`)));
      } else if (options.verbose) {
        out.push(indent(relativize(test.detail || test.message), "      "));
      } else if (leak) {
        out.push(indent(leak.join("\n"), "      "));
      } else if (detailed++ < DETAILED_FAILURES) {
        out.push(indent(relativize(test.message), "      "));
        const why = explainFailure(test.message, result.lesson);
        if (why) out.push(indent(why, "      "));
      } else {
        out.push(dim(wrap(`      ${relativize(test.message).split("\n")[0]}`)));
      }
    }
  }
  if (options.program && result.tests.some((t) => !t.passed && !t.skipped && !isStubFailure(t))) {
    out.push(dim(reproduceLines(result.lesson).join("\n")));
  }
  out.push(summaryLine(result));
  return out.join("\n");
}

/**
 * The watch view: how many tests pass, the first failure in full, the other
 * failures one line each.
 *
 * @example
 * ```ts ignore
 * console.log(renderFocused(result, { title: lesson.title, program: true }));
 * ```
 */
export function renderFocused(
  result: SuiteResult,
  options: { title: string; program?: boolean },
): string {
  const t = tally(result);
  const out = [bold(`${result.lesson} · ${options.title}`), ""];
  if (result.problem) {
    out.push(
      red("✗ the tests could not run:"),
      indent(result.problem, "    ", result.stopped !== undefined),
    );
    return out.join("\n");
  }
  const failed = result.tests.filter((x) => !x.passed && !x.skipped);
  out.push(
    `${t.passed} of ${t.passed + t.failed} tests passing` +
      (t.skipped ? dim(` (${t.skipped} skipped)`) : ""),
    "",
  );
  const [first, ...rest] = failed;
  if (first) {
    out.push(wrap(red(`✗ ${first.name}`)));
    const leak = new LeakNotes(result.lesson).render(first.message);
    const shown = leak?.join("\n") ??
      (isStubFailure(first) ? first.message.split("\n")[0] : first.message);
    out.push(indent(relativize(shown), "    "));
    const why = explainFailure(first.message, result.lesson);
    if (why) out.push(indent(why, "    "));
    if (options.program && !isStubFailure(first)) {
      out.push(dim(reproduceLines(result.lesson).join("\n")));
    }
  }
  if (rest.length) {
    out.push("", dim(`${rest.length} more failing:`));
    for (const x of rest) out.push(dim(wrap(`  ✗ ${x.name}`)));
  }
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
