/**
 * Runs one lesson's test suite against one target (the learner's exercises,
 * the solutions, a submission, a known-mistake variant) in its own
 * `deno test` process, with only the lesson's loopback hosts allowed, and
 * returns one result per test, or the problem that kept the suite from
 * running (a syntax or type error, a missing file, a time-out).
 *
 * @module
 */

import { concat } from "@std/bytes/concat";
import { type Lesson, ROOT } from "./catalog.ts";
import { importMapFor, type Target } from "./import_map.ts";
import { CANCELLED, crossedInto, parseJUnit, type TestResult } from "./junit.ts";
import { lastStartedTest, progressPreload, watchTestStarts } from "./test_progress.ts";
import { toFileUrl } from "@std/path";
import { capTreeMemory } from "./grader/memory.ts";
import { mapPool } from "./pool.ts";
import { untouchedStubs } from "./reset.ts";
import { withScratch } from "./scratch.ts";
import { EXERCISES, lessonPath } from "./targets.ts";
import { FD_LIMIT_VARIABLE, SUITE_FD_LIMIT } from "../tests/harness/fd_limit.ts";

/** How a suite is run. */
export interface SuiteOptions {
  /**
   * Type-check before running (what a learner wants); off where `deno check`
   * already ran. A learner's lesson whose files are still the committed stubs
   * is not checked again: the check type-checks them with their tests, and a
   * first `deno task test` or `watch` of a lesson spent 2.5 s of CPU time on it.
   */
  typeCheck?: boolean;
  /** Kill the process after this many milliseconds (default 60 000). */
  timeoutMs?: number;
  /** Extra flags for `deno test` (e.g. the grader's preload and memory cap). */
  extraFlags?: string[];
  /** Kill the process once it has printed more than this many bytes (default 4 MiB). */
  outputCapBytes?: number;
  /** Kill the process once its resident memory passes this many MiB (sampled with `ps`; default: no cap). */
  memoryCapMb?: number;
  /**
   * Wraps the `deno test` command line (the grader's sandbox): given Deno's
   * path, the arguments and the run's scratch folder, what to spawn instead,
   * with its whole environment (nothing is inherited then).
   */
  wrap?: (
    deno: string,
    args: string[],
    work: string,
  ) => { command: string; args: string[]; env: Record<string, string> };
  /** The test modules or folders to run (default: the lesson's `tests/lesson-NN/`). */
  paths?: string[];
  /** Extra environment variables for the process (e.g. a time zone and locale). */
  env?: Record<string, string>;
  /**
   * Run several test modules in one isolate (default true, except in the
   * grader's sandbox): false gives each its own, as `deno test` does.
   */
  oneIsolate?: boolean;
  /**
   * Record each test's start (tools/test_progress.ts), so that a suite
   * stopped for time names the test that never finished: for a learner's
   * runs, where that is the whole answer.
   */
  progress?: boolean;
  /**
   * With `progress`: stop the process once one test has run this long
   * (default 30 000 ms), naming it, rather than wait out `timeoutMs`.
   */
  testTimeoutMs?: number;
}

/**
 * The time zone every lesson suite runs in, wherever it runs (a learner's
 * `deno task test`, the check, the grader's sandbox), unless the run sets
 * another (the check's second run of the solutions): UTC+13:45 in November,
 * a zone whose offset is not whole hours and whose date is often not UTC's.
 * On a machine set to UTC (CI, most containers) local time and UTC agree,
 * so code that prints UTC where the lesson asks for local time would pass
 * there and fail elsewhere; with one zone for every run, the verdict is the
 * same on every machine, and that mistake fails on all of them.
 */
export const SUITE_TZ = "Pacific/Chatham";

/** Where `prlimit` is on Linux (util-linux); the sandbox binds the same path. */
export const PRLIMIT = "/usr/bin/prlimit";

