/**
 * The learner runner's output as a learner reads it: failing suites (stubs
 * and known mistakes with long JSON, hex and escapes) stay within 80
 * columns, and a leaked timer or socket reads as one teaching line, said in
 * full once and referred back to after.
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { findLesson, loadCatalog, ROOT } from "./catalog.ts";
import { applyEdits, loadMistakes } from "./mistakes.ts";
import { condenseLeaks, LeakNotes } from "./leaks.ts";
import { explainFailure, WIDTH, wrap } from "./report.ts";
import { runTask } from "./task_process.ts";

/** A submission folder laid out like exercises/: the lesson's solution, `edit` applied to `file`. */
async function submission(
  lesson: string,
  file: string,
  edit: (source: string) => string,
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "report-test-" });
  await Deno.mkdir(`${dir}/${lesson}`);
  for await (const entry of Deno.readDir(`${ROOT}solutions/${lesson}`)) {
    if (!entry.isFile) continue;
    const source = await Deno.readTextFile(`${ROOT}solutions/${lesson}/${entry.name}`);
    await Deno.writeTextFile(
      `${dir}/${lesson}/${entry.name}`,
      entry.name === file ? edit(source) : source,
    );
  }
  return dir;
}

/** A known mistake of `lesson` as a submission folder. */
async function mistaken(lesson: string, id: string): Promise<string> {
  const mistake = (await loadMistakes(findLesson(await loadCatalog(), lesson)))
    .find((m) => m.id === id);
  if (!mistake) throw new Error(`${lesson} has no known mistake ${id}`);
  return await submission(lesson, mistake.file, (s) => applyEdits(s, mistake.edits, id));
}

function overlong(text: string): string[] {
  return text.split("\n").filter((line) => [...line].length > WIDTH);
}

Deno.test("report: failing suites (long JSON, hex, escapes, transcripts) stay within 80 columns", async () => {
  // Each of these printed lines of 85 to 175 columns before values and transcripts were wrapped.
  const runs: [string, string | undefined][] = [
    ["lesson-15", "pretty-printed-json"],
    ["lesson-10", "eof-returns-short"],
    ["lesson-07", "counts-duplicates"],
  ];
  for (const [lesson, id] of runs) {
    const dir = id ? await mistaken(lesson, id) : undefined;
    try {
      const run = await runTask([
        "test",
        lesson,
        "--no-check",
        ...(dir ? ["--submission", dir] : []),
      ]);
      assertEquals(run.code, 1, `${lesson} ${id ?? "stub"} should fail:\n${run.out}${run.err}`);
      assertEquals(overlong(run.out), [], `${lesson} ${id ?? "stub"}`);
    } finally {
      if (dir) await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("report: a leaked timer is one line, in full once, then referred back to", async () => {
  const dir = await submission("lesson-01", "greeter.ts", (source) => {
    const connect = "const conn = await Deno.connect(";
    assert(source.includes(connect));
    return source.replace(connect, `setTimeout(() => {}, 60_000);\n  ${connect}`);
  });
  try {
    const run = await runTask(["test", "lesson-01", "--no-check", "--submission", dir]);
    assertEquals(run.code, 1, run.out + run.err);
    const full = "left a timer running after the test ended (a setTimeout never cleared)";
    assertEquals(run.out.split(full).length - 1, 1, run.out);
    assert(run.out.split("as above").length - 1 >= 2, run.out);
    assertStringIncludes(run.out, "fix: clear every timer with clearTimeout");
    assertStringIncludes(run.out, "#denojson-tasks-imports-unstable-features");
    assert(!run.out.includes("Leaks detected"), run.out);
    assertEquals(overlong(run.out), []);

    const verbose = await runTask([
      "test",
      "lesson-01",
      "--no-check",
      "--submission",
      dir,
      "--verbose",
    ]);
    assertStringIncludes(verbose.out, "A timer was started in this test, but never completed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("leaks: sockets, pending receives and accepts, each named in one line", () => {
  const dump = (...items: string[]) =>
    "Leaks detected:\n" + items.map((i) => `  - ${i}`).join("\n") +
    "\nTo get more details where leaks occurred, run again with the --trace-leaks flag.";
  assertEquals(
    condenseLeaks(dump(
      "A UDP socket was opened during the test, but not closed during the test.",
      "An async operation to receive a datagram message via UDP was started in this test, but never completed.",
    ))?.line,
    "left a UDP socket open and a receive() still waiting after the test ended",
  );
  assertEquals(
    condenseLeaks(dump(
      "A TCP listener was opened during the test, but not closed during the test.",
      "An async operation to accept a TCP stream was started in this test, but never completed.",
    ))?.line,
    "left a TCP listener open and an accept() still waiting after the test ended",
  );
  assertEquals(
    condenseLeaks(dump(
      "2 timers were started in this test, but never completed.",
      "An interval was started in this test, but never completed.",
    ))?.line,
    "left 2 timers running and an interval running after the test ended",
  );
  assertEquals(
    condenseLeaks(dump("A TCP connection was opened/accepted during the test, but not closed."))
      ?.line,
    "left a TCP connection open after the test ended",
  );
  assertEquals(condenseLeaks("expected 3, got 4"), undefined);

  const notes = new LeakNotes("lesson-03");
  const udp = dump("A UDP socket was opened during the test, but not closed during the test.");
  assertEquals(notes.render(udp)?.length, 3);
  assertEquals(notes.render(udp), ["left a UDP socket open after the test ended, as above"]);
  assertEquals(notes.render("not a leak"), undefined);
});

Deno.test("leaks: the section they cite exists in lesson 01's README", async () => {
  const readme = await Deno.readTextFile(`${ROOT}lessons/lesson-01/README.md`);
  assert(readme.includes("\n### deno.json: tasks, imports, unstable features\n"));
});

Deno.test("wrap: values continue under the value, long links move left, carets past the edge", () => {
  const got = wrap(`      got:      {${'"key":1,'.repeat(20)}}`).split("\n");
  assert(got.length > 1);
  assert(got.slice(1).every((l) => l.startsWith(" ".repeat(16)) && l[16] !== " "), got.join("\n"));
  assertEquals(overlong(got.join("\n")), []);
  const link = "lessons/lesson-01/README.md#permissions-the-network-is-closed-until-you-open-it";
  assertEquals(overlong(wrap(`      reread: ${link} ("Permissions")`)), []);
  assertStringIncludes(wrap(`      reread: ${link}`), link);
  assertEquals(overlong(wrap(" ".repeat(90) + "^ first difference at byte 90")), []);
  assertEquals(overlong(wrap(`${" ".repeat(78)}+ 1 ms ${"x".repeat(200)}`)), []);
});

Deno.test("explainFailure: a raw error is explained, also after the place an uncaught one came from", () => {
  for (
    const message of [
      "BadResource: Bad resource ID",
      "exercises/lesson-15/ndjson.ts:141:16  BadResource: The stream's underlying resource was closed",
      "not run: exercises/lesson-13/tcp_deadlock.ts:9:1  BadResource: Bad resource ID",
    ]
  ) {
    const why = explainFailure(message, "lesson-15");
    assert(why?.startsWith("why: The socket was already closed"), `${message}: ${why}`);
  }
  assertEquals(explainFailure("LessonFailure: the echo differs", "lesson-15"), undefined);
});
