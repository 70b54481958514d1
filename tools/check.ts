/**
 * `deno task check [LESSON…]` — the course's own test suite and CI gate.
 *
 * - formatting, lint, type check (including JSDoc examples), and the
 *   TypeScript blocks of every lesson README;
 * - the catalog and the four trees agree (tools/structure.ts);
 * - every lesson's solution passes every test;
 * - every single test fails against the stubs;
 * - every known mistake is rejected by a test whose message names it;
 * - the tooling's own tests.
 *
 * Ends with `check: N passed, N failed`; exit code 0 only when nothing failed.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { dim, green, red } from "@std/fmt/colors";
import { type Catalog, findLesson, type Lesson, loadCatalog, ROOT } from "./catalog.ts";
import { DEFAULT_LIMITS, gradeLesson, keepAsReference } from "./grader/grading.ts";
import { detectSandbox } from "./grader/sandbox.ts";
import { parseJUnit, type TestResult } from "./junit.ts";
import { blockName, markdownBlocks, testModule } from "./doc_blocks.ts";
import { checkSnapshot, failureOutput } from "./failure_snapshot.ts";
import {
  failingFingerprint,
  type FailingTests,
  failingTestsFile,
  plainTestName,
  recordedFailures,
  recordFailures,
} from "./failing_tests.ts";
import {
  type BatchOptions,
  gradeVariant,
  runBatch,
  SOLUTIONS_ID,
  STUBS_ID,
  type VariantGrade,
  type VariantRun,
} from "./mistake_batch.ts";
import { loadMistakes, type Mistake, variantTarget } from "./mistakes.ts";
import { CORES, startPool } from "./pool.ts";
import { staleEquivalents } from "./mutate/equivalents.ts";
import { currentStubIds, STUBS_FILE } from "./reset.ts";
import { checkMarkers } from "./facts.ts";
import { isNotImplementedMessage } from "./report.ts";
import { checkStructure } from "./structure.ts";
import {
  importingAll,
  planSharedRuns,
  relativize,
  runShared,
  type SuiteResult,
  testModules,
  withFdLimit,
} from "./suite.ts";
import { EXERCISES, SOLUTIONS } from "./targets.ts";
import { runMain, UsageError } from "./usage_error.ts";
import { withFixedScratch, withScratch } from "./scratch.ts";

/** One counted outcome. */
interface Item {
  name: string;
  ok: boolean;
  detail?: string;
}

/** A group of items produced by one job. */
interface Group {
  title: string;
  items: Item[];
  /** Wall time of the job that produced it (on a job's first group). */
  ms?: number;
}

/** What kind of work a group's job was, for the time summary. */
function kindOf(title: string): string {
  if (/ solutions (pass|get full marks)/.test(title)) return "solutions";
  if (/ stubs fail/.test(title)) return "stubs";
  if (/ rejects /.test(title)) return "known mistakes";
  if (/ tests\b/.test(title)) return "tooling tests";
  return "static checks";
}

type Job = () => Promise<Group[]>;

const decoder = new TextDecoder();

/** Runs a deno subcommand in the repository; one item, its output on failure. */
function denoJob(title: string, args: string[]): Job {
  return async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const text = decoder.decode(out.stdout) + decoder.decode(out.stderr);
    return [{
      title,
      items: [{ name: title, ok: out.success, detail: out.success ? undefined : tail(text, 40) }],
    }];
  };
}

/** How a `deno test` job runs and names its items. */
interface TestJobOptions {
  /** Its permission flags (default: what the tooling's tests need). */
  permissions?: string[];
  /** An item's name for a test (default: its file, then its name). */
  itemName?: (test: TestResult) => string;
}

const TOOLING_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-env",
  "--allow-net=127.0.0.1,127.255.255.255",
];

/**
 * Runs a `deno test` of the tooling; one item per test, read from its JUnit
 * report. Several modules run in one isolate, through a module that imports
 * them all (tests still report the module that registered them): an isolate
 * per module loaded the TypeScript compiler again in each that uses it, and
 * the unit tests took 12 s of CPU time instead of 7. Each isolate also
 * costs what Deno's test runtime does on start (it fills an 80 MB array:
 * 0.3 s of CPU time on a machine whose fresh memory is slow), so the
 * harness's 16 modules took 5.5 s of CPU time in isolates of their own and
 * 0.9 s in one.
 */
