/**
 * The grader against a corpus of submissions: the solutions (full marks),
 * the stubs (zero), each of lesson 03's known mistakes (loses exactly the
 * tests the suite fails on it), hostile submissions covering every safety
 * rule (zero for the lesson, one line naming what was tried), and unusable
 * input. Hostile submissions are lesson 03's solution plus one hostile
 * snippet, built in a temporary folder from the table below.
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
import { jsonReport, junitReport, markdownReport } from "./report.ts";
import { applyEdits, loadMistakes } from "../mistakes.ts";
import { runSuite } from "../suite.ts";
import { SOLUTIONS } from "../targets.ts";
import { UsageError } from "../usage_error.ts";

const catalog = await loadCatalog();
const lesson03 = findLesson(catalog, "3");
const solution03 = await Deno.readTextFile(`${ROOT}solutions/lesson-03/udp_local.ts`);
/** Tight limits for the hostile corpus (lesson 03 only), so runaway code is stopped quickly. */
const LIMITS: Limits = { timeoutMs: 3000, memoryMb: 200, outputBytes: 256 * 1024 };

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
    return (await gradeSubmission(catalog, dir, [lesson03], LIMITS)).lessons[0];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Hostile submissions: what they add to a passing solution, and what the report must say. */
const HOSTILE: {
  name: string;
  code: string;
  says?: RegExp;
  setup?: (dir: string) => Promise<void>;
}[] = [
  {
    name: "prints fake results",
    code: `console.log("ok | 11 passed | 0 failed");
      Deno.stdout.writeSync(new TextEncoder().encode('<testcase name="x"></testcase>\\nok | 11 passed\\n'));`,
    // no `says`: printing cannot change a score; it is graded on its (passing) tests alone
  },
  { name: "exits early", code: "Deno.exit(0);", says: /never ran|ran no test|exited/ },
  {
    name: "replaces the test API",
    code: "(Deno as unknown as { test: unknown }).test = () => {};",
    says: /tried to patch the test runtime/,
  },
  {
    name: "patches a built-in the assertions use",
    code: "(Promise as unknown as { race: unknown }).race = (ps: Promise<unknown>[]) => ps[0];",
    says: /tried to patch the test runtime/,
  },
  {
    name: "registers a fake passing copy of a course test",
    code: 'Deno.test("server: counts bytes on the wire, not characters", () => {});',
    says: /registered a course test twice/,
  },
  {
    name: "loops forever",
    code: "export function _spin() {} while (Date.now() > 0) { /* forever */ }",
    says: /timed out after 3 s/,
  },
  {
    name: "exhausts memory",
    code: "const hog: number[][] = []; while (true) hog.push(new Array(1_000_000).fill(7));",
    says: /memory/,
  },
  {
    name: "floods the output",
    code: "const junk = new Uint8Array(65536).fill(120); " +
      "for (let i = 0; i < 300; i++) { Deno.stderr.writeSync(junk); console.log(junk); }",
    // no `says`: deno test captures what code under test prints; the output cap guards the rest
  },
  {
    name: "spawns a process",
    code: 'new Deno.Command("sh", { args: ["-c", "echo pwned"] }).outputSync();',
    says: /tried to run sh: denied/,
  },
  {
    name: "reads a file outside its folder",
    code: 'Deno.readTextFileSync("/etc/passwd");',
    says: /tried to read \/etc\/passwd: denied/,
  },
  {
    name: "overwrites the course's tests",
    code: `Deno.writeTextFileSync(${
      JSON.stringify(`${ROOT}tests/lesson-03/udp_local_test.ts`)
    }, "");`,
    says: /tried to write .*udp_local_test\.ts: denied/,
  },
  {
    name: "reads the environment",
    code: 'Deno.env.get("HOME");',
    says: /tried to read the environment variable HOME: denied/,
  },
  {
    name: "queries the system",
    code: "Deno.hostname();",
    says: /tried to query the system for hostname: denied/,
  },
  {
    name: "talks to a non-allowed address",
    code: 'await Deno.connect({ hostname: "127.0.0.3", port: 9 }).catch((e) => { throw e; });',
    says: /tried to reach 127\.0\.0\.3:9: denied/,
  },
  {
    name: "imports the reference solution",
    code: `export * from ${JSON.stringify(`file://${ROOT}solutions/lesson-03/udp_local.ts`)};`,
    says: /tried to import the reference solution: denied/,
  },
  {
    name: "reads through a symlink",
    code: "",
    setup: (dir) => Deno.symlink("/etc/passwd", `${dir}/lesson-03/notes.txt`),
    says: /tried to read \/etc\/passwd through a symlink: denied/,
  },
];

Deno.test("grade: the solutions get full marks, the stubs zero, on every lesson", async () => {
  const full = await gradeSubmission(catalog, `${ROOT}solutions`, catalog.lessons, DEFAULT_LIMITS);
  assertEquals(full.points, full.maxPoints, markdownReport(full));
  assert(full.maxPoints > 0);
  const none = await gradeSubmission(catalog, `${ROOT}exercises`, catalog.lessons, DEFAULT_LIMITS);
  assertEquals(none.points, 0, markdownReport(none));
  assertEquals(none.maxPoints, full.maxPoints);
  for (const l of none.lessons) assertEquals(l.violations, [], l.lesson);
});

Deno.test("grade: each lesson 03 mistake loses exactly the tests the suite fails on it", async () => {
  for (const mistake of await loadMistakes(lesson03)) {
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
    assertEquals(graded.points, graded.maxPoints - failing.length, mistake.id);
    assert(failing.length > 0, mistake.id);
  }
});

for (const hostile of HOSTILE) {
  const verdict = hostile.says ? "earns nothing and is named" : "gains nothing by it";
  Deno.test(`grade: a hostile submission that ${hostile.name} ${verdict}`, async () => {
    const source = hostile.name === "reads through a symlink"
      ? solution03
      : `${hostile.code}\n${solution03}`;
    const graded = await grade03(await submission(source, hostile.setup));
    if (!hostile.says) {
      // Printing cannot change a score: the honest tests still decide it.
      assertEquals(graded.violations, []);
      assertEquals(graded.points, graded.maxPoints);
      return;
    }
    assertEquals(graded.points, 0, JSON.stringify(graded.violations));
    const said = [...graded.violations, graded.problem ?? ""].join("\n");
    assertMatch(said, hostile.says);
  });
}

Deno.test("grade: a submission that loads a file from outside its folder as code earns nothing, and the file's text stays out of the report", async () => {
  const secret = await Deno.makeTempFile({ suffix: ".txt" });
  await Deno.writeTextFile(secret, "TOP SECRET launch codes\n");
  try {
    const graded = await grade03(
      await submission(`import ${JSON.stringify(`file://${secret}`)};\n${solution03}`),
    );
    assertEquals(graded.points, 0);
    assertStringIncludes(
      graded.violations.join("\n"),
      `tried to load ${secret} from outside its folder: denied`,
    );
    const report = JSON.stringify(graded);
    assert(!report.includes("SECRET"), report);
  } finally {
    await Deno.remove(secret);
  }
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
