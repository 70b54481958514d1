/**
 * Grading one submission: every selected lesson's suite runs in its own
 * sandboxed `deno test` process (an OS sandbox where bubblewrap works, see
 * `sandbox.ts`; inside it Deno's permissions: loopback network only, no read,
 * write, run, ffi or sys, no remote modules; the test realm hardened by
 * `lockdown.ts`; the reference solutions out of sight; bounded in time,
 * memory and output), and each test's outcome
 * is scored against the list of tests the reference solution passes. Anything
 * a submission does to get around the tests is one line in the report and
 * zeroes that lesson.
 *
 * @module
 */

import { type Catalog, type Lesson, ROOT } from "../catalog.ts";
import type { Target } from "../import_map.ts";
import { CORES, mapPool } from "../pool.ts";
import { cachedResult, contentKey, storeResults } from "../result_cache.ts";
import { withScratch } from "../scratch.ts";
import { detectSandbox, gradedFlags, launchIn, type Sandbox, type SandboxKind } from "./sandbox.ts";
import { openSubmission } from "./submission.ts";
import { runSuite, type SuiteResult } from "../suite.ts";
import { SOLUTIONS } from "../targets.ts";

/** One test's grade. */
export interface GradedTest {
  /** The test's name. */
  name: string;
  /** `pass`, `fail`, or `skip` (a platform-only test skipped on this machine). */
  status: "pass" | "fail" | "skip";
  /** Points earned. */
  points: number;
  /** Points possible. */
  maxPoints: number;
  /** The failure message (empty when passed). */
  message: string;
  /** Duration in milliseconds (0 when it never ran). */
  ms: number;
}

/** One lesson's grade. */
export interface GradedLesson {
  /** Lesson ID. */
  lesson: string;
  /** Lesson title. */
  title: string;
  /** Tests in the order the reference solution runs them. */
  tests: GradedTest[];
  /** Points earned (0 when there is a violation). */
  points: number;
  /** Points possible. */
  maxPoints: number;
  /** Why the suite could not run, if it could not. */
  problem?: string;
  /** What the submission tried that the sandbox stopped, one line each. */
  violations: string[];
  /** Wall time in milliseconds. */
  ms: number;
  /** The sandbox it ran in. */
  sandbox: SandboxKind;
}

/** A whole submission's grade. */
export interface Grade {
  /** The submission's name. */
  submission: string;
  /** The course version the grade is for. */
  courseVersion: string;
  /** When it was graded (ISO 8601). */
  gradedAt: string;
  /** Per lesson. */
  lessons: GradedLesson[];
  /** Points earned. */
  points: number;
  /** Points possible. */
  maxPoints: number;
  /** The sandbox the lessons ran in, one line (see `sandbox.ts`). */
  sandbox: string;
}

/** The sandbox's limits. */
export interface Limits {
  /** Wall-clock limit per lesson in milliseconds. */
  timeoutMs: number;
  /** Memory cap per lesson in MiB. */
  memoryMb: number;
  /** Output cap per lesson in bytes. */
  outputBytes: number;
}

/** The defaults: generous for honest code, tight for runaway code. */
export const DEFAULT_LIMITS: Limits = {
  timeoutMs: 10_000,
  memoryMb: 512,
  outputBytes: 1024 * 1024,
};

/** The wildcard addresses (all interfaces), with or without a port. */
const WILDCARD = /^(0\.0\.0\.0|\[::\]|::)(:\d+)?$/;

const KINDS: Record<string, string> = {
  read: "read",
  write: "write",
  net: "reach",
  run: "run",
  env: "read the environment variable",
  ffi: "load the native library",
  sys: "query the system for",
  import: "import",
};

/**
 * Remote code a run tried to load (`https:`, `npm:`, `jsr:`), from Deno's
 * refusals under `--no-remote` and `--cached-only`.
 *
 * @example
 * ```ts
 * import { remoteImports } from "./grading.ts";
 * remoteImports('TypeError: Failed loading https://registry.npmjs.org/left-pad for package "left-pad"');
 * // ["npm:left-pad"]
 * ```
 */