function testJob(title: string, paths: string[], options: TestJobOptions = {}): Job {
  return () =>
    withScratch("tooling", async (work) => {
      const modules = await testModules(paths.map((p) => p.startsWith("/") ? p : `${ROOT}${p}`));
      const entry = `${work}/all_test.ts`;
      await Deno.writeTextFile(entry, importingAll(modules));
      // Under the suites' low limit on open files, so the harness's EMFILE tests run too.
      const limited = withFdLimit(Deno.execPath(), [
        "test",
        // The type check job checks these files too, once for all of them.
        "--no-check",
        ...options.permissions ?? TOOLING_PERMISSIONS,
        `--junit-path=${work}/junit.xml`,
        "--reporter=dot",
        entry,
      ]);
      const out = await new Deno.Command(limited.command, {
        args: limited.args,
        cwd: ROOT,
        env: { ...limited.env, NO_COLOR: "1" },
        stdin: "null",
      }).output();
      const xml = await Deno.readTextFile(`${work}/junit.xml`).catch(() => "");
      const name = options.itemName ?? ((t: TestResult) => `${t.file}: ${t.name}`);
      const items: Item[] = parseJUnit(xml).filter((t) => !t.name.includes(" > ")).map((t) => ({
        name: name(t),
        ok: t.passed || t.skipped,
        detail: t.passed ? undefined : t.message,
      }));
      if (!items.length || !out.success && items.every((i) => i.ok)) {
        const text = decoder.decode(out.stdout) + decoder.decode(out.stderr);
        items.push({ name: `${paths.join(" ")} ran`, ok: false, detail: tail(text, 40) });
      }
      return [{ title, items }];
    });
}

/**
 * The TypeScript blocks of the lesson READMEs, run in one isolate
 * (tools/doc_blocks.ts), with loopback only; one item per block, which must
 * all report. The type check job checks them, as `deno check --doc` does.
 */
function docBlocksJob(lessons: Lesson[]): Job {
  return () =>
    withScratch("doc-blocks", async (work) => {
      const blocks = (await Promise.all(lessons.map(async (lesson) => {
        const file = `lessons/${lesson.id}/README.md`;
        return markdownBlocks(await Deno.readTextFile(`${ROOT}${file}`), file);
      }))).flat();
      const modules = await Promise.all(blocks.map(async (block, i) => {
        const path = `${work}/block${i}.ts`;
        await Deno.writeTextFile(path, testModule(block, ROOT));
        return path;
      }));
      const title = "TypeScript blocks in the lesson READMEs";
      const [group] = await testJob(title, modules, {
        permissions: ["--allow-net=127.0.0.1"],
        itemName: (t) => t.name,
      })();
      const reported = new Set(group.items.map((i) => i.name));
      for (const block of blocks.filter((b) => !reported.has(blockName(b)))) {
        group.items.push({ name: blockName(block), ok: false, detail: "it never reported" });
      }
      return [group];
    });
}

function tail(text: string, lines: number): string {
  const all = relativize(text.trim()).split("\n");
  return (all.length > lines ? ["…", ...all.slice(-lines)] : all).join("\n");
}

/**
 * Whether a failed test's message says it never ran: `deno test` reports
 * "Cancelled" for the tests of a file that an uncaught error stopped, and
 * the grader "never ran" for a test that did not report.
 */
function neverRan(message: string): boolean {
  return /^(Cancelled|never ran)$/.test(message.trim());
}

/**
 * What a graded run of the stubs or the solutions gave: the grader's, or a
 * batch's graded the grader's way.
 */
type WholeGrade =
  & Pick<VariantGrade, "tests" | "points" | "maxPoints" | "violations" | "problem">
  & {
    sandbox: string;
  };

/**
 * The stubs' items: every test fails, most with "not implemented", and the
 * grade is zero without the stubs being taken for cheating.
 */
function stubGroup(lesson: Lesson, graded: WholeGrade): Group {
  const items: Item[] = graded.tests.filter((t) => t.status !== "skip").map((t) => ({
    name: `stub fails: ${t.name}`,
    ok: t.status === "fail" && !neverRan(t.message),
    detail: t.status === "pass"
      ? "this test passes against the unimplemented stub: it cannot fail"
      : neverRan(t.message)
      ? `it never ran against the stub (${t.message.trim()}): an uncaught error elsewhere in ` +
        "its file cancelled it, so nothing shows that it can fail"
      : isNotImplementedMessage(t.message)
      ? undefined
      : `(fails, though not with "not implemented": ${t.message.split("\n")[0]})`,
  }));
  const honest = graded.points === 0 && !graded.violations.length;
  items.push({
    name: `stubs graded ${graded.points}/${graded.maxPoints} (${graded.sandbox}), not as cheating`,
    ok: honest && !graded.problem,
    detail: graded.problem ?? (honest ? undefined : graded.violations.join("; ")),
  });
  return { title: `${lesson.id} stubs fail every test`, items };
}

/**
 * The stubs, graded by the grader itself (its sandbox, its hardening). A
 * lesson with known mistakes runs them in its mistakes' batch instead, as
 * one more variant (same sandbox and preload, graded the grader's way),
 * and here only when the batch cannot vouch for them.
 */
