/**
 * All of a lesson's known mistakes in a few `deno test` processes. Each variant
 * gets a folder of its own in a scratch directory: the lesson's solution
 * files with the mistake applied, and a copy of the lesson's test modules
 * whose imports of `exercises/lesson-NN/…` lead to that folder (every other
 * relative import is made absolute, so the harness is loaded once). Each
 * process runs a share of the variants in one isolate, through one module
 * that imports them all: one start-up, one module graph and one run of the
 * grader's preload (its sandbox, its preload freezing the test runtime,
 * loopback-only network, no other permission) serve the whole share. An
 * isolate per test module, as the grader runs a submission, cost twice the
 * CPU time. Results are split back per variant by test module path. A
 * variant runs only the test modules that can reach the file its mistake
 * edits (tools/test_reach.ts); the other modules would run the reference's
 * code, and take the reference's results. Of those, when the caller names
 * them, it runs only the tests the mistake failed in the last full run
 * (`tests/lesson-NN/__snapshots__/mistakes.failing.json`): its tests'
 * `Deno.test` calls register only those, and the others take the
 * reference's results, as they did in that run. Most of a variant's tests
 * pass, and they were half of the check's time.
 *
 * A run that cannot be split cleanly is not trusted, and the caller re-runs
 * its variants one process each, the way the grader runs a submission: the
 * process was stopped, printed something that looks like a violation, or a
 * variant's tests did not all report. When something one test left running
 * reached a later test (Deno's sanitizer says "before the test", or an
 * uncaught error stopped the rest), the variants run before that one are
 * still trusted, that one runs on its own, and the ones after it run again
 * as a smaller share. What one variant could still do to
 * another unnoticed (slow it down, say) cannot make the check pass wrongly:
 * every known mistake's failures are pinned (tools/failure_snapshot.ts).
 *
 * The lesson's stubs and its solutions can ride along as two more variants
 * (`exercises/` or `solutions/` as they are, every test): the check grades
 * them from here, not in processes of their own (the grader's run of the
 * solutions, an isolate per module, cost 13 s of CPU time per check).
 *
 * @module
 */

import { dirname, relative, toFileUrl } from "@std/path";
import { type Lesson, ROOT } from "./catalog.ts";
import { foreignFiles, violationsOf } from "./grader/grading.ts";
import { gradedFlags, launchIn, type Sandbox } from "./grader/sandbox.ts";
import type { Target } from "./import_map.ts";
import { crossedInto, type TestResult } from "./junit.ts";
import { applyEdits, type Mistake } from "./mistakes.ts";
import { importingAll, runSuite, type SuiteResult, testModules } from "./suite.ts";
import { testsReaching } from "./test_reach.ts";

/** What one variant's tests did in the shared process. */
export interface VariantRun {
  /** The mistake. */
  mistake: Mistake;
  /** Its tests, by the names the lesson's tests have; undefined when the batch cannot vouch for them. */
  result?: SuiteResult;
  /** Why the batch could not vouch for its tests, when it could not (it then runs on its own). */
  unvouched?: string;
}

/** How a batch is run: the grader's sandbox and limits. */
export interface BatchOptions {
  /** The sandbox graded runs use on this machine. */
  sandbox: Sandbox;
  /** Time limit per variant in milliseconds (the batch gets this times the variant count). */
  timeoutMs: number;
  /** Heap cap per test worker in MiB. */
  memoryMb: number;
  /** Output cap per variant in bytes. */
  outputBytes: number;
  /**
   * A writable folder for Deno's caches, kept from run to run (the check's
   * own mistakes only: see `launchIn`): with `work` the same folder each
   * run, the variants' files keep their paths, and Deno transpiles only
   * those that changed. Default: Deno's cache, read-only.
   */
  ownCache?: string;
}

/**
 * Processes per lesson, each in a sandbox of its own (its own loopback:
 * tests that pick a free port cannot race each other), each running its
 * share of the variants one after the other: a caught mistake often costs a
 * test's bounded wait, idle time that overlaps across processes. Each
 * process costs about 0.4 s of CPU time to start (Deno, the grader's
 * preload, the modules): measured over the whole check on 2 cores, three
 * per lesson took 127-135 s of CPU time, two 120 s, one 158 s (its long
 * shares, once something crossed from one variant into the next, ran again).
 */