export function remoteImports(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(/remote specifier was requested: "((?:https?|jsr):[^"]+)"/g)) {
    // A JSR import shows as the manifest it needed; name the package instead.
    if (!m[1].includes("/meta.json")) found.add(m[1]);
  }
  for (const m of text.matchAll(/for package "([^"]+)"/g)) found.add(`npm:${m[1]}`);
  for (const m of text.matchAll(/JSR package manifest for '([^']+)'/g)) found.add(`jsr:${m[1]}`);
  for (const m of text.matchAll(/not found in cache: "?((?:npm|jsr|https?):[^"\s,]+)/g)) {
    found.add(m[1]);
  }
  return [...found];
}

/**
 * Turns what a sandboxed run shows into one-line violation reports.
 *
 * @example
 * ```ts
 * import { violationsOf } from "./grading.ts";
 * violationsOf({
 *   lesson: "lesson-07", target: "ann", ms: 5, problem: undefined,
 *   tests: [{ name: "t", file: "", passed: false, skipped: false, ms: 1, detail: "",
 *     message: 'NotCapable: Requires read access to "/etc/passwd", run again with the --allow-read flag' }],
 * }, 10_000, 512, 1024);
 * // ["tried to read /etc/passwd: denied"]
 * ```
 */
export function violationsOf(
  result: SuiteResult,
  timeoutMs: number,
  memoryMb: number,
  outputBytes: number,
): string[] {
  const found = new Set<string>();
  if (result.stopped === "time") found.add(`timed out after ${timeoutMs / 1000} s`);
  if (result.stopped === "memory") found.add(`used more than ${memoryMb} MiB of memory: stopped`);
  if (result.stopped === "output") found.add(`printed more than ${outputBytes} bytes: stopped`);
  if (!result.stopped && !result.tests.length && result.exit?.code === 0) {
    found.add("exited before the tests ran");
  }
  const texts = [
    result.problem ?? "",
    result.output ?? "",
    ...result.tests.map((t) => `${t.message}\n${t.detail}`),
  ];
  for (const text of texts) {
    if (/Requires env access, run again/.test(text)) {
      found.add("tried to read the whole environment: denied");
    }
    // In the OS sandbox there is no program to find, so the spawn fails before the permission check.
    for (const m of text.matchAll(/Failed to spawn '([^']+)'/g)) {
      found.add(`tried to run ${m[1]}: denied`);
    }
    for (
      const m of text.matchAll(/Requires (\w+) access to "?([^",\n]*?)"?(?:,|\s+run again|$)/gm)
    ) {
      // Listening on every interface where the lesson allows loopback only is an honest
      // mistake (it fails the lesson's tests), not an attempt to reach another machine.
      if (m[1] === "net" && WILDCARD.test(m[2])) continue;
      found.add(`tried to ${KINDS[m[1]] ?? m[1]} ${m[2]}: denied`);
    }
    if (/out of memory/i.test(text)) found.add(`ran out of memory (cap ${memoryMb} MiB)`);
    if (
      /Cannot (assign to read only property|add property|redefine property|define property)/.test(
        text,
      )
    ) {
      const what = text.match(/property '([^']+)' of (?:object|function) '?([^'\n]*)/);
      found.add(
        `tried to patch the test runtime${
          what ? ` (${what[1]} of ${what[2].slice(0, 40)})` : ""
        }: denied`,
      );
    }
    for (const remote of remoteImports(text)) {
      found.add(`tried to import ${remote}: denied (no remote code)`);
    }
    if (text.includes("solutions-are-off-limits-to-submissions")) {
      found.add("tried to import the reference solution: denied");
    }
  }
  return [...found];
}

/**
 * Files outside `allowed` folders (and Deno's own module cache) that a run
 * shows it loaded: a submission importing `/etc/passwd` as code, say.
 *
 * @example
 * ```ts
 * import { foreignFiles } from "./grading.ts";
 * foreignFiles(
 *   { lesson: "lesson-03", target: "ann", ms: 1, tests: [], problem: "syntax error at file:///etc/passwd:1:5" },
 *   ["/home/ann/"],
 * ); // ["/etc/passwd"]
 * ```
 */
