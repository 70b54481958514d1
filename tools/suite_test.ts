import { assert, assertEquals } from "@std/assert";
import { findLesson, loadCatalog, ROOT } from "./catalog.ts";
import {
  checksTypes,
  explainCrash,
  KEPT_OUTPUT,
  keptOutput,
  planSharedRuns,
  runSuite,
  stoppedModules,
  type SuiteResult,
} from "./suite.ts";
import { CANCELLED, type TestResult } from "./junit.ts";
import { untouchedStubs } from "./reset.ts";
import { foreignFiles } from "./grader/grading.ts";
import { EXERCISES, SOLUTIONS } from "./targets.ts";

Deno.test("planSharedRuns: each lesson once, with lessons of the same hosts only, at most N processes per group", async () => {
  const { lessons } = await loadCatalog();
  for (const processes of [1, 2, 4, 100]) {
    const runs = planSharedRuns(lessons, processes);
    assertEquals(runs.flat().map((l) => l.id).sort(), lessons.map((l) => l.id));
    for (const run of runs) {
      const hosts = new Set(run.map((l) => [...l.net].sort().join(",")));
      assertEquals(hosts.size, 1, `one process mixes hosts: ${run.map((l) => l.id)}`);
    }
    const perGroup = new Map<string, number>();
    for (const run of runs) {
      const key = [...run[0].net].sort().join(",");
      perGroup.set(key, (perGroup.get(key) ?? 0) + 1);
    }
    for (const [key, count] of perGroup) {
      const size = lessons.filter((l) => [...l.net].sort().join(",") === key).length;
      assertEquals(count, Math.min(processes, size), `${key} with ${processes} processes`);
    }
  }
});

Deno.test("planSharedRuns: zero processes still plans one per group", () => {
  const lessons = [{ id: "a", net: ["127.0.0.1"] }, { id: "b", net: ["127.0.0.1"] }];
  assertEquals(planSharedRuns(lessons, 0), [lessons]);
});

Deno.test("explainCrash: an error thrown at a module's top level names its file, line and message", () => {
  const stderr = "./tests/lesson-09/client_test.ts (uncaught error)\n" +
    "error: (in promise) Error: top-level boom\n" +
    'throw new Error("top-level boom");\n      ^\n' +
    `    at file://${ROOT}exercises/lesson-09/protocol.ts:143:7\n` +
    "This error was not caught from a test and caused the test runner to fail on the referenced module.\n";
  assertEquals(
    explainCrash(stderr),
    "exercises/lesson-09/protocol.ts:143:7  Error: top-level boom",
  );
});

