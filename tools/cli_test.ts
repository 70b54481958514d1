/**
 * The course's commands driven as a learner would: spawned processes, with
 * submissions made in temporary folders.
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { ROOT } from "./catalog.ts";
import { runTask } from "./task_process.ts";

const task = (...args: string[]) => runTask(args);

/** A submission folder holding lesson 03's solution, with `edit` applied to it. */
async function submission(edit: (source: string) => string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "submission-" });
  await Deno.mkdir(`${dir}/lesson-03`);
  const source = await Deno.readTextFile(`${ROOT}solutions/lesson-03/udp_local.ts`);
  await Deno.writeTextFile(`${dir}/lesson-03/udp_local.ts`, edit(source));
  return dir;
}

Deno.test("test: an unknown lesson gets one line listing the valid IDs, and exit code 2", async () => {
  const { code, out, err } = await task("test", "lesson-99");
  assertEquals(code, 2);
  assertEquals(out, "");
  assertEquals(err.trim().split("\n").length, 1, err);
  assertStringIncludes(err, "valid lessons are lesson-01, lesson-02, lesson-03");
});

Deno.test("test: a missing submission folder is one line and exit code 2", async () => {
  const { code, err } = await task("test", "3", "--submission", "/nonexistent/submission");
  assertEquals(code, 2);
  assertEquals(err.trim(), "test: submission folder not found: /nonexistent/submission");
});

Deno.test("test: --solutions passes lesson 03 and exits 0", async () => {
  const { code, out } = await task("test", "03", "--solutions");
  assertEquals(code, 0, out);
  assertMatch(out, /^test: \d+ passed, 0 failed$/m);
});

Deno.test("test: a syntax error is reported with file and line, not a stack trace", async () => {
  const dir = await submission((s) =>
    s.replace("export function replyFor(", "export function replyFor((")
  );
  try {
    const { code, out } = await task("test", "3", "--submission", dir);
    assertEquals(code, 1);
    assertMatch(out, /lesson-03\/udp_local\.ts:\d+:\d+ {2}syntax error: /);
    assert(!/^\s+at /m.test(out), out);
    assert(out.split("\n").length < 12, out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("test: a type error is reported with the compiler's message, file and line", async () => {
  const dir = await submission((s) =>
    s.replace("return `Your data was ${byteCount} bytes long`;", "return byteCount;")
  );
  try {
    const { code, out } = await task("test", "3", "--submission", dir);
    assertEquals(code, 1);
    assertMatch(
      out,
      /lesson-03\/udp_local\.ts:\d+:\d+ {2}TS2322: Type 'number' is not assignable to type 'string'/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("test: a failing test shows the wire, the expectation and the section to reread", async () => {
  const dir = await submission((s) =>
    s.replace("replyFor(data.length)", "replyFor(decoder.decode(data).length)")
  );
  try {
    // The report is the subject here; the test above covers the type check (3 s of CPU time in a
    // new folder each time).
    const { code, out } = await task("test", "3", "--no-check", "--submission", dir);
    assertEquals(code, 1);
    assertStringIncludes(out, "✗ server: counts bytes on the wire, not characters");
    assertStringIncludes(out, 'expected: "Your data was 18 bytes long" (27 bytes)');
    assertStringIncludes(out, 'got:      "Your data was 13 bytes long" (27 bytes)');
    assertStringIncludes(out, "reread: lessons/lesson-03/README.md#counting-bytes-not-characters");
    assertMatch(out, /^test: \d+ passed, [1-9]\d* failed$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run: a port out of range is one line and exit code 2", async () => {
  const { code, err } = await task("run", "3", "server", "-p", "70000");
  assertEquals(code, 2);
  assertEquals(err.trim(), 'run: port must be a whole number from 0 to 65535, not "70000"');
});
