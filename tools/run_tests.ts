/**
 * `deno task test [LESSON…] [--solutions | --submission DIR] [--verbose]`
 *
 * Runs lesson suites against the learner's files (or the solutions, or a
 * submission folder). With lessons named: every test, and the failures'
 * messages. With none: every lesson in order, one summary line each.
 * Exit code 0 only when every selected test passed; 2 for bad input.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { findLesson, type Lesson, loadCatalog } from "./catalog.ts";
import { CORES, mapPool } from "./pool.ts";
import { renderSuite, summaryLine, tally } from "./report.ts";
import { runSuite } from "./suite.ts";
import { lessonPath, targetFromFlags } from "./targets.ts";
import { runMain, UsageError } from "./usage_error.ts";

const USAGE =
  "usage: deno task test [LESSON…] [--solutions | --submission DIR] [--verbose] [--no-check]";

async function main(): Promise<number> {
  const flags = parseArgs(Deno.args, {
    boolean: ["solutions", "verbose", "help", "check"],
    string: ["submission"],
    default: { check: true },
    negatable: ["check"],
    unknown: (arg: string) => {
      if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}\n${USAGE}`);
      return true;
    },
  });
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  const catalog = await loadCatalog();
  const target = await targetFromFlags(flags);
  const names: string[] = flags._.map(String);
  const lessons: Lesson[] = names.length
    ? names.map((n) => findLesson(catalog, n))
    : catalog.lessons;
  const single = names.length > 0;

  let failed = 0;
  let passed = 0;
  const results = await mapPool(lessons, single ? 1 : CORES, async (lesson) => {
    const result = await runSuite(lesson, target, { typeCheck: flags.check, progress: true });
    if (single && !result.missing) {
      console.log(renderSuite(result, {
        title: lesson.title,
        verbose: flags.verbose,
        targetPath: lessonPath(target, lesson.id),
        program: lesson.program !== undefined,
      }));
      console.log();
    }
    return result;
  });
  const missing = results.find((r) => r.missing);
  if (missing) throw new UsageError(missing.problem!);
  for (const result of results) {
    const t = tally(result);
    passed += t.passed;
    failed += t.failed;
    if (!single) {
      const title = lessons.find((l) => l.id === result.lesson)!.title;
      console.log(`${summaryLine(result)}  ${title}`);
      if (result.problem) console.log(`    could not run: ${result.problem.split("\n")[0]}`);
    }
  }
  console.log(`test: ${passed} passed, ${failed} failed`);
  if (!single && failed) {
    console.log(
      `For details: deno task test LESSON (e.g. deno task test ${firstFailing(results)})`,
    );
  }
  return failed ? 1 : 0;
}

function firstFailing(
  results: { lesson: string; tests: { passed: boolean }[]; problem?: string }[],
): string {
  return results.find((r) => r.problem || r.tests.some((t) => !t.passed))?.lesson ?? "lesson-01";
}

if (import.meta.main) await runMain("test", main);