const PROCESSES = 2;

/**
 * A lesson whose variants took at most this many seconds in all in the last
 * full run gets one process, not {@linkcode PROCESSES}: its waits are short,
 * and a second process only costs its start. Measured on 2 cores: one
 * process for every lesson saved 8 s of the check's 94 s of CPU time but
 * made it 15 s longer (lessons 14 and 16 wait out 33 and 39 s of bounded
 * waits). On 2026-12-01, with the check's longest batches started first,
 * one process for every lesson took 4-10 s less CPU time than two for the
 * seven lessons over 12 s, at the same wall time (five pairs of checks);
 * so only the lessons whose waits would outlast half a check get two: 08,
 * 14 and 16 (26-33 s), not 09-13 (12-22 s).
 */
const ONE_PROCESS_SECONDS = 24;

/**
 * Deals `count` variants out to at most `processes` shares, longest first,
 * each to the share with the least time so far (each variant counts its
 * recorded seconds, or none, plus a little for itself), so that the shares
 * end together; a share keeps its variants in their given order. Without
 * recorded times, the variants are dealt in turn.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { planShares } from "./mistake_batch.ts";
 * assertEquals(planShares(4, 2, [14, 0, 1, 12]), [[0], [1, 2, 3]]);
 * assertEquals(planShares(3, 2), [[0, 2], [1]]);
 * ```
 */
export function planShares(count: number, processes: number, seconds?: number[]): number[][] {
  const shares: number[][] = Array.from({ length: Math.min(processes, count) }, () => []);
  const load = shares.map(() => 0);
  const order = [...Array(count).keys()];
  if (seconds) order.sort((a, b) => seconds[b] - seconds[a] || a - b);
  for (const index of order) {
    const least = seconds ? load.indexOf(Math.min(...load)) : index % shares.length;
    shares[least].push(index);
    load[least] += (seconds?.[index] ?? 0) + 0.5;
  }
  return shares.map((share) => share.sort((a, b) => a - b));
}

const SPECIFIER = /(\bfrom\s*|\bimport\s*\(?\s*)(["'])(\.{1,2}\/[^"']+)\2/g;

/**
 * Rewrites the relative import specifiers of a module that is moved from
 * `from` (a file URL) to `to`: a specifier that `map` knows goes where it
 * says; any other becomes the absolute URL it pointed at.
 *
 * @example
 * ```ts
 * import { rewriteImports } from "./mistake_batch.ts";
 * rewriteImports(
 *   'import { f } from "../../exercises/lesson-03/a.ts";\nimport { g } from "../harness/b.ts";',
 *   "file:///c/tests/lesson-03/a_test.ts",
 *   (url) => url.startsWith("file:///c/exercises/") ? "../v0/a.ts" : undefined,
 * );
 * // 'import { f } from "../v0/a.ts";\nimport { g } from "file:///c/tests/harness/b.ts";'
 * ```
 */
export function rewriteImports(
  source: string,
  from: string,
  map: (url: string) => string | undefined,
): string {
  return source.replace(SPECIFIER, (_whole, lead: string, quote: string, specifier: string) => {
    const url = new URL(specifier, from).href;
    return `${lead}${quote}${map(url) ?? url}${quote}`;
  });
}

async function lessonFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".ts")) out.push(entry.name);
  }
  return out.sort();
}

/** A variant's own name for its `Deno.test`. */
const SELECTED_TEST = "selectedTest__";

/**
 * What a variant's test module calls instead of `Deno.test` when it runs
 * only some tests: `Deno.test` for the tests named in `only`. Declared in
 * the module itself (a hoisted function, appended, so line numbers stay),
 * since `deno test` reports a test's file as that of its `Deno.test` call.
 */
function selectedTestFunction(only: ReadonlySet<string>): string {
  return [
    "",
    "// Appended by tools/mistake_batch.ts: Deno.test for this variant's selected tests only.",
    `function ${SELECTED_TEST}(...args: unknown[]): void {`,
    `  const names: string[] = ${JSON.stringify([...only].sort())};`,
    "  const [first] = args;",
    '  const name = typeof first === "string" ? first : (first as { name: string }).name;',
    "  if (names.includes(name)) (Deno.test as (...args: unknown[]) => void)(...args);",
    "}",
    "",
  ].join("\n");
}

