/**
 * The learner's commands driven as a learner would: spawned processes in a
 * temporary clone of the course (trimmed to lessons 01–03 to stay fast):
 * a fresh clone, one lesson solved, a stub with a syntax error, unknown
 * lessons, hints one level at a time, a reset that keeps a backup, and the
 * watch mode re-running after a file is saved.
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { ROOT } from "./catalog.ts";
import { runTask } from "./task_process.ts";
import { lockFolder } from "./scratch.ts";

const decoder = new TextDecoder();

/** Runs git in `dir`; fails with what git said. */
async function git(dir: string, ...args: string[]): Promise<void> {
  const run = await new Deno.Command("git", { args, cwd: dir, stdout: "null", stderr: "piped" })
    .output();
  assert(run.success, `git ${args.join(" ")}: ${decoder.decode(run.stderr)}`);
}

/**
 * The clone the tests share, made by the first. Deno keeps type-check
 * results by path, so a clone of its own per test type-checked the same
 * lesson files again in each (about 1.4 s of CPU time a check).
 */
let shared: string | undefined;

/** Where the clones live: under the working copy's ignored `.course/`. */
const CLONES = `${ROOT}.course/learner-clones`;

/**
 * A folder for the shared clone that stays the same from one check to the
 * next (slot 0, or the next free one while another check runs), so that
 * Deno's type checks of its files, kept by path, carry over: in a new folder
 * each check type-checked the solved lesson again (about 2.5 s of wall time,
 * 3.6 s of CPU time, measured). A slot is held by its lock
 * ({@linkcode lockFolder}) until the test process ends, however it ends;
 * with every slot taken, a temporary folder. Claimed when the module loads:
 * the lock file stays open across the tests, and a file a test opened and
 * left open would count as a leak.
 */
/** The lock of this process's slot, open until the process ends. */
let slotLock: Deno.FsFile | undefined;

async function claimSlot(): Promise<string> {
  await Deno.mkdir(CLONES, { recursive: true });
  for (let slot = 0; slot < 4; slot++) {
    const dir = `${CLONES}/${slot}`;
    // Until 2026-12-01 a slot was held by a lock folder of the same name, with no owner to ask.
    const before = await Deno.stat(`${dir}.lock`).catch(() => undefined);
    if (before?.isDirectory) await Deno.remove(`${dir}.lock`).catch(() => {});
    slotLock = await lockFolder(dir);
    if (slotLock) return dir;
  }
  const dir = await Deno.makeTempDir({ prefix: "course-clone-" });
  // Removed when the test process ends (left in place if something still writes into it).
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // a process a failed test left behind still has it open
    }
  });
  return dir;
}

/** This test process's clone folder. */
const slot = await claimSlot();

/**
 * The course's committed state, as a fresh clone has it, with its catalog
 * trimmed to lessons 01–03: the shared clone, with every change the last
 * test (or the last check) made undone (edits, new files, `.course/`).
 */
async function cloneCourse(): Promise<string> {
  if (!shared) {
    const dir = slot;
    const kept = await Deno.stat(`${dir}/.git`).then(() => true, () => false);
    if (kept) {
      await git(dir, "fetch", "-q", ROOT, "HEAD");
      await git(dir, "reset", "-q", "--hard", "FETCH_HEAD");
    } else {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      await git(ROOT, "clone", "-q", ROOT, dir);
    }
    shared = dir;
  }
  const dir = shared;
  await git(dir, "checkout", "-q", "--", ".");
  await git(dir, "clean", "-qfdx");
  const catalog = JSON.parse(await Deno.readTextFile(`${dir}/tools/course.json`));
  catalog.lessons = catalog.lessons.filter((l: { id: string }) =>
    ["lesson-01", "lesson-02", "lesson-03"].includes(l.id)
  );
  await Deno.writeTextFile(`${dir}/tools/course.json`, JSON.stringify(catalog, null, 2));
  return dir;
}

const task = (dir: string, ...args: string[]) => runTask(args, dir);

async function solve(dir: string, lesson: string, file: string): Promise<void> {
  await Deno.copyFile(`${dir}/solutions/${lesson}/${file}`, `${dir}/exercises/${lesson}/${file}`);
}

Deno.test("course: a fresh clone, then one lesson solved, then a syntax error", async () => {
  const dir = await cloneCourse();
  const fresh = await task(dir, "course");
  assertEquals(fresh.code, 0, fresh.err);
  assertMatch(fresh.out, /01 {2}Clients, servers and bytes +not started/);
  assertMatch(fresh.out, /03 {2}A first UDP server and client +not started/);
  assertStringIncludes(fresh.out, "Next: lesson-01 · Clients, servers and bytes");
  assertStringIncludes(fresh.out, "test  deno task test lesson-01");
  assertStringIncludes((await task(dir, "course")).out, "(3 of 3 lessons from the cache)");

  await solve(dir, "lesson-03", "udp_local.ts");
  const solved = await task(dir, "course");
  assertMatch(solved.out, /03 {2}A first UDP server and client +✓ done \(\d+ tests\)/);
  assertStringIncludes(solved.out, "Progress: 1 of 3 lessons done");
  assertStringIncludes(solved.out, "(2 of 3 lessons from the cache)");

  await Deno.writeTextFile(
    `${dir}/exercises/lesson-02/addresses.ts`,
    "export function parseHostPort(( {\n",
  );
  const broken = await task(dir, "course");
  assertMatch(broken.out, /02 {2}Addresses and port numbers +does not compile/);
  const test = await task(dir, "test", "2");
  assertEquals(test.code, 1);
  assertMatch(test.out, /exercises\/lesson-02\/addresses\.ts:1:\d+ {2}syntax error/);
});