export function foreignFiles(result: SuiteResult, allowed: string[]): string[] {
  // Deno's module cache: outside the OS sandbox it is under ~/.cache/deno, inside at /deno-dir.
  const cache = /^\/deno-dir\/|\/deno\/(npm|remote|gen)\//;
  const texts = [
    result.problem ?? "",
    result.output ?? "",
    ...result.tests.map((t) => `${t.message}\n${t.detail}`),
  ];
  const found = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(/file:\/\/(\/[^\s"'):]+)/g)) {
      const path = decodeURIComponent(m[1]);
      if (allowed.some((dir) => path.startsWith(dir)) || cache.test(path)) {
        continue;
      }
      found.add(path);
    }
  }
  return [...found];
}

/**
 * The reference run of a lesson (the solution's results, cached by content):
 * the list of tests a submission is graded on.
 *
 * @example
 * ```ts ignore
 * const names = (await referenceTests(lesson)).tests.map((t) => t.name);
 * ```
 */
export async function referenceTests(lesson: Lesson): Promise<SuiteResult> {
  const key = await contentKey(lesson, SOLUTIONS);
  const hit = await cachedResult(key);
  if (hit) return hit;
  const result = await runSuite(lesson, SOLUTIONS);
  await keepAsReference(lesson, result, key);
  return result;
}

/**
 * Keeps a run of `lesson`'s suite on the solutions as the reference for
 * that content, if every test passed (the check runs the solutions itself,
 * under a foreign time zone, and hands its run over).
 *
 * @example
 * ```ts ignore
 * await keepAsReference(lesson, await runSuite(lesson, SOLUTIONS));
 * ```
 */
export async function keepAsReference(
  lesson: Lesson,
  result: SuiteResult,
  key?: string,
): Promise<void> {
  if (result.problem || !result.tests.every((t) => t.passed || t.skipped)) return;
  await storeResults(new Map([[key ?? await contentKey(lesson, SOLUTIONS), result]]));
}

/**
 * Grades one lesson of a submission.
 *
 * @example
 * ```ts ignore
 * const graded = await gradeLesson(catalog, lesson, target, DEFAULT_LIMITS, []);
 * ```
 */
export async function gradeLesson(
  catalog: Catalog,
  lesson: Lesson,
  target: Target,
  limits: Limits,
  escapingLinks: string[],
  sandbox?: Sandbox,
): Promise<GradedLesson> {
  sandbox ??= await detectSandbox();
  const reference = await referenceTests(lesson);
  const perTest = catalog.scoring.pointsPerTest * (lesson.weight ?? 1);
  const names = reference.tests.map((t) => t.name);
  const maxPoints = reference.tests.filter((t) => !t.skipped).length * perTest;
  const base = { lesson: lesson.id, title: lesson.title, maxPoints, sandbox: sandbox.kind };
  // The lesson folder itself may be the link (`lesson-03 → …`), or hold one (`lesson-03/x.ts → …`).
  const links = escapingLinks.filter((l) =>
    l.startsWith(`${lesson.id}/`) || l.startsWith(`${lesson.id} → `)
  );
  const hasFolder = await Deno.stat(`${target.dir}/${lesson.id}`).then(
    (i) => i.isDirectory,
    () => false,
  );
  const notRun = (message: string): GradedTest[] =>
    reference.tests.map((t) => ({
      name: t.name,
      status: "fail",
      points: 0,
      maxPoints: perTest,
      message,
      ms: 0,
    }));
  if (links.length) {
    const violations = links.map((l) =>
      `tried to read ${l.split(" → ")[1]} through a symlink: denied`
    );
    return {
      ...base,
      tests: notRun("not run: the lesson holds a symlink leading outside"),
      points: 0,
      violations,
      ms: 0,
    };
  }
  if (!hasFolder) {
    return {
      ...base,
      tests: notRun(`not submitted: no ${lesson.id}/ folder`),
      points: 0,
      problem: `no ${lesson.id}/ folder`,
      violations: [],
      ms: 0,
    };
  }
  const ownSolutions = target.dir.startsWith(SOLUTIONS.dir);
  const graded = { ...target, blockSolutions: !ownSolutions };
  const result = await runSuite(lesson, graded, {
    timeoutMs: limits.timeoutMs,
    memoryCapMb: limits.memoryMb,
    outputCapBytes: limits.outputBytes,
    extraFlags: gradedFlags(),
    wrap: launchIn(sandbox, lesson, graded, {
      memoryMb: limits.memoryMb,
      fileBytes: 4 * limits.outputBytes,
    }),
  });
  const violations = violationsOf(result, limits.timeoutMs, limits.memoryMb, limits.outputBytes);
  const foreign = foreignFiles(result, [
    `${target.dir}/`,
    ...(target.overlay ? [`${target.overlay.dir}/`] : []),
    `${ROOT}tests/`,
    `${ROOT}tools/program.ts`,
    `${ROOT}tools/grader/lockdown.ts`,
  ]);
  if (foreign.length) {
    // A file loaded as code shows its contents in the compiler's message: keep them out of the report.
    violations.push(
      ...foreign.map((path) => `tried to load ${path} from outside its folder: denied`),
    );
    result.problem &&= "could not run: it loaded a file from outside its folder (details withheld)";
    for (const t of result.tests) {
      t.message = t.passed ? t.message : "details withheld (see the violation)";
    }
  }
  const byName = new Map<string, typeof result.tests>();
  for (const t of result.tests) byName.set(t.name, [...(byName.get(t.name) ?? []), t]);
  const extra = [...byName.keys()].filter((n) => !names.includes(n));
  if (extra.length) {
    violations.push(
      `registered tests of its own (${extra.slice(0, 3).map((n) => `"${n}"`).join(", ")}): ignored`,
    );
  }
  if ([...byName.values()].some((list) => list.length > 1)) {
    violations.push("registered a course test twice: denied");
  }
  const missing = names.filter((n) => !byName.has(n));
  if (!result.problem && missing.length && !result.stopped) {
    violations.push(`${missing.length} tests never ran (the process ended early)`);
  }
  const tests: GradedTest[] = reference.tests.map((ref) => {
    const got = byName.get(ref.name)?.[0];
    if (ref.skipped || got?.skipped) {
      return { name: ref.name, status: "skip", points: 0, maxPoints: 0, message: "", ms: 0 };
    }
    const passed = got?.passed === true && !violations.length;
    return {
      name: ref.name,
      status: passed ? "pass" : "fail",
      points: passed ? perTest : 0,
      maxPoints: perTest,
      message: got ? got.message : result.problem ?? "never ran",
      ms: got?.ms ?? 0,
    };
  });
  const points = violations.length ? 0 : tests.reduce((n, t) => n + t.points, 0);
  return { ...base, tests, points, problem: result.problem, violations, ms: result.ms };
}

/**
 * Grades a submission (a folder or a zip) on the given lessons.
 *
 * @example
 * ```ts ignore
 * const grade = await gradeSubmission(catalog, "subs/ann.zip", catalog.lessons, DEFAULT_LIMITS, 2);
 * console.log(grade.points, "/", grade.maxPoints);
 * ```
 */
export async function gradeSubmission(
  catalog: Catalog,
  path: string,
  lessons: Lesson[],
  limits: Limits = DEFAULT_LIMITS,
  concurrency = CORES,
  sandbox?: Sandbox,
): Promise<Grade> {
  const box = sandbox ?? await detectSandbox();
  return await withScratch("grade", async (scratch) => {
    const submission = await openSubmission(path, scratch);
    const target: Target = { label: submission.name, dir: submission.dir };
    const graded = await mapPool(
      lessons,
      concurrency,
      (lesson) => gradeLesson(catalog, lesson, target, limits, submission.escapingLinks, box),
    );
    return {
      submission: submission.name,
      sandbox: box.description,
      courseVersion: catalog.version,
      gradedAt: new Date().toISOString(),
      lessons: graded,
      points: graded.reduce((n, l) => n + l.points, 0),
      maxPoints: graded.reduce((n, l) => n + l.maxPoints, 0),
    };
  });
}