/**
 * Writes variant `index` of `lesson` under `work`: `v<index>/<lesson>/…`
 * (the solution with the mistake applied) and `v<index>/tests/…` (the
 * lesson's test modules, retargeted; given `only`, they register only the
 * tests it names). Returns the variant's test modules.
 *
 * @example
 * ```ts ignore
 * const tests = await writeVariant(lesson, mistake, 0, work);
 * ```
 */
export async function writeVariant(
  lesson: Lesson,
  mistake: Mistake,
  index: number,
  work: string,
  only?: ReadonlySet<string>,
  from: "solutions" | "exercises" = "solutions",
): Promise<string[]> {
  const root = `${work}/v${index}`;
  const code = `${root}/${lesson.id}`;
  const tests = `${root}/tests`;
  await Deno.mkdir(code, { recursive: true });
  await Deno.mkdir(tests, { recursive: true });
  const solutionDir = `${ROOT}solutions/${lesson.id}`;
  const testDir = `${ROOT}tests/${lesson.id}`;
  const exercisesUrl = toFileUrl(`${ROOT}exercises/${lesson.id}/`).href;
  const solutionUrl = toFileUrl(`${solutionDir}/`).href;
  const testUrl = toFileUrl(`${testDir}/`).href;
  const intoCode = (base: string) => (url: string) => {
    for (const prefix of [exercisesUrl, solutionUrl]) {
      if (url.startsWith(prefix)) {
        return "./" + relative(base, `${code}/${url.slice(prefix.length)}`);
      }
    }
    if (url.startsWith(testUrl)) {
      return "./" + relative(base, `${tests}/${url.slice(testUrl.length)}`);
    }
    return undefined;
  };
  const sourceDir = `${ROOT}${from}/${lesson.id}`;
  for (const name of await lessonFiles(sourceDir)) {
    let source = await Deno.readTextFile(`${sourceDir}/${name}`);
    if (name === mistake.file) source = applyEdits(source, mistake.edits, mistake.id);
    const url = toFileUrl(`${sourceDir}/${name}`).href;
    await Deno.writeTextFile(`${code}/${name}`, rewriteImports(source, url, intoCode(code)));
  }
  const modules: string[] = [];
  for (const name of await lessonFiles(testDir)) {
    if (name === "mistakes.ts") continue;
    let source = await Deno.readTextFile(`${testDir}/${name}`);
    if (name.endsWith("_test.ts")) {
      modules.push(`${tests}/${name}`);
      if (only) {
        source = source.replaceAll("Deno.test(", `${SELECTED_TEST}(`) + selectedTestFunction(only);
      }
    }
    const from = toFileUrl(`${testDir}/${name}`).href;
    await Deno.writeTextFile(
      `${tests}/${name}`,
      rewriteImports(source, from, intoCode(dirname(`${tests}/${name}`))),
    );
  }
  return modules;
}

/** A test module's file name (`tests/lesson-09/client_test.ts` → `client_test.ts`). */
function moduleName(path: string): string {
  return path.split("/").at(-1)!;
}

/** Which variant a test module of the batch belongs to (`…/v3/tests/x_test.ts` → 3). */
function variantOf(test: TestResult): number | undefined {
  const m = test.file.match(/\/v(\d+)\/tests\/[^/]+$/);
  return m ? Number(m[1]) : undefined;
}

/**
 * The id of the lesson's stubs when {@linkcode runBatch} runs them as one
 * more variant: the learner's unedited `exercises/` files, every test.
 */
export const STUBS_ID = "(stubs)";

/**
 * The id of the lesson's solutions when {@linkcode runBatch} runs them as
 * one more variant: the reference's unedited `solutions/` files, every test.
 */
export const SOLUTIONS_ID = "(solutions)";