/**
 * A `deno test` command line under the suites' low limit on open files
 * (`prlimit --nofile`, hard and soft) and the variable that announces it,
 * where Linux and `prlimit` are there; otherwise the command unchanged and
 * no variable (the tests that need the limit are then skipped).
 *
 * @example
 * ```ts
 * import { withFdLimit } from "./suite.ts";
 * const { command, args, env } = withFdLimit(Deno.execPath(), ["test"]);
 * // on Linux: /usr/bin/prlimit --nofile=256 -- deno test, COURSE_FD_LIMIT=256
 * ```
 */
export function withFdLimit(
  command: string,
  args: string[],
): { command: string; args: string[]; env: Record<string, string> } {
  if (Deno.build.os !== "linux" || !hasPrlimit()) return { command, args, env: {} };
  return {
    command: PRLIMIT,
    args: [`--nofile=${SUITE_FD_LIMIT}`, "--", command, ...args],
    env: { [FD_LIMIT_VARIABLE]: String(SUITE_FD_LIMIT) },
  };
}

let prlimitFound: boolean | undefined;

function hasPrlimit(): boolean {
  prlimitFound ??= (() => {
    try {
      return Deno.statSync(PRLIMIT).isFile;
    } catch {
      return false;
    }
  })();
  return prlimitFound;
}

/** How much of a suite's output is kept for diagnosis. */
export const KEPT_OUTPUT = 64 * 1024;

/**
 * The text kept of a stream's first bytes: all of it when that was the
 * whole stream, else up to its last line break, so that no path and no
 * character is kept in part. (A file URL cut short reads as a file outside
 * the ones a run may name, and the grader took it for cheating: a share of
 * known mistakes whose output passed 64 KiB was run again one process per
 * variant.)
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { keptOutput } from "./suite.ts";
 * const bytes = new TextEncoder().encode("a\nat file:///work/ma");
 * assertEquals(keptOutput(bytes, false), "a\n");
 * assertEquals(keptOutput(bytes, true), "a\nat file:///work/ma");
 * ```
 */
export function keptOutput(bytes: Uint8Array, whole: boolean): string {
  const text = new TextDecoder().decode(bytes);
  return whole ? text : text.slice(0, text.lastIndexOf("\n") + 1);
}

/** What one run of a suite produced. */
export interface SuiteResult {
  /** The lesson ID. */
  lesson: string;
  /** The target's label. */
  target: string;
  /** One result per top-level test, in file order. */
  tests: TestResult[];
  /** Why the suite could not run (compile error, missing file, time-out); one or a few lines. */
  problem?: string;
  /** Wall time of the process in milliseconds. */
  ms: number;
  /**
   * When the process first and last printed to stdout, in milliseconds after
   * it started: the dot reporter prints as each test ends, so the time before
   * the first is start-up (and the first test), the time after the last is
   * the process's end.
   */
  stdoutMs?: { first: number; last: number };
  /**
   * When Deno finished writing the JUnit report, in milliseconds after the
   * process started (from the file's modification time): its last act
   * before it exits. A process that ends long after is slow to exit, not
   * to test.
   */
  reportMs?: number;
  /** The first {@linkcode KEPT_OUTPUT} bytes of what the process printed (stderr, then stdout), whole lines ({@linkcode keptOutput}). */
  output?: string;
  /** How the process ended. */
  exit?: { code: number; signal: string | null };
  /** Why the runner stopped the process, if it did. */
  stopped?: "time" | "output" | "memory";
  /** A file of the lesson is missing from the target: nothing ran, `problem` says which, in one line. */
  missing?: boolean;
}

/** The result of a suite that did not run because a file of the lesson is missing. */
function missingResult(lesson: Lesson, target: Target, problem: string): SuiteResult {
  return { lesson: lesson.id, target: target.label, tests: [], problem, ms: 0, missing: true };
}

/**
 * Whether a type check of `lesson` against `target` is needed: not when the
 * target is the learner's own folder and the lesson's files there are all
 * still the committed stubs, which the check type-checks with their tests.
 *
 * @example
 * ```ts ignore
 * import { checksTypes } from "./suite.ts";
 * await checksTypes(lesson, EXERCISES); // false on a fresh clone
 * ```
 */
