/**
 * Running a lesson's suite against its mutants: each mutant is written to a
 * scratch folder that overlays the one solution file it changes, and graded
 * exactly like a learner's submission (sandboxed `deno test`, loopback
 * network only, time, memory and output capped), a pool of them at a time.
 *
 * @module
 */

import { dirname } from "@std/path";
import { type Catalog, type Lesson, ROOT } from "../catalog.ts";
import { DEFAULT_LIMITS, gradeLesson, referenceTests } from "../grader/grading.ts";
import { startPool } from "../pool.ts";
import { withScratch } from "../scratch.ts";
import { equivalentsPath, lessonMutants, loadEquivalents, matches } from "./equivalents.ts";
import { applyMutant, type Mutant } from "./mutants.ts";

/** What the suite did to one mutant. */
export interface Outcome {
  /** The mutant. */
  mutant: Mutant;
  /** `killed` by a failing test (or a crash, a violation or a time-out), `survived`, or `equivalent`. */
  status: "killed" | "survived" | "equivalent";
  /** How it was killed: the first failing test's name, `timed out`, or the problem. */
  by?: string;
  /** Wall time of the suite in milliseconds. */
  ms: number;
}

/** One lesson's mutation run. */
export interface LessonScore {
  /** The lesson ID. */
  lesson: string;
  /** Every mutant's outcome, in source order. */
  outcomes: Outcome[];
  /** Killed mutants. */
  killed: number;
  /** Non-equivalent mutants. */
  counted: number;
  /** Killed ÷ non-equivalent, in percent (100 when nothing is counted). */
  score: number;
  /** The per-mutant time limit used, in milliseconds. */
  timeoutMs: number;
  /** Wall time of the whole lesson in milliseconds. */
  ms: number;
  /** Tests that fail on the solution itself (work in progress): they kill nothing. */
  ignored: string[];
}

/**
 * The per-mutant time limit for a lesson: three times the solution's suite
 * plus 3 s, at least 5 s and at most the grader's 10 s.
 *
 * @example
 * ```ts
 * import { mutantTimeout } from "./run.ts";
 * mutantTimeout(400); // 5000
 * mutantTimeout(2000); // 9000
 * ```
 */
export function mutantTimeout(referenceMs: number): number {
  return Math.min(DEFAULT_LIMITS.timeoutMs, Math.max(5_000, 3 * referenceMs + 3_000));
}

/**
 * Grades one mutant of `lesson` like a submission; any failing test (except
 * the `ignored` ones, which fail on the solution too), crash, violation or
 * time-out kills it.
 *
 * @example
 * ```ts ignore
 * const outcome = await runMutant(catalog, lesson, mutant, 5_000);
 * ```
 */
export async function runMutant(
  catalog: Catalog,
  lesson: Lesson,
  mutant: Mutant,
  timeoutMs: number,
  ignored: ReadonlySet<string> = new Set(),
): Promise<Outcome> {
  return await withScratch("mutant", async (work) => {
    const relative = `${lesson.id}/${mutant.file}`;
    const source = await Deno.readTextFile(`${ROOT}solutions/${relative}`);
    await Deno.mkdir(dirname(`${work}/${relative}`), { recursive: true });
    await Deno.writeTextFile(`${work}/${relative}`, applyMutant(source, mutant));
    const graded = await gradeLesson(
      catalog,
      lesson,
      {
        label: `mutant ${mutant.file}:${mutant.line}`,
        dir: `${ROOT}solutions`,
        overlay: { dir: work, files: [relative] },
      },
      { ...DEFAULT_LIMITS, timeoutMs },
      [],
    );
    const failed = graded.tests.find((t) => t.status === "fail" && !ignored.has(t.name));
    const by = graded.violations[0] ?? graded.problem ?? failed?.name;
    return { mutant, status: by ? "killed" : "survived", by, ms: graded.ms };
  });
}

/**
 * Runs every mutant of `lesson` (or those `select` keeps), `concurrency` at
 * a time; `progress` is called as each one finishes, in order.
 *
 * @example
 * ```ts ignore
 * const score = await mutateLesson(catalog, lesson, 2, (o, i, n) => console.log(i, n, o.status));
 * ```
 */
export async function mutateLesson(
  catalog: Catalog,
  lesson: Lesson,
  concurrency: number,
  progress: (outcome: Outcome, index: number, total: number) => void = () => {},
  select: (mutant: Mutant) => boolean = () => true,
): Promise<LessonScore> {
  const started = performance.now();
  const reference = await referenceTests(lesson);
  if (reference.problem || !reference.tests.some((t) => t.passed)) {
    throw new Error(`${lesson.id}: the solution's suite does not run: ${reference.problem ?? ""}`);
  }
  const ignored = new Set(reference.tests.filter((t) => !t.passed).map((t) => t.name));
  const timeoutMs = mutantTimeout(reference.ms);
  const listed = await loadEquivalents(lesson).catch((e) => {
    throw new Error(`${equivalentsPath(lesson)}: ${(e as Error).message}`);
  });
  const mutants = (await lessonMutants(lesson)).filter(select);
  const pending = startPool(
    mutants,
    concurrency,
    (mutant) =>
      listed.some((entry) => matches(entry, mutant))
        ? Promise.resolve<Outcome>({ mutant, status: "equivalent", ms: 0 })
        : runMutant(catalog, lesson, mutant, timeoutMs, ignored),
  );
  const outcomes: Outcome[] = [];
  for (const [i, p] of pending.entries()) {
    outcomes.push(await p);
    progress(outcomes[i], i, mutants.length);
  }
  const killed = outcomes.filter((o) => o.status === "killed").length;
  const counted = outcomes.filter((o) => o.status !== "equivalent").length;
  return {
    lesson: lesson.id,
    outcomes,
    killed,
    counted,
    score: counted ? (100 * killed) / counted : 100,
    timeoutMs,
    ms: Math.round(performance.now() - started),
    ignored: [...ignored],
  };
}