/** What else a batch is told: the tests each variant runs, their recorded times, the extras. */
export interface BatchPlan {
  /** The tests each mistake runs, by id (the others take the reference's results). */
  selections?: ReadonlyMap<string, ReadonlySet<string>>;
  /** The seconds each mistake took in the last full run, by id: the shares are dealt by them. */
  seconds?: ReadonlyMap<string, number>;
  /** Also run the lesson's stubs, as a variant whose mistake has the id {@linkcode STUBS_ID}. */
  stubs?: boolean;
  /** Also run the lesson's solutions, as a variant whose mistake has the id {@linkcode SOLUTIONS_ID}. */
  solutions?: boolean;
  /** Told of each share's process when it has ended: its name and its result, whole. */
  onShare?: (name: string, result: SuiteResult) => void;
}

/**
 * Runs every mistake of `lesson` in one `deno test` process under `work`,
 * and splits the results per variant. A variant whose result is undefined
 * must be run on its own.
 *
 * @example
 * ```ts ignore
 * const runs = await runBatch(lesson, mistakes, reference, work, options, {
 *   stubs: true,
 *   solutions: true,
 * });
 * ```
 */
export async function runBatch(
  lesson: Lesson,
  given: Mistake[],
  reference: SuiteResult,
  work: string,
  options: BatchOptions,
  plan: BatchPlan = {},
): Promise<VariantRun[]> {
  const selections = plan.selections ?? new Map<string, ReadonlySet<string>>();
  const seconds = plan.seconds ?? new Map<string, number>();
  // The stubs and the solutions: a variant each, from exercises/ or solutions/, no edit, every
  // test module, every test.
  const whole = (id: string, summary: string): Mistake => ({
    id,
    summary,
    file: "",
    edits: [],
    caughtBy: "",
  });
  const stub = whole(STUBS_ID, "the stubs");
  const solution = whole(SOLUTIONS_ID, "the solutions");
  const mistakes = [
    ...given,
    ...plan.stubs ? [stub] : [],
    ...plan.solutions ? [solution] : [],
  ];
  const isWhole = (m: Mistake) => m === stub || m === solution;
  const everyModule = new Set(
    (await testModules([`${ROOT}tests/${lesson.id}/`])).map(moduleName),
  );
  // A variant runs only the test modules that can reach the file its mistake edits; the others
  // run the reference's code, and their results are the reference's (tools/test_reach.ts).
  const reaching = new Map<string, Promise<Set<string>>>();
  const reachOf = (file: string) => {
    if (!reaching.has(file)) {
      reaching.set(file, testsReaching(lesson, file).then((names) => new Set(names)));
    }
    return reaching.get(file)!;
  };
  const reachable = await Promise.all(
    mistakes.map((m) => isWhole(m) ? everyModule : reachOf(m.file)),
  );
  // A selection naming a test the reference does not have (renamed, say) is stale: all tests run.
  const known = new Set(reference.tests.map((t) => t.name));
  const selected = mistakes.map((m) => {
    const only = selections.get(m.id);
    return only && [...only].every((name) => known.has(name)) ? only : undefined;
  });
  // A variant with a selection loads only the modules its selected tests are in: another module
  // would be compiled and run for no test at all (its tests take the reference's results anyway).
  const moduleOf = new Map(reference.tests.map((t) => [t.name, moduleName(t.file)]));
  const reached = reachable.map((modules, i) => {
    const only = selected[i];
    if (!only) return modules;
    const holding = new Set([...only].map((name) => moduleOf.get(name)));
    return new Set([...modules].filter((module) => holding.has(module)));
  });
  const paths = await Promise.all(
    mistakes.map(async (m, i) =>
      (await writeVariant(
        lesson,
        m,
        i,
        work,
        selected[i],
        m === stub ? "exercises" : "solutions",
      )).filter((p) => reached[i].has(moduleName(p)))
    ),
  );
  // The variants' folder stands where a submission would: the sandbox shows it read-only.
  const target: Target = { label: "mistakes", dir: work };
  // Dealt out by the seconds each took in the last full run, when all are known (the stubs fail
  // at once: one second; the solutions take the reference's time).
  const timed = given.every((m) => seconds.has(m.id));
  const secondsOf = (m: Mistake) =>
    m === stub ? 1 : m === solution ? Math.ceil(reference.ms / 1000) : seconds.get(m.id)!;
  const times = timed ? mistakes.map(secondsOf) : undefined;
  const quick = times !== undefined &&
    given.reduce((sum, m) => sum + seconds.get(m.id)!, 0) <= ONE_PROCESS_SECONDS;
  const shares = planShares(mistakes.length, quick ? 1 : PROCESSES, times);
  const runs: VariantRun[] = mistakes.map((mistake) => ({ mistake }));
  // A share whose run cannot vouch for some variants (an uncaught error stopped the rest, say)
  // runs those again as a smaller share, without the first of them, which runs on its own: one
  // variant that crashes costs one more process, not one per variant after it. A smaller share
  // that cannot vouch for its first variant either (something that reaches whichever test runs
  // first, such as a timer a variant's module leaves at load) is not tried again: its variants
  // run on their own.
  await Promise.all(shares.map(async (first, k) => {
    let share = first;
    for (let round = 0; share.length; round++) {
      const untrusted = await runShare(share, `${k}-${round}`);
      if (untrusted === undefined || (round > 0 && untrusted.length === share.length)) return;
      share = untrusted.slice(1);
    }
  }));
  return runs;

  /**
   * Runs a share of the variants in one process and fills in `runs` for
   * those it can vouch for. Returns the variants from the first one it
   * cannot vouch for on, in order, to run again; undefined when there are
   * none, or when none can be vouched for (they all run on their own).
   */
  async function runShare(share: number[], name: string): Promise<number[] | undefined> {
    // One module importing the share's test modules: `deno test` starts one isolate (and runs the
    // grader's preload once) per module it is given, which was most of a batch's CPU time. The
    // tests still report the file that registered them. (Named on the command line: `deno test`
    // skips hidden folders such as `.course/`.)
    const entry = `${work}/share${name}_test.ts`;
    await Deno.writeTextFile(
      entry,
      importingAll(share.flatMap((i) => paths[i])),
    );
    const batch = await runSuite(lesson, target, {
      paths: [entry],
      extraFlags: gradedFlags(),
      timeoutMs: options.timeoutMs * share.length,
      memoryCapMb: options.memoryMb,
      outputCapBytes: options.outputBytes * share.length,
      wrap: launchIn(options.sandbox, lesson, target, {
        memoryMb: options.memoryMb,
        fileBytes: 4 * options.outputBytes * share.length,
      }, options.ownCache),
    });
    plan.onShare?.(name, batch);
    const split = share.map((index): VariantRun => {
      const mistake = mistakes[index];
      const tests = batch.tests.filter((t) => variantOf(t) === index);
      const ran = (t: TestResult) =>
        reached[index].has(moduleName(t.file)) && (selected[index]?.has(t.name) ?? true);
      const unreached = reference.tests.filter((t) => !ran(t));
      if (batch.stopped) return { mistake, unvouched: `its share was stopped (${batch.stopped})` };
      if (batch.problem) {
        return { mistake, unvouched: `its share did not run: ${batch.problem.split("\n")[0]}` };
      }
      if (tests.length !== reference.tests.length - unreached.length) {
        return {
          mistake,
          unvouched: `its share reported ${tests.length} of its ` +
            `${reference.tests.length - unreached.length} tests`,
        };
      }
      return {
        mistake,
        result: {
          lesson: lesson.id,
          target: `mistake ${mistake.id}`,
          tests: [
            ...tests.map((t) => ({ ...t, file: `tests/${lesson.id}/${moduleName(t.file)}` })),
            ...unreached,
          ],
          // The time its own tests took: the reference's tests did not run in this process.
          ms: tests.reduce((n, t) => n + t.ms, 0),
          exit: { code: tests.every((t) => t.passed || t.skipped) ? 0 : 1, signal: null },
        },
      };
    });
    // What the process printed outside the tests' reports cannot be pinned on one variant:
    // a violation seen there and in no variant's own tests sends its variants to runs of their own.
    const ofTests = new Set(
      split.flatMap((r) => r.result ? violationsIn(r.result, options, work) : []),
    );
    const ofProcess = violationsIn({ ...batch, tests: [], stopped: undefined }, options, work);
    // The share's variants run in one isolate, one after the other: what one variant left running
    // can end up in a later one's test. Deno names it ("started before the test, but completed
    // during the test"), or stops the rest after an uncaught error. The variants that finished
    // before the first such test are trusted; that test's variant and the later ones are not.
    const first = batch.tests.find(crossedInto);
    const crossedFrom = first ? share.indexOf(variantOf(first) ?? -1) : share.length;
    // A violation no variant's tests show, or a crossing no variant owns: every variant on its own.
    const unowned = ofProcess.find((v) => !ofTests.has(v));
    if (unowned !== undefined || crossedFrom < 0) {
      const why = unowned !== undefined
        ? `its share's process showed what no variant's tests did: ${unowned}`
        : `something reached a test of its share that no variant owns ("${first!.name}")`;
      for (const index of share) runs[index] = { mistake: mistakes[index], unvouched: why };
      return undefined;
    }
    share.forEach((index, k) => {
      if (k < crossedFrom) runs[index] = split[k];
      else if (k === crossedFrom) {
        runs[index] = {
          mistake: mistakes[index],
          unvouched: `something it left running reached a later test ("${first!.name}")`,
        };
      } else {
        runs[index] = {
          mistake: mistakes[index],
          unvouched: `a variant before it in its share crossed into a later test`,
        };
      }
    });
    return crossedFrom < share.length ? share.slice(crossedFrom) : undefined;
  }
}