function stubJob(catalog: Catalog, lesson: Lesson, reference: () => Promise<SuiteResult>): Job {
  return async () => {
    await reference(); // the grader's reference run, then cached
    return [stubGroup(lesson, await gradeLesson(catalog, lesson, EXERCISES, CHECK_LIMITS, []))];
  };
}

/**
 * The time zone and locale the solutions are also checked under (every suite
 * already runs in `SUITE_TZ`, east of UTC): west of UTC, an offset of
 * hours and a half, a decimal comma.
 */
export const FOREIGN_ENV = {
  TZ: "America/St_Johns",
  LANG: "tr_TR.UTF-8",
  LC_ALL: "tr_TR.UTF-8",
};

/** What a grade of the solutions says: full marks, no violation, or what fell short. */
function solutionGradeItem(graded: WholeGrade): Item {
  const full = graded.points === graded.maxPoints && !graded.violations.length;
  return {
    name: `solution graded ${graded.points}/${graded.maxPoints} (${graded.sandbox})`,
    ok: full && !graded.problem && graded.maxPoints > 0,
    detail: full ? graded.problem : [
      ...graded.violations,
      ...graded.tests.filter((t) => t.status === "fail").map((t) => `${t.name}: ${t.message}`),
    ].join("\n"),
  };
}

/**
 * The solutions, twice: as a learner runs them (under a foreign time zone and
 * locale; the result is then the grader's cached reference run), and graded
 * the grader's way, which must give full marks without a violation: here,
 * by the grader itself, when `graded`; otherwise in the lesson's known
 * mistakes' batch, as one more variant (the same sandbox and preload).
 */
function solutionJob(
  catalog: Catalog,
  lesson: Lesson,
  run: () => Promise<SuiteResult>,
  graded: boolean,
): Job {
  return async () => {
    const result = await run();
    const items: Item[] = result.tests.filter((t) => !t.skipped).map((t) => ({
      name: `solution passes: ${t.name}`,
      ok: t.passed,
      detail: t.passed ? undefined : t.message,
    }));
    if (result.problem) {
      items.push({ name: "solution suite runs", ok: false, detail: result.problem });
    }
    if (graded) {
      items.push(
        solutionGradeItem(await gradeLesson(catalog, lesson, SOLUTIONS, CHECK_LIMITS, [])),
      );
    }
    return [{
      title: `${lesson.id} solutions pass, TZ=${FOREIGN_ENV.TZ} ${FOREIGN_ENV.LANG} (${
        (result.ms / 1000).toFixed(1)
      } s)${graded ? ", and get full marks" : ""}`,
      items,
    }];
  };
}

/**
 * Runs the suites of `run` (lessons that may reach the same hosts) on the
 * solutions in one process, as `deno task course` runs a learner's lessons
 * (`runShared`), and keeps each fully passing result as the grader's
 * reference for that content.
 */
async function referenceRuns(run: Lesson[]): Promise<Map<string, SuiteResult>> {
  const results = await runShared(run, SOLUTIONS, { env: FOREIGN_ENV });
  for (const lesson of run) await keepAsReference(lesson, results.get(lesson.id)!);
  return results;
}

/**
 * Processes for the reference runs of lessons that may reach the same hosts:
 * each process costs what Deno's test runtime does on start (0.3 s of CPU
 * time on a machine whose fresh memory is slow), and the known mistakes of a
 * lesson wait for its reference run.
 */
const REFERENCE_PROCESSES = 3;

/**
 * The grader's limits for what the check grades (known mistakes, stubs, solutions), but 30 s
 * instead of 10 per suite: a mistake can make a suite slow without hanging it (lesson 09's
 * `sleep-ignores-abort` leaves every wait running, and Deno waits for pending timers at the end of
 * each test: measured 10.3 s, and 46.8 s at a low priority beside two checks at once), a loaded
 * machine can make any suite slow (lesson 16's solutions, graded on their own beside a second
 * check, took more than 10 s), and the check pins what the tests say, not the grader's time limit.
 */
const CHECK_LIMITS = { ...DEFAULT_LIMITS, timeoutMs: 30_000 };

/** The grader's hardening for a known mistake: its sandbox, its limits (but more time). */
async function mistakeRun(): Promise<BatchOptions> {
  return { sandbox: await detectSandbox(), ...CHECK_LIMITS };
}

/**
 * The folder Deno keeps its caches in for a lesson's known-mistake batches,
 * from one check to the next (`.course/batch-cache/<lesson>`). In a fixed
 * scratch folder, the variants' files keep their paths, and Deno's cache,
 * which is read-only inside the grader's sandbox, would have to transpile
 * them all again each check. Measured on 2 cores with process accounting,
 * in four pairs of checks, the batches took 36-41 s of CPU time with it
 * against 42-56 s without; it holds about 120 MB for the 16 lessons.
 * Only the check's own known mistakes write to it; the grader never gives a
 * submission a writable cache.
 */
async function batchCache(lesson: Lesson): Promise<string> {
  const dir = `${ROOT}.course/batch-cache/${lesson.id}`;
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}

