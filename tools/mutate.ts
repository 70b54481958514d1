/**
 * `deno task mutate LESSON…` — mutation testing of the lesson suites.
 *
 * Generates mutants of each named lesson's reference solution
 * (tools/mutate/mutants.ts), runs the lesson's suite against each one the
 * way a submission is graded (sandboxed, loopback only, time-limited), a
 * pool of them at a time, and prints the mutation score (killed ÷
 * non-equivalent mutants) with every surviving mutant: file, line, change.
 *
 * Options: `--concurrency N` (default: the cores), `--json FILE` (every
 * outcome), `--survivors FILE` (re-run only the mutants that survived in an
 * earlier `--json` report, and those it does not know: code changed since),
 * `--list` (print the mutants, run nothing).
 * Exit code 0 when every lesson scores at least 90 %, 1 otherwise, 2 for bad
 * input.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { findLesson, loadCatalog } from "./catalog.ts";
import type { Mutant } from "./mutate/mutants.ts";
import type { LessonScore } from "./mutate/run.ts";
import { CORES } from "./pool.ts";
import { runMain, UsageError } from "./usage_error.ts";

/** The goal: this share of non-equivalent mutants killed in every lesson. */
export const GOAL_PERCENT = 90;

const USAGE = "usage: deno task mutate LESSON… [--concurrency N] [--json FILE] " +
  "[--survivors FILE] [--list]";

/** The key of a mutant in a `--survivors` report. */
function keyOf(m: Mutant): string {
  return `${m.file}\n${m.code}\n${m.from}\n${m.to}`;
}

async function main(): Promise<number> {
  const flags = parseArgs(Deno.args, {
    boolean: ["help", "list", "verbose"],
    string: ["concurrency", "json", "survivors"],
    unknown: (arg: string) => {
      if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}; ${USAGE}`);
      return true;
    },
  });
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  const names: string[] = flags._.map(String);
  if (!names.length) throw new UsageError(`name at least one lesson; ${USAGE}`);
  const concurrency = flags.concurrency === undefined ? CORES : Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new UsageError(`--concurrency must be a whole number from 1: ${flags.concurrency}`);
  }
  const catalog = await loadCatalog();
  const lessons = names.map((n) => findLesson(catalog, n));
  let only: { has(key: string): boolean } | undefined;
  if (flags.survivors) {
    let report: LessonScore[];
    try {
      report = JSON.parse(await Deno.readTextFile(flags.survivors));
    } catch (e) {
      throw new UsageError(`cannot read ${flags.survivors}: ${(e as Error).message}`);
    }
    const outcomes = report.flatMap((l) => l.outcomes);
    const known = new Set(outcomes.map((o) => keyOf(o.mutant)));
    const survived = new Set(
      outcomes.filter((o) => o.status === "survived").map((o) => keyOf(o.mutant)),
    );
    only = { has: (key: string) => survived.has(key) || !known.has(key) };
  }
  // The mutation machinery (the TypeScript compiler with it) loads once the input is known to be
  // usable: bad input is answered in 0.08 s, not 0.36 s.
  const [{ lessonMutants }, { describeMutant }, { mutateLesson }] = await Promise.all([
    import("./mutate/equivalents.ts"),
    import("./mutate/mutants.ts"),
    import("./mutate/run.ts"),
  ]);
  if (flags.list) {
    for (const lesson of lessons) {
      for (const m of await lessonMutants(lesson)) {
        console.log(`${lesson.id}  ${describeMutant(m)}`);
      }
    }
    return 0;
  }
  const scores: LessonScore[] = [];
  for (const lesson of lessons) {
    const score = await mutateLesson(
      catalog,
      lesson,
      concurrency,
      (o) => {
        if (flags.verbose) console.error(`  ${o.status.padEnd(10)} ${describeMutant(o.mutant)}`);
      },
      only ? (m) => only.has(keyOf(m)) : undefined,
    );
    scores.push(score);
    const equivalent = score.outcomes.length - score.counted;
    console.log(
      `${lesson.id}  ${score.score.toFixed(1)} %  ${score.killed}/${score.counted} killed` +
        `  (${score.outcomes.length} mutants, ${equivalent} equivalent; ` +
        `${score.timeoutMs / 1000} s each at most; ${Math.round(score.ms / 1000)} s)`,
    );
    for (const name of score.ignored) {
      console.log(`  ignored (fails on the solution too): ${name}`);
    }
    for (const o of score.outcomes.filter((o) => o.status === "survived")) {
      console.log(`  survived: ${describeMutant(o.mutant)}`);
    }
  }
  if (flags.json) await Deno.writeTextFile(flags.json, JSON.stringify(scores, null, 1) + "\n");
  return scores.every((s) => s.score >= GOAL_PERCENT) ? 0 : 1;
}

if (import.meta.main) await runMain("mutate", main);