function violationsIn(result: SuiteResult, options: BatchOptions, work: string): string[] {
  return [
    ...violationsOf(result, options.timeoutMs, options.memoryMb, options.outputBytes),
    ...foreignFiles(result, [
      `${work}/`,
      `${ROOT}tests/`,
      `${ROOT}tools/program.ts`,
      `${ROOT}tools/grader/lockdown.ts`,
    ]),
  ];
}

/** One variant's grade, as the grader would give it. */
export interface VariantGrade {
  /** Every test of the reference, in its order, as the grader counts it. */
  tests: { name: string; status: "pass" | "fail" | "skip"; message: string }[];
  /** Failed tests with their messages, in the reference's order. */
  failed: { name: string; message: string }[];
  /** Points earned (0 with a violation). */
  points: number;
  /** Points possible. */
  maxPoints: number;
  /** What the grader would report as an attempt to cheat. */
  violations: string[];
  /** Why the suite could not run. */
  problem?: string;
  /** How long its tests took, in milliseconds. */
  ms: number;
}

/**
 * Grades one variant's result the way the grader grades a submission's
 * lesson: against the reference's tests, with its violations.
 *
 * @example
 * ```ts ignore
 * const grade = gradeVariant(result, reference, 1, options, work);
 * ```
 */
export function gradeVariant(
  result: SuiteResult,
  reference: SuiteResult,
  perTest: number,
  options: BatchOptions,
  work: string,
): VariantGrade {
  const violations = violationsIn(result, options, work);
  const byName = new Map<string, TestResult[]>();
  for (const t of result.tests) byName.set(t.name, [...(byName.get(t.name) ?? []), t]);
  const names = new Set(reference.tests.map((t) => t.name));
  if ([...byName.keys()].some((n) => !names.has(n))) violations.push("registered tests of its own");
  if ([...byName.values()].some((list) => list.length > 1)) {
    violations.push("registered a test twice");
  }
  const tests: VariantGrade["tests"] = reference.tests.map((ref) => {
    const got = byName.get(ref.name)?.[0];
    if (ref.skipped || got?.skipped) return { name: ref.name, status: "skip", message: "" };
    if (got?.passed) return { name: ref.name, status: "pass", message: "" };
    return {
      name: ref.name,
      status: "fail",
      message: got?.message ?? result.problem ?? "never ran",
    };
  });
  const counted = tests.filter((t) => t.status !== "skip");
  const points = counted.filter((t) => t.status === "pass").length * perTest;
  const maxPoints = counted.length * perTest;
  const failed = tests.filter((t) => t.status === "fail")
    .map(({ name, message }) => ({ name, message }));
  return {
    tests,
    failed,
    points: violations.length ? 0 : points,
    maxPoints,
    violations,
    problem: result.problem,
    ms: result.ms,
  };
}