/** A solo run of one variant by the grader itself, for what a batch cannot vouch for. */
async function gradeAlone(
  catalog: Catalog,
  lesson: Lesson,
  mistake: Mistake,
): Promise<VariantGrade> {
  return await withScratch("mistake", async (work) => {
    const target = await variantTarget(lesson, mistake, work);
    const graded = await gradeLesson(catalog, lesson, target, CHECK_LIMITS, []);
    return {
      tests: graded.tests,
      failed: graded.tests.filter((t) => t.status === "fail"),
      points: graded.points,
      maxPoints: graded.maxPoints,
      violations: graded.violations,
      problem: graded.problem,
      ms: graded.tests.reduce((n, t) => n + t.ms, 0),
    };
  });
}

/**
 * A lesson's record of the tests each known mistake fails, if it is current;
 * otherwise why not (every variant then runs all its tests, and the check
 * fails until the record is refreshed).
 */
async function currentRecord(lesson: Lesson): Promise<FailingTests | string> {
  const record = await recordedFailures(lesson);
  if (typeof record === "string") {
    return `${record}: deno task check ${lesson.id} --update-snapshots`;
  }
  if (record.fingerprint !== await failingFingerprint(lesson)) {
    return "out of date: the lesson's tests, its known mistakes, the harness, its solutions or " +
      `the dependency pins changed since it was recorded (every variant ran all its tests): ` +
      `deno task check ${lesson.id} --update-snapshots, and commit it`;
  }
  return record;
}

/**
 * Records the tests each mistake failed in a full run; returns why it did
 * not, when it could not (a variant that did not run, a test skipped here).
 */
async function recordRun(
  lesson: Lesson,
  reference: SuiteResult,
  failing: Map<string, string[]>,
  ms: Map<string, number>,
  alone: string[],
  mistakes: number,
): Promise<string | undefined> {
  const skipped = reference.tests.filter((t) => t.skipped);
  if (skipped.length) {
    return `not recorded: ${skipped.length} test(s) were skipped here ("${skipped[0].name}"), ` +
      "so a record would leave them out; record on Linux, where deno task test sets the open-file limit";
  }
  if (failing.size !== mistakes) return "not recorded: some variants did not run (see above)";
  // Whether a share can vouch for a variant depends on timing (lesson 04's
  // keeps-resending-after-reply ran alone in some full runs, in a share in others), so a
  // variant once seen to need a process of its own keeps it; remove its id to try again.
  const before = await recordedFailures(lesson);
  const kept = typeof before === "object" ? [...before.alone].filter((id) => failing.has(id)) : [];
  await recordFailures(lesson, failing, ms, [...new Set([...alone, ...kept])]);
}

/**
 * What the known-mistakes batches that took far longer than their record
 * said about it, shown at the end of the check. A batch of lesson 01 took
 * 50-60 s in a few checks (13-25 s in the others, 9 s of tests recorded),
 * its variants all vouched for, with nothing to show where the time went.
 */
const slowBatches: string[] = [];

/** Milliseconds as seconds, to a tenth: `41.6 s`. */
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Notes a batch that took `ms`, at least three times its recorded seconds
 * and 20 s more: how much of it its tests' own times explain (a variant's
 * tests that did not run take the reference's results, and are left out),
 * and its slowest tests.
 */
function noteSlowBatch(
  lesson: Lesson,
  ms: number,
  recorded: number,
  runs: VariantRun[],
  selections: Map<string, Set<string>>,
  processes: string[],
): void {
  if (ms < Math.max(3 * recorded * 1000, (recorded + 20) * 1000)) return;
  const own = runs.flatMap(({ mistake, result }) =>
    (result?.tests ?? []).filter((t) => selections.get(mistake.id)?.has(t.name) ?? true)
      .map((t) => ({ ...t, variant: mistake.id }))
  ).sort((a, b) => b.ms - a.ms);
  slowBatches.push(
    `(slow batch: ${lesson.id}'s known mistakes took ${seconds(ms)}, ${recorded} s recorded; ` +
      `its tests' own times add up to ${seconds(own.reduce((n, t) => n + t.ms, 0))}; slowest: ${
        own.slice(0, 3).map((t) => `${t.variant} "${t.name.slice(0, 50)}" ${seconds(t.ms)}`)
          .join(", ")
      }; its processes, start to exit: ${processes.join(", ")})`,
  );
}

/**
 * A lesson's known mistakes, all in one sandboxed process (tools/mistake_batch.ts),
 * each reported as its own group: it must fail at least one test whose
 * message names it, lose points only for those failures, never be flagged
 * as hostile, and print exactly its pinned failure output. Each runs only
 * the tests it failed in the last full run (`--update-snapshots` records
 * them beside the pin, and the record must name tests the lesson has).
 * `recorded`: the seconds their tests took in that run, all told.
 */