Deno.test("hint, reset, watch: an unknown lesson is one line and exit code 2", async () => {
  for (const command of ["hint", "reset", "watch", "test", "run"]) {
    const { code, err } = await task(
      ROOT,
      command,
      "lesson-42",
      ...(command === "run" ? ["server"] : []),
    );
    assertEquals(code, 2, `${command}: ${err}`);
    assertEquals(err.trim().split("\n").length, 1, `${command}: ${err}`);
    assertStringIncludes(err, 'unknown lesson "lesson-42"');
  }
});

Deno.test("hint: one level at a time, remembered, then all", async () => {
  const dir = await cloneCourse();
  const first = await task(dir, "hint", "3");
  assertStringIncludes(first.out, "lesson-03 · Hint 1 — nudge");
  assert(!first.out.includes("Hint 2"), first.out);
  assertStringIncludes(first.out, "2 more: run deno task hint lesson-03 again for the next one.");
  assert(!first.out.includes("```"), first.out); // markdown rendered, not printed raw
  const second = await task(dir, "hint", "lesson-03");
  assertStringIncludes(second.out, "Hint 1 — nudge (seen)");
  assertStringIncludes(second.out, "lesson-03 · Hint 2 — approach");
  const all = await task(dir, "hint", "3", "--all");
  assertStringIncludes(all.out, "Hint 3 — near-answer");
  assertStringIncludes(all.out, "The reference solution is solutions/lesson-03/");
});

Deno.test("reset: keeps the learner's version as a backup, then restores the stub", async () => {
  const dir = await cloneCourse();
  const path = `${dir}/exercises/lesson-03/udp_local.ts`;
  const stub = await Deno.readTextFile(path);
  await Deno.writeTextFile(path, "// my work in progress\n");
  const { code, out } = await task(dir, "reset", "3", "udp_local.ts");
  assertEquals(code, 0, out);
  assertEquals(await Deno.readTextFile(path), stub);
  const backup = out.match(/Kept your version as (\S+)/)?.[1];
  assert(backup, out);
  assertEquals(await Deno.readTextFile(`${dir}/${backup}`), "// my work in progress\n");
  assertStringIncludes((await task(dir, "reset", "3")).out, "is already the stub");
  const wrong = await task(dir, "reset", "3", "nope.ts");
  assertEquals(wrong.code, 2);
  assertStringIncludes(wrong.err, "lesson-03 has no file nope.ts");
});

/** Reads a child's stdout until `pattern` appears, or fails after `ms`. */
async function waitFor(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  seen: { text: string },
  pattern: RegExp,
  ms = 60_000, // a bound, not a pace: two checks at once on 2 cores slowed watch past 20 s
) {
  const deadline = Date.now() + ms;
  while (!pattern.test(seen.text)) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) =>
      timer = setTimeout(() => r("timeout"), Math.max(0, deadline - Date.now()))
    );
    const next = await Promise.race([reader.read(), timeout]);
    clearTimeout(timer);
    if (next === "timeout" || next.done) {
      throw new Error(`watch never printed ${pattern}; it printed:\n${seen.text}`);
    }
    seen.text += decoder.decode(next.value);
  }
}

for (const manual of [false, true]) {
  Deno.test(`watch${manual ? " --manual" : ""}: runs, re-runs after a save, and says when the lesson is done`, async () => {
    const dir = await cloneCourse();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "watch", "3", ...(manual ? ["--manual"] : [])],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = child.stdout.getReader();
    const writer = child.stdin.getWriter();
    const seen = { text: "" };
    try {
      await waitFor(reader, seen, /0 of \d+ tests passing[\s\S]*\[q\] quit/);
      assertStringIncludes(seen.text, "not implemented");
      await solve(dir, "lesson-03", "udp_local.ts");
      if (manual) await writer.write(new TextEncoder().encode("r\n"));
      await waitFor(reader, seen, /✓ lesson-03 done!/);
      assertStringIncludes(seen.text, "Compare with the reference: solutions/lesson-03/");
      await writer.write(new TextEncoder().encode("h\n"));
      await waitFor(reader, seen, /Hint 1 — nudge[\s\S]*2 more: press h for the next one/);
      await writer.write(new TextEncoder().encode("q\n"));
      assertEquals((await child.status).code, 0);
    } finally {
      await writer.close().catch(() => {});
      await reader.cancel().catch(() => {});
      try {
        child.kill();
      } catch {
        // already exited
      }
      await child.status;
    }
  });
}
