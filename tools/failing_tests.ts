/**
 * The record of which tests each known mistake fails: every test each
 * variant failed in the last full run of the check (`--update-snapshots`),
 * kept in `tests/lesson-NN/__snapshots__/mistakes.failing.json` beside the
 * pinned failure output. The check then runs only those tests of each
 * variant (tools/mistake_batch.ts) and takes the reference's results for the
 * others, which passed in that run.
 *
 * It is not a pin (a test slow to settle under load may fail on one run and
 * not the next), and it holds only while what decided it is unchanged: it
 * carries a fingerprint of the lesson's tests (its known mistakes included),
 * the shared harness, the lesson's solutions and the dependency pins, and
 * any change to them makes it out of date. Test names are kept without the
 * reason a skipped test adds to its name, and a record is written only by a
 * run that skipped nothing. It also keeps how long each variant's tests took
 * in that run, in whole seconds (mostly the bounded waits of the tests that
 * catch it): the check deals the variants out to its processes by them; and
 * which ran on their own, because something one of their tests left running
 * reached a later test: the check runs those on their own from the start.
 *
 * @module
 */

import { concat } from "@std/bytes/concat";
import { type Lesson, ROOT } from "./catalog.ts";
import { filesUnder } from "./result_cache.ts";

/** What a lesson's record holds. */
export interface FailingTests {
  /** The fingerprint of the files that decided it ({@linkcode failingFingerprint}). */
  fingerprint: string;
  /** Every test each mistake failed, by mistake id, names without a skip reason. */
  failing: Map<string, string[]>;
  /** How long each mistake's tests took in that run, in whole seconds, by mistake id. */
  seconds: Map<string, number>;
  /**
   * The mistakes that ran on their own in that run: something one of their
   * tests left running reached a later test. The check runs them on their
   * own at once, instead of in a batch that then runs its rest again.
   */
  alone: Set<string>;
}

/** The file a lesson's record is kept in. */
export function failingTestsFile(lesson: Lesson): string {
  return `tests/${lesson.id}/__snapshots__/mistakes.failing.json`;
}

/**
 * A test's name without the reason a skipped test adds to it
 * (`name (skipped: …)`), the same wherever it runs.
 *
 * @example
 * ```ts
 * import { plainTestName } from "./failing_tests.ts";
 * plainTestName("server: survives EMFILE (skipped: needs the low open-file limit)");
 * // "server: survives EMFILE"
 * ```
 */
export function plainTestName(name: string): string {
  return name.replace(/ \(skipped: [^)]*\)$/, "");
}

/**
 * A SHA-256 over the names and bytes of every file a lesson's record
 * depends on: its tests and known mistakes (not the snapshots), the shared
 * harness (not its own tests), its solutions, `deno.json` and `deno.lock`.
 *
 * @example
 * ```ts ignore
 * const fingerprint = await failingFingerprint(lesson);
 * ```
 */
export async function failingFingerprint(lesson: Lesson): Promise<string> {
  const files = [
    ...(await filesUnder(`${ROOT}tests/${lesson.id}`)).filter((f) =>
      !f.includes("/__snapshots__/")
    ),
    // The harness's own tests are not part of it.
    ...(await filesUnder(`${ROOT}tests/harness`)).filter((f) => !f.endsWith("_test.ts")),
    ...await filesUnder(`${ROOT}solutions/${lesson.id}`),
    `${ROOT}deno.json`,
    `${ROOT}deno.lock`,
  ];
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const file of files) {
    parts.push(encoder.encode(`\0${file.slice(ROOT.length)}\0`));
    parts.push(await Deno.readFile(file).catch(() => new Uint8Array()));
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", concat(parts)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A lesson's record, or why there is none to use (missing, unreadable).
 *
 * @example
 * ```ts ignore
 * const record = await recordedFailures(lesson);
 * if (typeof record !== "string") record.failing.get("single-read"); // ["…", …]
 * ```
 */
export async function recordedFailures(lesson: Lesson): Promise<FailingTests | string> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${ROOT}${failingTestsFile(lesson)}`);
  } catch {
    return `${failingTestsFile(lesson)} is missing`;
  }
  try {
    const data = JSON.parse(text);
    const failing = Object.entries(data.failing ?? {});
    const seconds = Object.entries(data.seconds ?? {});
    const alone = data.alone ?? [];
    if (
      !Array.isArray(alone) || !alone.every((id) => typeof id === "string") ||
      typeof data.fingerprint !== "string" ||
      !failing.every(([, names]) =>
        Array.isArray(names) && names.every((n) => typeof n === "string")
      ) ||
      !seconds.every(([, n]) => Number.isInteger(n) && (n as number) >= 0)
    ) throw new Error("not a record");
    return {
      fingerprint: data.fingerprint,
      failing: new Map(failing as [string, string[]][]),
      seconds: new Map(seconds as [string, number][]),
      alone: new Set(alone as string[]),
    };
  } catch {
    return `${failingTestsFile(lesson)} is not a record of failing tests`;
  }
}

/**
 * Writes a lesson's record: its fingerprint now, every test each mistake
 * failed in a full run (names without a skip reason), and how long its tests
 * took (milliseconds given, whole seconds kept), sorted by mistake.
 *
 * @example
 * ```ts ignore
 * await recordFailures(
 *   lesson,
 *   new Map([["single-read", ["reads a message cut in two"]]]),
 *   new Map([["single-read", 1012]]),
 * );
 * ```
 */
export async function recordFailures(
  lesson: Lesson,
  failing: Map<string, string[]>,
  ms: Map<string, number> = new Map(),
  alone: string[] = [],
): Promise<void> {
  const byId = <T>(map: Map<string, T>) => [...map].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
  const record = {
    fingerprint: await failingFingerprint(lesson),
    failing: Object.fromEntries(byId(failing).map(([id, names]) => [id, names.map(plainTestName)])),
    seconds: Object.fromEntries(byId(ms).map(([id, n]) => [id, Math.round(n / 1000)])),
    alone: [...alone].sort(),
  };
  await Deno.writeTextFile(
    `${ROOT}${failingTestsFile(lesson)}`,
    JSON.stringify(record, null, 2) + "\n",
  );
}