function mistakesJob(
  catalog: Catalog,
  lesson: Lesson,
  mistakes: Mistake[],
  reference: () => Promise<SuiteResult>,
  recorded: number,
  update: boolean,
): Job {
  return () =>
    withFixedScratch(`mistakes-${lesson.id}`, async (work, fixed) => {
      const ref = await reference();
      const perTest = catalog.scoring.pointsPerTest * (lesson.weight ?? 1);
      const options = {
        ...await mistakeRun(),
        ownCache: fixed ? await batchCache(lesson) : undefined,
      };
      // Each variant runs only the tests it failed in the last full run (and those that catch it
      // on some runs only), if the record of them is current; the others take the reference's
      // results. Updating runs them all, and records them.
      const record = update ? undefined : await currentRecord(lesson);
      // Record names are plain; here a skipped test's name carries its reason.
      const byPlainName = new Map(ref.tests.map((t) => [plainTestName(t.name), t.name]));
      const selectionOf = (mistake: Mistake): Set<string> | string | undefined => {
        if (typeof record !== "object") return undefined;
        const names = record.failing.get(mistake.id);
        if (!names) return `${failingTestsFile(lesson)} has no entry for it`;
        const all = [...names, ...mistake.caughtSometimesBy?.tests ?? []].map(plainTestName);
        const unknown = all.filter((name) => !byPlainName.has(name));
        if (unknown.length) return `the lesson has no test "${unknown[0]}" (recorded or listed)`;
        return new Set(all.map((name) => byPlainName.get(name)!));
      };
      const selected = new Map(mistakes.map((m) => [m.id, selectionOf(m)]));
      const selections = new Map(
        [...selected].filter((e): e is [string, Set<string>] => e[1] instanceof Set),
      );
      // The stubs and the solutions run in the batch too, as two more variants. The mistakes that
      // ran on their own in the last full run (something one of their tests left running reached a
      // later test) do so at once: in a batch they cost a run of the rest of their share again.
      const alone = typeof record === "object" ? record.alone : new Set<string>();
      const batchStarted = performance.now();
      const processes: string[] = [];
      const all: VariantRun[] = ref.problem
        ? mistakes.map((mistake) => ({ mistake, unvouched: "the reference run failed" }))
        : await runBatch(lesson, mistakes.filter((m) => !alone.has(m.id)), ref, work, options, {
          selections,
          seconds: typeof record === "object" ? record.seconds : undefined,
          stubs: true,
          solutions: true,
          onShare: (name, { ms, stdoutMs, reportMs }) =>
            processes.push(
              `${name} ${seconds(ms)}` +
                (stdoutMs
                  ? ` (first dot ${seconds(stdoutMs.first)}, last ${seconds(stdoutMs.last)}` +
                    (reportMs === undefined ? "" : `, report written ${seconds(reportMs)}`) + ")"
                  : ""),
            ),
        });
      if (typeof record === "object") {
        noteSlowBatch(
          lesson,
          performance.now() - batchStarted,
          recorded,
          all,
          selections,
          processes,
        );
      }
      const batched = new Map(all.map((run) => [run.mistake.id, run.result]));
      const unvouched = new Map(all.map((run) => [run.mistake.id, run.unvouched]));
      // Why each variant the batch cannot vouch for runs on its own, as its title says.
      const whyAlone = (id: string) =>
        alone.has(id)
          ? "it did in the last full run"
          : unvouched.get(id) ?? "its batch said nothing";
      const runs = mistakes.map((mistake) => ({ mistake, result: batched.get(mistake.id) }));
      const stubRun = batched.get(STUBS_ID);
      const stubs = stubRun
        ? stubGroup(lesson, {
          ...gradeVariant(stubRun, ref, perTest, options, work),
          sandbox: options.sandbox.kind,
        })
        : (await stubJob(catalog, lesson, reference)())[0];
      // The solutions graded as a variant too; by the grader itself if the batch cannot vouch.
      const solutionRun = batched.get(SOLUTIONS_ID);
      const solutions: Group = {
        title: `${lesson.id} solutions get full marks`,
        items: [solutionGradeItem(
          solutionRun
            ? {
              ...gradeVariant(solutionRun, ref, perTest, options, work),
              sandbox: `${options.sandbox.kind}, in the known mistakes' batch`,
            }
            : await gradeLesson(catalog, lesson, SOLUTIONS, CHECK_LIMITS, []),
        )],
      };
      const failing = new Map<string, string[]>();
      const took = new Map<string, number>();
      // The variants a batch could not vouch for are graded one process each, side by side.
      const groups = await Promise.all(runs.map(async ({ mistake, result }): Promise<Group> => {
        const title = `${lesson.id} rejects ${mistake.id}${
          result ? "" : ` (run alone: ${whyAlone(mistake.id)})`
        }`;
        const name = `mistake ${mistake.id} (${mistake.summary})`;
        try {
          const graded = result
            ? gradeVariant(result, ref, perTest, options, work)
            : await gradeAlone(catalog, lesson, mistake);
          failing.set(mistake.id, graded.failed.map((t) => t.name));
          took.set(mistake.id, graded.ms);
          const items = await mistakeItems(lesson, mistake, graded, update);
          const stale = selected.get(mistake.id);
          if (typeof stale === "string") {
            items.push({
              name: `mistake ${mistake.id}: the tests it fails are recorded`,
              ok: false,
              detail: `${stale}, so all its tests ran: ` +
                `deno task check ${lesson.id} --update-snapshots, and commit it`,
            });
          }
          return { title, items };
        } catch (error) {
          return { title, items: [{ name, ok: false, detail: (error as Error).message }] };
        }
      }));
      const recording = update
        ? await recordRun(
          lesson,
          ref,
          failing,
          took,
          runs.filter((run) => !run.result).map((run) => run.mistake.id),
          mistakes.length,
        )
        : undefined;
      const problem = recording ?? (typeof record === "string" ? record : undefined);
      if (problem) {
        groups.push({
          title: `${lesson.id} known mistakes: the tests each fails are recorded`,
          items: [{ name: failingTestsFile(lesson), ok: false, detail: problem }],
        });
      }
      return [...groups, stubs, solutions];
    });
}

