/**
 * Reads the JUnit XML that `deno test --junit-path` writes: one result per
 * test, with its failure message (without the stack trace) and the full
 * failure text (with it) for `--verbose`.
 *
 * @module
 */

/** The outcome of one test. */
export interface TestResult {
  /** The test's name as given to `Deno.test`. */
  name: string;
  /** The test module, relative to the repository root. */
  file: string;
  /** Whether it passed. */
  passed: boolean;
  /** Whether it was ignored (skipped), e.g. a Linux-only test elsewhere. */
  skipped: boolean;
  /** The failure message, for a failed test. */
  message: string;
  /** The failure with code frame and stack, for a failed test. */
  detail: string;
  /** Duration in milliseconds. */
  ms: number;
}

/** What a test cancelled by an earlier uncaught error reports. */
export const CANCELLED =
  "not run: an earlier test in this file left an uncaught error (a promise nobody awaited), " +
  "so the runner stopped the file";

/**
 * Whether a test's result was made by something other than the test: it was
 * cancelled by an earlier uncaught error, or work an earlier test left
 * running completed during it (Deno's sanitizer: "…started before the test,
 * but completed during the test"). Tests that share an isolate after such a
 * result cannot be told apart from what reached them.
 *
 * @example
 * ```ts
 * import { CANCELLED, crossedInto } from "./junit.ts";
 * crossedInto({ name: "t", file: "x_test.ts", passed: false, skipped: false, message: CANCELLED, detail: "", ms: 0 }); // true
 * ```
 */
export function crossedInto(test: TestResult): boolean {
  const crossed = /\bbefore the test\b/;
  return test.message === CANCELLED || crossed.test(test.message) || crossed.test(test.detail);
}

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function unescape(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, name: string) => {
    if (name[0] === "#") {
      const code = name[1] === "x" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return String.fromCodePoint(code);
    }
    return ENTITIES[name] ?? whole;
  });
}

function attribute(tag: string, name: string): string {
  const m = tag.match(new RegExp(`\\s${name}="([^"]*)"`));
  return m ? unescape(m[1]) : "";
}

/**
 * Parses a JUnit report. Test steps (`name > step`) are kept as their own
 * results; callers that want whole tests filter on `!name.includes(" > ")`.
 *
 * @example
 * ```ts
 * import { parseJUnit } from "./junit.ts";
 * const xml = `<testsuites><testsuite name="./a_test.ts">
 *   <testcase name="t" classname="./a_test.ts" time="0.002"></testcase>
 * </testsuite></testsuites>`;
 * parseJUnit(xml)[0].passed; // true
 * ```
 */
export function parseJUnit(xml: string): TestResult[] {
  const results: TestResult[] = [];
  const testcase = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(testcase)) {
    const tag = m[1];
    const body = m[3] ?? "";
    const failure = body.match(
      /<(?:failure|error)\b([^>]*?)(?:\/>|>([\s\S]*?)<\/(?:failure|error)>)/,
    );
    const skipped = /<skipped\b/.test(body);
    let message = "";
    let detail = "";
    if (failure) {
      message = attribute(failure[1], "message").replace(/^Uncaught /, "");
      detail = unescape(failure[2] ?? "");
      if (message === "Cancelled") message = CANCELLED;
      // Leak reports put their list in the body only: "Leaks detected:\n  - …".
      if (detail.startsWith(`${message}:`)) message = detail;
      message = message.replace(/^(LessonFailure|Error): /, "").trimEnd();
    }
    results.push({
      name: attribute(tag, "name"),
      file: attribute(tag, "classname").replace(/^\.\//, ""),
      passed: !failure && !skipped,
      skipped,
      message,
      detail,
      ms: Math.round(Number(attribute(tag, "time")) * 1000),
    });
  }
  return results;
}
