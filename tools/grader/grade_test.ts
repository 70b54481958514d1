/**
 * The grader on honest input: lesson 03's mistakes (each loses exactly the
 * tests the suite fails on it, never flagged as hostile), a syntax error,
 * unusable input, reports, the sandbox flags, Classroom. The check grades
 * every lesson's solution (full marks) and stubs (zero) itself; hostile
 * submissions are in corpus_test.ts.
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { findLesson, loadCatalog, ROOT } from "../catalog.ts";
import {
  DEFAULT_LIMITS,
  type GradedLesson,
  gradeSubmission,
  type Limits,
  referenceTests,
} from "./grading.ts";
import { jsonReport, junitReport } from "./report.ts";
import { applyEdits, loadMistakes } from "../mistakes.ts";
import { runSuite } from "../suite.ts";
import { SOLUTIONS } from "../targets.ts";
import { UsageError } from "../usage_error.ts";
import { BWRAP_VARIABLE } from "./sandbox.ts";

const catalog = await loadCatalog();
const lesson03 = findLesson(catalog, "3");
const solution03 = await Deno.readTextFile(`${ROOT}solutions/lesson-03/udp_local.ts`);
/** The default time limit (a busy machine must not turn a slow start into a time-out), less memory. */
const LIMITS: Limits = { ...DEFAULT_LIMITS, memoryMb: 200, outputBytes: 256 * 1024 };

/** Makes a submission folder with lesson-03/udp_local.ts = `source`. */
async function submission(
  source: string,
  extra: (dir: string) => Promise<void> = async () => {},
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "corpus-" });
  await Deno.mkdir(`${dir}/lesson-03`);
  await Deno.writeTextFile(`${dir}/lesson-03/udp_local.ts`, source);
  await extra(dir);
  return dir;
}

async function grade03(dir: string): Promise<GradedLesson> {
  try {
    // The default limits: a mistake that makes tests wait out their timeouts must still finish.
    return (await gradeSubmission(catalog, dir, [lesson03], DEFAULT_LIMITS)).lessons[0];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Three of lesson 03's mistakes, each failing in its own way (a server that truncates, a client
 * that leaks its socket, a `done` that rejects). The check grades every solution and stub with the
 * grader, and every known mistake the grader's way in batches (tools/check.ts).
 */
const SAMPLED = ["small-receive-buffer", "client-leaks-socket", "done-rejects-after-close"];

Deno.test("grade: a lesson 03 mistake loses exactly the tests the plain suite fails on it", async () => {
  const mistakes = (await loadMistakes(lesson03)).filter((m) => SAMPLED.includes(m.id));
  assertEquals(mistakes.map((m) => m.id).sort(), [...SAMPLED].sort());
  await Promise.all(mistakes.map(async (mistake) => {
    const variant = applyEdits(solution03, mistake.edits, mistake.id);
    const dir = await submission(variant);
    const suite = await runSuite(lesson03, { label: mistake.id, dir });
    const failing = suite.tests.filter((t) => !t.passed).map((t) => t.name).sort();
    const graded = await grade03(dir);
    assertEquals(
      graded.tests.filter((t) => t.status === "fail").map((t) => t.name).sort(),
      failing,
      mistake.id,
    );
    assertEquals(graded.violations, [], mistake.id);
    assertEquals(graded.points, graded.maxPoints - failing.length, mistake.id);
    assert(failing.length > 0, mistake.id);
  }));
});

Deno.test("grade: a syntax error in one lesson leaves the other lessons graded", async () => {
  const dir = await submission("export function replyFor((");
  await Deno.mkdir(`${dir}/lesson-02`);
  await Deno.copyFile(`${ROOT}solutions/lesson-02/addresses.ts`, `${dir}/lesson-02/addresses.ts`)
    .catch(() => {});
  try {
    const grade = await gradeSubmission(catalog, dir, [findLesson(catalog, "2"), lesson03], LIMITS);
    const [two, three] = grade.lessons;
    assertEquals(two.points, two.maxPoints);
    assertEquals(three.points, 0);
    assertMatch(three.problem ?? "", /lesson-03\/udp_local\.ts:1:\d+ {2}syntax error/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("grade: unusable input is a one-line usage error", async () => {
  const empty = await Deno.makeTempDir();
  const file = await Deno.makeTempFile({ suffix: ".txt" });
  try {
    for (
      const [path, says] of [
        ["/nonexistent/ann", "submission not found"],
        [empty, "holds no lesson folders"],
        [file, "must be a folder or a .zip"],
      ]
    ) {
      const error = await gradeSubmission(catalog, path, [lesson03], LIMITS).then(
        () => undefined,
        (e) => e,
      );
      assert(error instanceof UsageError, `${path}: ${error}`);
      assertStringIncludes(error.message, says);
      assertEquals(error.message.includes("\n"), false);
    }
  } finally {
    await Deno.remove(empty);
    await Deno.remove(file);
  }
});

Deno.test("grade: reports carry the course version and per-test points", async () => {
  const grade = await gradeSubmission(catalog, `${ROOT}solutions`, [lesson03], LIMITS);
  const json = jsonReport(grade) as {
    courseVersion: string;
    tests: { status: string; points: number }[];
  };
  assertEquals(json.courseVersion, catalog.version);
  assert(json.tests.every((t) => t.status === "pass" && t.points === 1));
  assertStringIncludes(
    junitReport(grade),
    `<testsuites name="solutions (course v${catalog.version})"`,
  );
  const reference = await runSuite(lesson03, SOLUTIONS);
  assertEquals(json.tests.length, reference.tests.length);
});

Deno.test("classroom: one grader step per lesson worth its points, then the reporter", async () => {
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "classroom"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const yaml = new TextDecoder().decode(run.stdout);
  assertEquals(run.code, 0);
  for (const lesson of catalog.lessons) {
    const reference = await referenceTests(lesson);
    const points = reference.tests.filter((t) => !t.skipped).length *
      catalog.scoring.pointsPerTest *
      (lesson.weight ?? 1);
    assertStringIncludes(
      yaml,
      `command: deno task test ${lesson.id}\n          timeout: 5\n          max-score: ${points}`,
    );
  }
  assertStringIncludes(yaml, "classroom-resources/autograding-grading-reporter@v1");
  assertStringIncludes(
    yaml,
    `runners: ${catalog.lessons.map((l) => l.id.replace("-", "")).join(",")}`,
  );
});

Deno.test("grade --require-sandbox: without the OS sandbox, one line and exit 2, nothing graded", async () => {
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "grade", "solutions", "--lessons", "3", "--require-sandbox"],
    cwd: ROOT,
    env: { NO_COLOR: "1", [BWRAP_VARIABLE]: "/nonexistent/bwrap" },
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(run.stderr);
  assertEquals(run.code, 2, stderr);
  assertEquals(
    stderr,
    "grade: no OS sandbox, so not grading (--require-sandbox): Deno permissions only " +
      "(bubblewrap is not installed)\n",
  );
  assertEquals(run.stdout.length, 0);
});