async function mistakeItems(
  lesson: Lesson,
  mistake: Mistake,
  graded: VariantGrade,
  update: boolean,
): Promise<Item[]> {
  const name = `mistake ${mistake.id} (${mistake.summary})`;
  const sometimes = new Set(mistake.caughtSometimesBy?.tests ?? []);
  // Tests that catch it only on some runs count for nothing here, and stay out of the pin.
  const failed = graded.failed.filter((t) => !sometimes.has(t.name));
  const naming = failed.find((t) => t.message.includes(mistake.caughtBy));
  let detail: string | undefined;
  if (graded.problem) detail = `the variant did not run: ${graded.problem}`;
  else if (graded.violations.length) {
    detail = `the grader took this honest mistake for cheating: ${graded.violations.join("; ")}`;
  } else if (!failed.length) detail = "every test passed: this mistake survives the suite";
  else if (!naming) {
    detail = `caught by ${failed.map((t) => `"${t.name}"`).join(", ")}, ` +
      `but no message says "${mistake.caughtBy}":\n${failed.map((t) => t.message).join("\n---\n")}`;
  }
  const shown = naming
    ? `${name}: caught by "${naming.name}"; graded ${graded.points}/${graded.maxPoints}`
    : name;
  const items: Item[] = [{ name: shown, ok: !detail, detail }];
  if (!detail) {
    let differs: string | undefined;
    try {
      // The failures that name the mistake: what its learner reads. The variant's other failures
      // stay out, so that a test that is slow to settle under load cannot make the pin flaky.
      const named = failed.filter((t) => t.message.includes(mistake.caughtBy));
      const pinned = mistake.varyingOutput ? named.map((t) => ({ ...t, message: "" })) : named;
      await checkSnapshot(lesson, mistake.id, failureOutput(pinned), update);
    } catch (error) {
      differs =
        `${(error as Error).message.replace(/To update snapshots[\s\S]*/, "").trimEnd()}\n` +
        "if the change is meant: deno task check " +
        `${lesson.id} --update-snapshots, and commit it`;
    }
    items.push({
      name: `mistake ${mistake.id}: failure output as pinned`,
      ok: !differs,
      detail: differs,
    });
  }
  return items;
}

/** Jobs at once: six per core, or CHECK_JOBS. */
function poolSize(): number {
  const given = Deno.env.get("CHECK_JOBS");
  if (given === undefined) return 6 * CORES;
  if (!/^[1-9]\d{0,2}$/.test(given)) {
    throw new UsageError(`CHECK_JOBS must be a whole number from 1 to 999, not "${given}"`);
  }
  return Number(given);
}