Deno.test("runSuite: one isolate for a lesson's modules gives what an isolate each gives, after an uncaught error too", async () => {
  // Lesson 16: two test modules, of which only the second loads line_server.ts.
  const lesson = findLesson(await loadCatalog(), "16");
  const dir = await Deno.makeTempDir({ prefix: "suite-test-" });
  try {
    await Deno.mkdir(`${dir}/lesson-16`);
    for await (const entry of Deno.readDir(`${ROOT}solutions/lesson-16`)) {
      await Deno.copyFile(
        `${ROOT}solutions/lesson-16/${entry.name}`,
        `${dir}/lesson-16/${entry.name}`,
      );
    }
    // A timer left by line_server.ts's top level throws during the first test to run after it is
    // loaded: in a shared isolate, the first test of line_reader_test.ts (which never loads it), and
    // that stops every module after it, unless the run falls back to an isolate per module.
    await Deno.writeTextFile(
      `${dir}/lesson-16/line_server.ts`,
      'setTimeout(() => { throw new Error("late boom"); }, 0);\n',
      { append: true },
    );
    const target = { label: "submission", dir };
    const shown = (r: SuiteResult) => r.tests.map((t) => `${t.file} ${t.name}: ${t.passed}`);
    const shared = await runSuite(lesson, target);
    const apart = await runSuite(lesson, target, { oneIsolate: false });
    assertEquals(shown(shared), shown(apart));
    const reader = shared.tests.filter((t) => t.file.endsWith("line_reader_test.ts"));
    assert(reader.length && reader.every((t) => t.passed), shown(shared).join("\n"));
    // A module the error stopped before its first test is not in Deno's JUnit report at all: it
    // must still show as failed, not leave the run looking all passed.
    const server = shared.tests.filter((t) => t.file.endsWith("line_server_test.ts"));
    assert(
      server.some((t) => !t.passed && t.message.includes("late boom")),
      shown(shared).join("\n"),
    );

    const clean = await runSuite(lesson, SOLUTIONS);
    assertEquals(clean.tests.filter((t) => !t.passed), []);
    assertEquals(
      new Set(clean.tests.map((t) => t.file)).size,
      (await Array.fromAsync(Deno.readDir(`${ROOT}tests/lesson-16`)))
        .filter((e) => e.name.endsWith("_test.ts")).length,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checksTypes: a a learner's untouched stubs need no type check; anything else does", async () => {
  const catalog = await loadCatalog();
  const untouched = await untouchedStubs(catalog.lessons);
  const stub = catalog.lessons.find((l) => untouched.has(l.id));
  if (!stub) {
    throw new Error(
      "no lesson's exercises are the committed stubs here (deno task reset restores them)",
    );
  }
  assertEquals(await checksTypes(stub, EXERCISES), false);
  assertEquals(await checksTypes(stub, SOLUTIONS), true);
  const overlay = {
    ...EXERCISES,
    overlay: { dir: "/tmp/x", files: [`${stub.id}/${stub.files[0]}`] },
  };
  assertEquals(await checksTypes(stub, overlay), true);
  const edited = catalog.lessons.find((l) => !untouched.has(l.id));
  if (edited) assertEquals(await checksTypes(edited, EXERCISES), true);
});

Deno.test("keptOutput: a stream longer than what is kept ends at a whole line, never inside a path", () => {
  const line = "    at fail (file:///course/tests/harness/failure.ts:96:5)\n";
  const filler = "x".repeat(KEPT_OUTPUT - 30) + "\n";
  // The runner keeps the first KEPT_OUTPUT bytes: here, 29 bytes into the line, inside its path.
  const first = new TextEncoder().encode(filler + line.repeat(3)).subarray(0, KEPT_OUTPUT);
  assertEquals(keptOutput(first, false), filler);
  const result = { lesson: "x", target: "t", tests: [], ms: 0, output: keptOutput(first, false) };
  assertEquals(foreignFiles(result, ["/course/tests/"]), []);
  // Kept as cut, the path is a file outside the allowed ones: what the grader calls cheating.
  const cut = { ...result, output: new TextDecoder().decode(first) };
  assertEquals(foreignFiles(cut, ["/course/tests/"]), ["/course/t"]);
  assertEquals(keptOutput(new TextEncoder().encode("no newline"), true), "no newline");
});

Deno.test("stoppedModules: an uncaught error that cancelled a module's last tests is shown, with where it came from", () => {
  const stderr = "./tests/lesson-15/ndjson_test.ts (uncaught error)\n" +
    "error: (in promise) BadResource: The stream's underlying resource was closed or consumed\n" +
    "        writer.write(encodeMessage(await handler(message)));\n" +
    "    at handle (file:///x/exercises/lesson-15/ndjson.ts:141:9)\n\n" +
    "ERRORS\n\n./tests/lesson-15/ndjson_test.ts (uncaught error)\n";
  const test = (name: string, passed: boolean, message = ""): TestResult => ({
    file: "tests/lesson-15/ndjson_test.ts",
    name,
    passed,
    skipped: false,
    message,
    detail: "",
    ms: 1,
  });
  const tests = [test("a", true), test("b", false, CANCELLED), test("c", false, CANCELLED)];
  const [stopped, ...more] = stoppedModules(stderr, tests);
  assertEquals(more, []);
  assertEquals(stopped.name, "ndjson_test.ts: an uncaught error stopped its last 2 tests");
  assert(
    /^\/x\/exercises\/lesson-15\/ndjson\.ts:141:9 {2}BadResource: /.test(stopped.message),
    stopped.message,
  );
  assert(stopped.message.includes("a promise nobody awaited"), stopped.message);
  // A failed test of the module's own shows the error already: nothing is added.
  assertEquals(stoppedModules(stderr, [test("a", false, "boom"), test("b", false, CANCELLED)]), []);
});

Deno.test("runSuite: a suite stopped for time names the test that never gave the thread back", async () => {
  const lesson = findLesson(await loadCatalog(), "lesson-03")!;
  const dir = await Deno.makeTempDir({ prefix: "hang-" });
  try {
    const path = `${dir}/hang_test.ts`;
    await Deno.writeTextFile(
      path,
      'Deno.test("first", () => {});\n' +
        // Blocks the thread for good, as a loop that never awaits does, without spending CPU time.
        'Deno.test("second blocks", () => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); });\n' +
        'Deno.test("third", () => {});\n',
    );
    const result = await runSuite(lesson, SOLUTIONS, {
      paths: [path],
      // The test's own limit counts from its start, however long the process took to get there.
      testTimeoutMs: 1000,
      progress: true,
    });
    assertEquals(result.stopped, "time");
    assert(result.problem?.startsWith("a test did not finish within 1 s"), result.problem);
    assert(result.problem?.includes('the test "second blocks" never finished'), result.problem);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