export async function checksTypes(lesson: Lesson, target: Target): Promise<boolean> {
  if (target.dir !== EXERCISES.dir || target.overlay) return true;
  return !(await untouchedStubs([lesson])).has(lesson.id);
}

/**
 * Runs `lesson`'s tests against `target`.
 *
 * @example
 * ```ts ignore
 * import { findLesson, loadCatalog, ROOT } from "./catalog.ts";
 * import { runSuite } from "./suite.ts";
 * const lesson = findLesson(await loadCatalog(), "3");
 * const result = await runSuite(lesson, { label: "solutions", dir: `${ROOT}solutions` });
 * console.log(result.tests.filter((t) => t.passed).length);
 * ```
 */
export async function runSuite(
  lesson: Lesson,
  target: Target,
  options: SuiteOptions = {},
): Promise<SuiteResult> {
  const absent = options.paths ? undefined : await missingFile(lesson, target);
  if (absent) return missingResult(lesson, target, absent);
  if (options.typeCheck && !await checksTypes(lesson, target)) {
    options = { ...options, typeCheck: false };
  }
  const paths = options.paths ?? [`${ROOT}tests/${lesson.id}/`];
  // The grader's sandbox keeps its isolate per module (and sees only what it binds).
  const modules = options.wrap || options.oneIsolate === false ? [] : await testModules(paths);
  if (modules.length < 2) return await runProcess(lesson, target, options, paths);
  const shared = await runProcess(lesson, target, options, paths, modules);
  return oneIsolateHeld(shared) ? shared : await runProcess(lesson, target, options, paths);
}

/**
 * Whether a run of several test modules in one isolate gave what an isolate
 * per module would have: an uncaught error stops every module after it in a
 * shared isolate (its own only, in an isolate of its own), and work one
 * module left running could reach the next one's first test. A run stopped
 * by a limit is kept: one process per suite is stopped the same way; so is
 * one that ran no test and threw nothing (a type or syntax error).
 */
function oneIsolateHeld(result: SuiteResult): boolean {
  if (result.stopped) return true;
  if (/\(uncaught error\)/.test(result.output ?? "")) return false;
  // No test ran and nothing was thrown: a type or syntax error, which an isolate each repeats.
  if (!result.tests.length) return true;
  return !result.tests.some(crossedInto);
}

/** What `deno test` takes for a test module when it is given a folder. */
const TEST_MODULE = /(^|[._])test\.(ts|tsx|mts|js|jsx|mjs)$/;

/**
 * The test modules `deno test` would run for `paths` (folders searched, not
 * their hidden or `node_modules` folders; files kept), in its order.
 *
 * @example
 * ```ts ignore
 * import { ROOT } from "./catalog.ts";
 * import { testModules } from "./suite.ts";
 * await testModules([`${ROOT}tests/lesson-03/`]); // [".../tests/lesson-03/udp_local_test.ts", …]
 * ```
 */
export async function testModules(paths: string[]): Promise<string[]> {
  const found: string[] = [];
  const visit = async (path: string): Promise<void> => {
    const info = await Deno.stat(path).catch(() => undefined);
    if (!info?.isDirectory) {
      if (info?.isFile) found.push(path);
      return;
    }
    const names: string[] = [];
    for await (const entry of Deno.readDir(path)) names.push(entry.name);
    for (const name of names.sort()) {
      const full = `${path.replace(/\/$/, "")}/${name}`;
      if (name.startsWith(".") || name === "node_modules") continue;
      const kind = await Deno.stat(full).catch(() => undefined);
      if (kind?.isDirectory) await visit(full);
      else if (kind?.isFile && TEST_MODULE.test(name)) found.push(full);
    }
  };
  for (const path of paths) await visit(path);
  return found;
}

/**
 * The source of a module that imports each of `modules` (absolute paths),
 * in order: given to `deno test` alone, it runs them all in one isolate.
 *
 * @example
 * ```ts
 * import { importingAll } from "./suite.ts";
 * importingAll(["/c/tests/a_test.ts"]); // 'import "file:///c/tests/a_test.ts";\n'
 * ```
 */
