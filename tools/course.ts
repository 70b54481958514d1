/**
 * `deno task course` — where you are and what to do next.
 *
 * Runs every lesson's tests against your files in `exercises/` (results are
 * cached by the content of the files they depend on, so a second run with no
 * change is instant), and prints a table of the lessons with their status,
 * then the next lesson to work on and the exact commands for it.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { bold, dim, green, yellow } from "@std/fmt/colors";
import { type Catalog, type Lesson, loadCatalog } from "./catalog.ts";
import { CORES, mapPool } from "./pool.ts";
import { isStubFailure } from "./report.ts";
import { cachedResult, contentKey, storeResults } from "./result_cache.ts";
import { checksTypes, runSuite, runSuites, type SuiteResult, typeCheckLessons } from "./suite.ts";
import { EXERCISES, targetFromFlags } from "./targets.ts";
import { runMain, UsageError } from "./usage_error.ts";

/** A lesson's status, as derived from its test results. */
export type Status =
  | { kind: "done"; total: number }
  | { kind: "in progress"; passed: number; total: number }
  | { kind: "not started"; total: number }
  | { kind: "does not compile"; problem: string };

/**
 * Derives a lesson's status from its results: every test passing is done;
 * every test stopping at a stub's "not implemented" is not started.
 *
 * @example
 * ```ts
 * import { statusOf } from "./course.ts";
 * statusOf({ lesson: "lesson-01", target: "exercises", tests: [], problem: "syntax error", ms: 1 }).kind;
 * // "does not compile"
 * ```
 */
export function statusOf(result: SuiteResult): Status {
  if (result.problem) return { kind: "does not compile", problem: result.problem.split("\n")[0] };
  const counted = result.tests.filter((t) => !t.skipped);
  const passed = counted.filter((t) => t.passed).length;
  if (passed === counted.length) return { kind: "done", total: counted.length };
  if (passed === 0 && counted.every(isStubFailure)) {
    return { kind: "not started", total: counted.length };
  }
  return { kind: "in progress", passed, total: counted.length };
}

function describeStatus(status: Status): string {
  switch (status.kind) {
    case "done":
      return green(`✓ done (${status.total} tests)`);
    case "in progress":
      return yellow(`${status.passed} of ${status.total} tests passing`);
    case "not started":
      return dim("not started");
    case "does not compile":
      return yellow("does not compile");
  }
}

/**
 * The dashboard as a Markdown table, e.g. for `$GITHUB_STEP_SUMMARY`.
 *
 * @example
 * ```ts ignore
 * console.log(markdownTable(catalog, results));
 * ```
 */
export function markdownTable(catalog: Catalog, results: SuiteResult[]): string {
  const plain = (status: Status) =>
    status.kind === "done"
      ? `✅ done (${status.total} tests)`
      : status.kind === "in progress"
      ? `${status.passed} of ${status.total} tests passing`
      : status.kind;
  return [
    `### ${catalog.title} (v${catalog.version})`,
    "",
    "| lesson | title | status |",
    "| ------ | ----- | ------ |",
    ...catalog.lessons.map((l, i) => `| ${l.id} | ${l.title} | ${plain(statusOf(results[i]))} |`),
    "",
  ].join("\n");
}

async function main(): Promise<number> {
  const flags = parseArgs(Deno.args, {
    boolean: ["help", "fresh", "solutions", "markdown"],
    string: ["submission"],
    unknown: (arg: string) => {
      throw new UsageError(`unexpected ${arg}; usage: deno task course [--fresh]`);
    },
  });
  if (flags.help) {
    console.log("usage: deno task course [--fresh]   (--fresh ignores cached results)");
    return 0;
  }
  const catalog = await loadCatalog();
  const target = await targetFromFlags(flags);
  const fresh = new Map<string, SuiteResult>();
  let fromCache = 0;
  const keys = await Promise.all(catalog.lessons.map((lesson) => contentKey(lesson, target)));
  const cached = await Promise.all(
    keys.map((key) => flags.fresh ? undefined : cachedResult(key)),
  );
  // One type-check for every lesson that has to run; only lessons with errors check again alone.
  // Untouched stubs skip it: the check type-checks the committed stubs with their tests, and a
  // newcomer's first dashboard would otherwise spend 6 s of CPU on it.
  const toCheck = catalog.lessons.filter((_, i) => !cached[i]);
  const needed = await Promise.all(toCheck.map((lesson) => checksTypes(lesson, target)));
  const withErrors = await typeCheckLessons(toCheck.filter((_, i) => needed[i]), target);
  // Lessons with type errors run alone, type-checked, to report them; the rest share processes.
  const shared = await runSuites(
    toCheck.filter((l) => !withErrors.has(l.id)),
    target,
    2 * CORES,
  );
  const alone = await mapPool(
    toCheck.filter((l) => withErrors.has(l.id)),
    CORES,
    (lesson) => runSuite(lesson, target, { typeCheck: true }),
  );
  const ran = new Map([...shared, ...alone].map((r) => [r.lesson, r]));
  const results = catalog.lessons.map((lesson: Lesson, i) => {
    if (cached[i]) fromCache++;
    const result = cached[i] ?? ran.get(lesson.id)!;
    fresh.set(keys[i], result);
    return result;
  });
  if (target === EXERCISES) await storeResults(fresh);
  if (flags.markdown) {
    console.log(markdownTable(catalog, results));
    return 0;
  }

  console.log(bold(`${catalog.title} (v${catalog.version})`));
  console.log();
  const width = Math.max(...catalog.lessons.map((l) => l.title.length));
  let done = 0;
  let passedTests = 0;
  let totalTests = 0;
  let next: { lesson: Lesson; status: Status } | undefined;
  for (const [i, lesson] of catalog.lessons.entries()) {
    const status = statusOf(results[i]);
    if (status.kind === "done") done++;
    else next ??= { lesson, status };
    passedTests += status.kind === "done"
      ? status.total
      : status.kind === "in progress"
      ? status.passed
      : 0;
    totalTests += "total" in status ? status.total : 0;
    const number = lesson.id.slice("lesson-".length);
    console.log(`  ${number}  ${lesson.title.padEnd(width)}  ${describeStatus(status)}`);
  }
  console.log();
  console.log(
    `Progress: ${done} of ${catalog.lessons.length} lessons done ` +
      `(${passedTests} of ${totalTests} tests passing).`,
  );
  console.log(dim(`(${fromCache} of ${catalog.lessons.length} lessons from the cache)`));
  console.log();
  if (!next) {
    console.log(green("Every lesson passes. Well done: compare your code with solutions/, then"));
    console.log(green("try the programs against a peer in another language (see each README)."));
    return 0;
  }
  const { lesson, status } = next;
  console.log(bold(`Next: ${lesson.id} · ${lesson.title}`));
  console.log(`  read  lessons/${lesson.id}/README.md`);
  console.log(`  edit  exercises/${lesson.id}/${lesson.files.join(", ")}`);
  console.log(`  test  deno task test ${lesson.id}`);
  if (status.kind === "does not compile") console.log(yellow(`  first fix: ${status.problem}`));
  return 0;
}

if (import.meta.main) await runMain("course", main);