async function main(): Promise<number> {
  const flags = parseArgs(Deno.args, {
    boolean: ["verbose", "help", "record-stubs", "update-snapshots"],
    string: ["json"],
    unknown: (arg: string) => {
      if (arg.startsWith("-")) {
        throw new UsageError(`unknown option ${arg}; usage: deno task check [LESSON…]`);
      }
      return true;
    },
  });
  if (flags.help) {
    console.log("usage: deno task check [LESSON…]   (no lesson: the whole course, as CI runs it)");
    return 0;
  }
  if (flags["record-stubs"]) {
    await Deno.writeTextFile(STUBS_FILE, JSON.stringify(await currentStubIds(), null, 2) + "\n");
    console.log("Recorded the stubs' blob ids in tools/stubs.json; commit it with the stubs.");
    return 0;
  }
  const catalog = await loadCatalog();
  const only: string[] = flags._.map(String);
  const lessons = only.length ? only.map((n) => findLesson(catalog, n)) : catalog.lessons;
  const started = performance.now();

  // Each lesson's solutions run once as a learner runs them (several lessons a process, as
  // `deno task course` runs them: 16 processes took 0.3 s of CPU time each to start); that run is
  // then the reference for its known mistakes, its graded stubs and the grader's own tests
  // (tools/result_cache.ts).
  const references = new Map<string, () => Promise<SuiteResult>>();
  for (const run of planSharedRuns(lessons, REFERENCE_PROCESSES)) {
    let started: Promise<Map<string, SuiteResult>> | undefined;
    for (const lesson of run) {
      references.set(
        lesson.id,
        async () => (await (started ??= referenceRuns(run))).get(lesson.id)!,
      );
    }
  }
  const reference = (lesson: Lesson) => references.get(lesson.id)!;
  // The solutions first (short, and everything else waits on them), then the longest jobs, so that
  // they overlap with everything else.
  // A lesson with known mistakes has its solutions graded in their batch.
  const mistakesOf = new Map<string, Mistake[]>();
  for (const lesson of lessons) mistakesOf.set(lesson.id, await loadMistakes(lesson));
  const jobs: Job[] = lessons.map((lesson) =>
    solutionJob(catalog, lesson, reference(lesson), !mistakesOf.get(lesson.id)!.length)
  );
  if (!only.length) {
    // Mostly waiting on the processes it starts, one after another: it must not be the last to start.
    jobs.push(testJob("learner command tests (course, watch)", ["tools/learner_cli_test.ts"]));
    // Long ones next: started after the known mistakes, they ended the check (its last 10 s).
    jobs.push(
      testJob("tooling unit tests", [
        "tools/catalog_test.ts",
        "tools/suite_test.ts",
        "tools/junit_test.ts",
        "tools/import_map_test.ts",
        "tools/mistakes_test.ts",
        "tools/mistake_batch_test.ts",
        "tools/doc_blocks_test.ts",
        "tools/failing_tests_test.ts",
        "tools/structure_test.ts",
        "tools/test_reach_test.ts",
        "tools/hints_test.ts",
        "tools/scratch_test.ts",
        "tools/facts_test.ts",
        "tools/mutate/mutate_test.ts",
      ]),
      // In one isolate of their own, not with the unit tests: there (the TypeScript compiler
      // loaded, a larger heap), a harness test that drips bytes to a reader on proof of its reads
      // saw two bytes in one read() in two checks run side by side (the proxy's 200 ms fallback had
      // passed), before the proxy paced its pieces by I/O polls (tests/harness/io_turn.ts).
      testJob("harness unit tests", ["tests/harness/"]),
      docBlocksJob(lessons),
    );
    jobs.push(async () => {
      await Promise.all(lessons.map((lesson) => reference(lesson)()));
      return await testJob("grader tests", [
        "tools/grader/grade_test.ts",
        "tools/grader/zip_test.ts",
      ])();
    });
  }
  // The longest first, by the seconds their tests took in the last full run (the bounded waits of
  // the tests that catch them): in reverse lesson order, lesson 08's (26 s in one process) started
  // two thirds of the way in and ended the check. Without a record, later lessons first.
  // A lesson's stubs run in its known mistakes' batch; without known mistakes, on their own.
  const recordedSeconds = new Map(
    await Promise.all(lessons.map(async (lesson): Promise<[string, number]> => {
      const record = await recordedFailures(lesson);
      const seconds = typeof record === "object" ? [...record.seconds.values()] : [];
      return [lesson.id, seconds.reduce((sum, n) => sum + n, 0)];
    })),
  );
  const longestFirst = [...lessons].reverse().sort((a, b) =>
    recordedSeconds.get(b.id)! - recordedSeconds.get(a.id)!
  );
  for (const lesson of longestFirst) {
    const mistakes = mistakesOf.get(lesson.id)!;
    if (!mistakes.length) continue;
    jobs.push(
      mistakesJob(
        catalog,
        lesson,
        mistakes,
        reference(lesson),
        recordedSeconds.get(lesson.id)!,
        flags["update-snapshots"],
      ),
    );
  }
  const withoutMistakes = lessons.filter((lesson) => !mistakesOf.get(lesson.id)!.length);
  if (!only.length) {
    jobs.push(
      // The hostile corpus (tools/grader/corpus_test.ts) is its own task, `deno task corpus`.
      testJob("learner command tests (test)", ["tools/cli_test.ts"]),
      testJob("learner output tests (80 columns, leak lines)", ["tools/report_test.ts"]),
      denoJob("formatting (deno fmt --check)", ["fmt", "--check"]),
      denoJob("lint (deno lint)", ["lint"]),
      denoJob("lint of the stubs (unused parameters allowed)", [
        "lint",
        "--no-config",
        "--rules-exclude=no-unused-vars,require-await",
        "exercises/",
      ]),
      denoJob("type check, JSDoc examples and README blocks included", [
        "check",
        "--doc",
        "tools/",
        "tests/",
        "solutions/",
        "exercises/",
        ...lessons.map((lesson) => `lessons/${lesson.id}/README.md`),
      ]),
    );
  }
  jobs.push(async () => {
    const rules = (await checkStructure(catalog)).filter((r) =>
      !only.length || lessons.some((l) => r.name.startsWith(l.id))
    );
    return [{
      title: "structure",
      items: rules.map((r) => ({
        name: r.name,
        ok: !r.problems.length,
        detail: r.problems.join("\n") || undefined,
      })),
    }];
  });
  jobs.push(async () => [{
    title: "equivalent mutants still in the solutions (tools/mutate)",
    items: await Promise.all(lessons.map(async (lesson) => {
      const problems = await staleEquivalents(lesson);
      return { name: lesson.id, ok: !problems.length, detail: problems.join("\n") || undefined };
    })),
  }]);
  jobs.push(async () => [{
    title: "fact markers in the lesson READMEs (deno task facts re-measures them)",
    items: await Promise.all(lessons.map(async (lesson) => {
      const problems = await checkMarkers([`lessons/${lesson.id}/README.md`]);
      return { name: lesson.id, ok: !problems.length, detail: problems.join("\n") || undefined };
    })),
  }]);
  jobs.push(...withoutMistakes.map((lesson) => stubJob(catalog, lesson, reference(lesson))));

  // Six jobs per core: part of a job's time is its subprocesses waiting (bounded waits of the
  // tests that catch a mistake). Measured on 2 cores: 4 jobs 59 s, 6 jobs 49 s, 8 jobs 46 s (no
  // idle CPU left) in November; on 2026-12-01, on a machine where each isolate's start costs
  // 0.3 s of CPU time, once the harness's tests shared one isolate (108 s of CPU time): 6 jobs
  // 60.3-60.9 s (87 % busy), 8 jobs 52.8 s, 10 jobs 52.2 s; later that day 12 jobs beat 8 in 6 of
  // 7 alternated pairs (54.1-62.7 s against 57.3-67.7 s: with 8, the cores idled for seconds
  // while every running job waited). Starting the longest jobs of the last check first gained
  // nothing measurable: at 12 the check is bound by CPU time. CHECK_JOBS overrides it.
  const groups = startPool(
    jobs,
    poolSize(),
    async (job) => {
      const jobStarted = performance.now();
      const done = await job().catch((e): Group[] => [{
        title: "internal error",
        items: [{ name: "job", ok: false, detail: String(e) }],
      }]);
      if (done.length) done[0].ms = performance.now() - jobStarted;
      return done;
    },
  );
  const spent = new Map<string, number>();
  let passed = 0;
  let failed = 0;
  const record: { group: string; name: string; ok: boolean; detail?: string }[] = [];
  for (const pending of groups) {
    for (const group of await pending) {
      const kind = kindOf(group.title);
      // A job's time counts for the kind of its first group (the stubs ride in the mistakes' jobs).
      if (group.ms !== undefined) spent.set(kind, (spent.get(kind) ?? 0) + group.ms);
      for (const item of group.items) {
        record.push({
          group: group.title,
          name: item.name,
          ok: item.ok,
          detail: item.ok ? undefined : item.detail,
        });
      }
      const bad = group.items.filter((i) => !i.ok);
      passed += group.items.length - bad.length;
      failed += bad.length;
      const mark = bad.length ? red("✗") : green("✓");
      const took = group.ms === undefined ? "" : `, job ${(group.ms / 1000).toFixed(1)} s`;
      console.log(
        `${mark} ${group.title} ${
          dim(`(${group.items.length - bad.length}/${group.items.length}${took})`)
        }`,
      );
      for (const item of bad) {
        console.log(red(`    ✗ ${item.name}`));
        if (item.detail) console.log(item.detail.split("\n").map((l) => `        ${l}`).join("\n"));
      }
      if (flags.verbose) {
        for (const item of group.items.filter((i) => i.ok)) console.log(dim(`    ✓ ${item.name}`));
      }
    }
  }
  console.log(dim(`(${((performance.now() - started) / 1000).toFixed(1)} s on ${CORES} cores)`));
  console.log(
    dim(
      `(job time by kind: ${
        [...spent].map(([kind, ms]) => `${kind} ${(ms / 1000).toFixed(1)} s`).join(", ")
      })`,
    ),
  );
  for (const line of slowBatches) console.log(dim(line));
  if (flags.json) {
    await Deno.writeTextFile(flags.json, JSON.stringify({ passed, failed, items: record }));
  }
  console.log(`check: ${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

if (import.meta.main) await runMain("check", main);