export function importingAll(modules: string[]): string {
  return modules.map((m) => `import "${toFileUrl(m).href}";\n`).join("");
}

/** Where the modules that import a suite's test modules are kept. */
const ENTRIES = `${ROOT}.course/entries`;

/**
 * The module that imports `modules`, at a path named by them: Deno keeps a
 * type check's result by the paths it checked, so a learner's second run
 * of an unchanged lesson skips the check, as it did with the modules
 * named one by one. Written through `work` and renamed into place, so a
 * run beside it never reads half a file.
 */
async function entryModule(modules: string[], work: string): Promise<string> {
  const text = importingAll(modules);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const name = [...new Uint8Array(digest).slice(0, 8)]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const entry = `${ENTRIES}/${name}_test.ts`;
  const there = await Deno.readTextFile(entry).catch(() => undefined);
  if (there !== text) {
    await Deno.mkdir(ENTRIES, { recursive: true });
    await Deno.writeTextFile(`${work}/entry_test.ts`, text);
    await Deno.rename(`${work}/entry_test.ts`, entry);
  }
  return entry;
}

/**
 * One `deno test` process for `paths`; given `modules`, they run in one
 * isolate, through a module that imports them all: `deno test` starts an
 * isolate, and loads the harness anew, for each module it is given (about
 * 60–90 ms each here). The tests still report the file that registered them.
 */
async function runProcess(
  lesson: Lesson,
  target: Target,
  options: SuiteOptions,
  paths: string[],
  modules?: string[],
): Promise<SuiteResult> {
  return await withScratch("suite", async (work) => {
    const mapPath = `${work}/import_map.json`;
    const junitPath = `${work}/junit.xml`;
    await Deno.writeTextFile(mapPath, JSON.stringify(await importMapFor(target)));
    const entry = modules ? await entryModule(modules, work) : undefined;
    const startedPath = options.progress ? `${work}/started.txt` : undefined;
    const progress = startedPath
      ? [`--preload=${await progressPreload(work, startedPath)}`, `--allow-write=${startedPath}`]
      : [];
    const args = [
      "test",
      `--config=${ROOT}deno.json`,
      `--import-map=${mapPath}`,
      `--junit-path=${junitPath}`,
      "--reporter=dot",
      "--no-prompt",
      `--allow-net=${lesson.net.join(",")}`,
      `--allow-env=${FD_LIMIT_VARIABLE}`,
      ...(options.typeCheck ? [] : ["--no-check"]),
      ...(options.memoryCapMb ? [`--v8-flags=--max-old-space-size=${options.memoryCapMb}`] : []),
      ...(options.extraFlags ?? []),
      ...progress,
      ...(entry ? [entry] : paths),
    ];
    const started = performance.now();
    const wrapped = options.wrap?.(Deno.execPath(), args, work);
    const limited = withFdLimit(Deno.execPath(), args);
    const child = new Deno.Command(wrapped?.command ?? limited.command, {
      args: wrapped?.args ?? limited.args,
      cwd: ROOT,
      clearEnv: wrapped !== undefined,
      env: wrapped?.env ?? { TZ: SUITE_TZ, ...options.env, ...limited.env, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const limit = options.timeoutMs ?? 60_000;
    const cap = options.outputCapBytes ?? 4 * 1024 * 1024;
    let stopped: SuiteResult["stopped"];
    const stop = (why: NonNullable<SuiteResult["stopped"]>) => {
      stopped ??= why;
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
    };
    const timer = setTimeout(() => stop("time"), limit);
    // A test that never ends (a loop that never yields) is stopped once it has run this long.
    const testLimit = options.testTimeoutMs ?? 30_000;
    let hung: string | undefined;
    const starts = startedPath
      ? watchTestStarts(startedPath, testLimit, (test) => {
        hung = test;
        stop("time");
      })
      : undefined;
    const stopWatchdog = options.memoryCapMb
      ? capTreeMemory(child.pid, options.memoryCapMb, () => stop("memory"))
      : () => Promise.resolve();
    let total = 0;
    let stdoutMs: SuiteResult["stdoutMs"];
    const collect = async (stream: ReadableStream<Uint8Array>, timed = false) => {
      const kept: Uint8Array[] = [];
      let keptBytes = 0;
      let seen = 0;
      for await (const chunk of stream) {
        if (timed) {
          const at = Math.round(performance.now() - started);
          stdoutMs = { first: stdoutMs?.first ?? at, last: at };
        }
        total += chunk.length;
        seen += chunk.length;
        if (keptBytes < KEPT_OUTPUT) {
          kept.push(chunk.subarray(0, KEPT_OUTPUT - keptBytes));
          keptBytes += kept.at(-1)!.length;
        }
        if (total > cap) stop("output");
      }
      return keptOutput(concat(kept), seen === keptBytes);
    };
    const [stdout, stderr, status] = await Promise.all([
      collect(child.stdout, true),
      collect(child.stderr),
      child.status,
    ]);
    clearTimeout(timer);
    starts?.stop();
    await stopWatchdog();
    const ms = Math.round(performance.now() - started);
    const base = {
      lesson: lesson.id,
      target: target.label,
      ms,
      stdoutMs,
      output: stderr + stdout,
      exit: { code: status.code, signal: status.signal },
    };
    if (stopped === "time") {
      const last = startedPath ? await lastStartedTest(startedPath) : undefined;
      return {
        ...base,
        stopped,
        tests: [],
        problem: hung === undefined
          ? `the suite did not finish within ${limit / 1000} s and was stopped` +
            (last === undefined ? "" : `\nthe test running then: "${last}"`)
          : `a test did not finish within ${testLimit / 1000} s and the suite was stopped\n` +
            neverFinished(hung),
      };
    }
    if (stopped === "memory") {
      return {
        ...base,
        stopped,
        tests: [],
        problem: `the suite used more than ${options.memoryCapMb} MiB of memory and was stopped`,
      };
    }
    if (stopped === "output") {
      return {
        ...base,
        stopped,
        tests: [],
        problem: `the suite printed more than ${cap} bytes and was stopped`,
      };
    }
    let xml: string | undefined;
    try {
      xml = await Deno.readTextFile(junitPath);
    } catch {
      xml = undefined;
    }
    const written = (await Deno.stat(junitPath).catch(() => undefined))?.mtime?.getTime();
    const reportMs = written === undefined
      ? undefined
      : Math.round(written - (performance.timeOrigin + started));
    const tests = xml ? parseJUnit(xml).filter((t) => !t.name.includes(" > ")) : [];
    // The grader names every test the reference has; an extra name would read as cheating there.
    if (!options.wrap) tests.push(...stoppedModules(stderr + stdout, tests, target));
    if (tests.length) return { ...base, reportMs, tests };
    return { ...base, reportMs, tests, problem: explainCrash(stderr, target) };
  });
}

/**
 * What a suite stopped for time says about the test that was running (its
 * own bounded waits never ended it, so the thread never came back to them).
 */
function neverFinished(test: string): string {
  return `the test "${test}" never finished: the code it runs most likely kept the thread busy ` +
    "and never gave the event loop a turn (a loop that never awaits, or whose condition never " +
    "changes), so not even the test's own time limits could end it";
}

/** How `deno test` heads the error that stopped a module: `./tests/…_test.ts (uncaught error)`. */
const UNCAUGHT = /^\.\/(\S+) \(uncaught error\)$/gm;

/**
 * One failed result for each test module an uncaught error stopped with no
 * failed test of its own to show for it. An error thrown before a module's
 * first test (a timer left by a lesson file's top level, say) leaves the
 * module out of the JUnit report altogether: its tests would simply be
 * missing, and the run read as all passed.
 *
 * @example
 * ```ts
 * import { stoppedModules } from "./suite.ts";
 * const stderr = "./tests/lesson-09/client_test.ts (uncaught error)\n" +
 *   "error: Error: late boom\n    at file:///x/lesson-09/client.ts:298:26\n";
 * stoppedModules(stderr, []).map((t) => t.name);
 * // ["every test in client_test.ts: an uncaught error stopped them"]
 * ```
 */
export function stoppedModules(stderr: string, tests: TestResult[], target?: Target): TestResult[] {
  const seen = new Set<string>();
  return [...stderr.matchAll(UNCAUGHT)].flatMap((heading): TestResult[] => {
    const file = heading[1];
    // The summary at the end names each such module again, without the error.
    if (seen.has(file)) return [];
    seen.add(file);
    // A failed test of the module's own shows the error; the tests it cancelled do not.
    const own = tests.filter((t) => t.file === file);
    if (own.some((t) => !t.passed && !t.skipped && t.message !== CANCELLED)) return [];
    // The error follows its heading, up to the first blank line.
    const after = stderr.slice(heading.index! + heading[0].length).replace(/^\n/, "");
    const why = explainCrash(after.split(/\n\s*\n/)[0], target);
    const ran = own.some((t) => t.message !== CANCELLED);
    const cancelled = own.filter((t) => t.message === CANCELLED).length;
    const name = file.split("/").at(-1);
    return [{
      file,
      name: !ran
        ? `every test in ${name}: an uncaught error stopped them`
        : cancelled
        ? `${name}: an uncaught error stopped its last ${cancelled} test${cancelled > 1 ? "s" : ""}`
        : `${name}: an uncaught error after its tests`,
      passed: false,
      skipped: false,
      message: `${ran ? "" : "not run: "}${why.split("\n")[0]} (an error nobody caught: ` +
        (cancelled
          ? "a promise nobody awaited or handled, such as a write started without await; the " +
            "runner stopped the file's tests there)"
          : "outside any test: a timer or promise left behind, by your module's top level or a " +
            "test)"),
      detail: why,
      ms: 0,
    }];
  });
}

/**
 * The one line to show when a file of the lesson is missing from the target
 * (instead of a page of type errors from the tests that import it), or
 * undefined when every file is there.
 *
 * @example
 * ```ts ignore
 * import { findLesson, loadCatalog } from "./catalog.ts";
 * import { missingFile } from "./suite.ts";
 * import { EXERCISES } from "./targets.ts";
 * await missingFile(findLesson(await loadCatalog(), "10"), EXERCISES);
 * // "exercises/lesson-10/tcp_sixteen.ts is missing: `deno task reset lesson-10` restores it"
 * ```
 */
export async function missingFile(lesson: Lesson, target: Target): Promise<string | undefined> {
  for (const file of lesson.files) {
    const relative = `${lesson.id}/${file}`;
    const dir = target.overlay?.files.includes(relative) ? target.overlay.dir : target.dir;
    const there = await Deno.stat(`${dir}/${relative}`).then((i) => i.isFile, () => false);
    if (there) continue;
    const shown = `${lessonPath(target, lesson.id)}${file} is missing`;
    return target.dir === EXERCISES.dir
      ? `${shown}: \`deno task reset ${lesson.id}\` restores it`
      : shown;
  }
  return undefined;
}

/**
 * Type-checks several lessons' tests against `target` in one `deno check`
 * (one process, one type-check, instead of one per lesson), and returns the
 * IDs of the lessons whose files the errors name: only those need a suite
 * run with type-checking, to report their errors; the others can run with
 * `--no-check`. An error that names no lesson (in the shared harness, say)
 * counts against every lesson.
 *
 * @example
 * ```ts ignore
 * import { loadCatalog } from "./catalog.ts";
 * import { typeCheckLessons } from "./suite.ts";
 * import { EXERCISES } from "./targets.ts";
 * const failing = await typeCheckLessons((await loadCatalog()).lessons, EXERCISES);
 * ```
 */
export async function typeCheckLessons(lessons: Lesson[], target: Target): Promise<Set<string>> {
  if (!lessons.length) return new Set();
  return await withScratch("typecheck", async (work) => {
    const mapPath = `${work}/import_map.json`;
    await Deno.writeTextFile(mapPath, JSON.stringify(await importMapFor(target)));
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "check",
        `--config=${ROOT}deno.json`,
        `--import-map=${mapPath}`,
        ...lessons.map((l) => `${ROOT}tests/${l.id}/`),
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    if (out.success) return new Set<string>();
    const text = new TextDecoder().decode(out.stderr);
    const named = lessons.filter((l) => text.includes(`/${l.id}/`)).map((l) => l.id);
    return new Set(named.length ? named : lessons.map((l) => l.id));
  });
}

/**
 * Plans shared processes for several lessons: lessons that may reach the
 * same hosts are dealt, in turn, into at most `processes` lists, each to run
 * in one `deno test` process. The modules of one process run one after
 * another, never `--parallel`: a process's open files are shared by all its
 * modules, and a test that runs its process out of file descriptors (the
 * EMFILE tests) would make a module running beside it fail (measured: a
 * shared `--parallel` run of the solutions failed 3 runs in 3, and Deno
 * panicked when a new module found no descriptor). Processes run side by side.
 *
 * @example
 * ```ts
 * import { planSharedRuns } from "./suite.ts";
 * const lessons = ["01", "02", "03"].map((n) => ({ id: `lesson-${n}`, net: ["127.0.0.1"] }));
 * planSharedRuns(lessons, 2).map((run) => run.map((l) => l.id));
 * // [["lesson-01", "lesson-03"], ["lesson-02"]]
 * ```
 */
export function planSharedRuns<L extends Pick<Lesson, "id" | "net">>(
  lessons: readonly L[],
  processes: number,
): L[][] {
  const groups = new Map<string, L[]>();
  for (const lesson of lessons) {
    const key = [...lesson.net].sort().join(",");
    groups.set(key, [...(groups.get(key) ?? []), lesson]);
  }
  return [...groups.values()].flatMap((group) => {
    const runs: L[][] = Array.from(
      { length: Math.min(Math.max(1, processes), group.length) },
      () => [],
    );
    group.forEach((lesson, i) => runs[i % runs.length].push(lesson));
    return runs;
  });
}

/**
 * Runs several lessons' suites against `target` in as few processes as
 * their permissions allow (see {@linkcode planSharedRuns}): one start-up
 * serves several lessons, whose modules run one after another, at most
 * `workers` processes at once; the results are split back per lesson by test
 * module (see {@linkcode runShared}). Results come back in `lessons` order.
 *
 * @example
 * ```ts ignore
 * import { loadCatalog } from "./catalog.ts";
 * import { runSuites } from "./suite.ts";
 * import { EXERCISES } from "./targets.ts";
 * const results = await runSuites((await loadCatalog()).lessons, EXERCISES, 4);
 * ```
 */
export async function runSuites(
  lessons: Lesson[],
  target: Target,
  workers: number,
): Promise<SuiteResult[]> {
  const results = new Map<string, SuiteResult>();
  const present: Lesson[] = [];
  for (const lesson of lessons) {
    const absent = await missingFile(lesson, target);
    if (absent) results.set(lesson.id, missingResult(lesson, target, absent));
    else present.push(lesson);
  }
  await mapPool(planSharedRuns(present, workers), workers, async (run) => {
    for (const [id, result] of await runShared(run, target)) results.set(id, result);
  });
  return lessons.map((l) => results.get(l.id)!);
}

/**
 * Runs the suites of `run` (lessons that may reach the same hosts, as
 * {@linkcode planSharedRuns} deals them) in one `deno test` process, and
 * splits the results back per lesson by test module. A lesson the shared
 * run cannot vouch for (the process failed or was stopped, or none of its
 * tests reported) runs again on its own.
 *
 * @example
 * ```ts ignore
 * import { findLesson, loadCatalog } from "./catalog.ts";
 * import { runShared } from "./suite.ts";
 * import { SOLUTIONS } from "./targets.ts";
 * const catalog = await loadCatalog();
 * const results = await runShared([findLesson(catalog, "1"), findLesson(catalog, "3")], SOLUTIONS);
 * results.get("lesson-03")?.tests.length;
 * ```
 */
export async function runShared(
  run: Lesson[],
  target: Target,
  options: Pick<SuiteOptions, "env"> = {},
): Promise<Map<string, SuiteResult>> {
  const results = new Map<string, SuiteResult>();
  const shared = await runSuite(run[0], target, {
    ...options,
    paths: run.map((l) => `${ROOT}tests/${l.id}/`),
  });
  for (const lesson of run) {
    const tests = shared.tests.filter((t) => t.file.startsWith(`tests/${lesson.id}/`));
    if (shared.problem || shared.stopped || !tests.length) {
      results.set(lesson.id, await runSuite(lesson, target, options));
      continue;
    }
    results.set(lesson.id, {
      lesson: lesson.id,
      target: target.label,
      tests,
      ms: tests.reduce((n, t) => n + t.ms, 0),
    });
  }
  return results;
}

/** Replaces absolute file URLs and paths under the repository with relative paths. */
export function relativize(text: string, target?: Target): string {
  let out = text.replaceAll(`file://${ROOT}`, "").replaceAll(ROOT, "");
  if (target?.overlay) out = out.replaceAll(`file://${target.overlay.dir}/`, `${target.label}:`);
  return out.replaceAll("file://", "");
}

/**
 * Condenses what `deno test` printed when it could not run the suite: type
 * errors as `file:line:col  TSxxxx message` with their code frame, a syntax
 * error as one line, a missing module by name.
 *
 * @example
 * ```ts
 * import { explainCrash } from "./suite.ts";
 * explainCrash("error: Module not found \"file:///tmp/sub/lesson-03/udp_local.ts\".");
 * // 'missing file: /tmp/sub/lesson-03/udp_local.ts'
 * ```
 */
export function explainCrash(stderr: string, target?: Target): string {
  const lines: string[] = [];
  const typeErrors = [
    ...stderr.matchAll(/(TS\d+) \[ERROR\]: ([^\n]*)\n([\s\S]*?)\n\s+at (\S+)/g),
  ];
  for (const [, code, message, frame, at] of typeErrors.slice(0, 5)) {
    lines.push(`${relativize(at, target)}  ${code}: ${message}`);
    const source = frame.split("\n").filter((l) =>
      l.trim() && !/^\s*~+\s*$/.test(l) && !/^\s{4}/.test(l)
    );
    if (source.length) lines.push(`    ${source.at(-1)!.trim()}`);
  }
  if (typeErrors.length > 5) lines.push(`… and ${typeErrors.length - 5} more type errors`);
  if (lines.length) return lines.join("\n");

  const parse = stderr.match(/could not be parsed: (.*?) at (file:\/\/\S+?)(?:\s|$)/);
  if (parse) return `${relativize(parse[2], target)}  syntax error: ${parse[1]}`;
  const thrown = stderr.match(
    /^error: (?:Uncaught )?(?:\(in promise\) )?([A-Z]\w*): (.*)\n([\s\S]*?)^\s+at (?:\S+ \()?(file:\/\/[^\s)]+)/m,
  );
  if (thrown) {
    const [, name, message, frame, at] = thrown;
    const source = frame.match(/^\s*\d+ \| (.*)$/m)?.[1];
    const what = name === "SyntaxError" ? "syntax error" : name;
    return `${relativize(at, target)}  ${what}: ${message}` +
      (source ? `\n    ${source.trim()}` : "");
  }
  const missing = stderr.match(/Module not found "([^"]+)"/);
  if (missing) return `missing file: ${relativize(missing[1], target)}`;
  const error = stderr.split("\n").find((l) => l.startsWith("error: "));
  if (error) return relativize(error.replace(/^error: /, ""), target);
  return relativize(
    stderr.trim().split("\n").slice(0, 3).join("\n") || "the suite ran no test",
    target,
  );
}
