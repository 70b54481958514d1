import { assert, assertEquals } from "@std/assert";
import { findLesson, loadCatalog, ROOT } from "./catalog.ts";
import { parseJUnit } from "./junit.ts";
import { planShares, STUBS_ID, writeVariant } from "./mistake_batch.ts";
import { loadMistakes } from "./mistakes.ts";

Deno.test("mistake batch: a variant given a selection registers only those tests, as its own module's", async () => {
  const lesson = findLesson(await loadCatalog(), "02");
  const [mistake] = await loadMistakes(lesson);
  const source = await Deno.readTextFile(`${ROOT}tests/${lesson.id}/addresses_test.ts`);
  const names = [...source.matchAll(/^Deno\.test\("([^"]+)"/gm)].map((m) => m[1]);
  assert(names.length > 3, "the lesson's tests could not be read");
  const only = new Set([names[1], names.at(-1)!]);
  const work = await Deno.makeTempDir({ prefix: "batch-test-" });
  try {
    const modules = await writeVariant(lesson, mistake, 0, work, only);
    const junit = `${work}/junit.xml`;
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--no-check", "--allow-net=127.0.0.1", `--junit-path=${junit}`, ...modules],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "null",
      stderr: "null",
    }).output();
    const tests = parseJUnit(await Deno.readTextFile(junit));
    assertEquals(tests.map((t) => t.name).sort(), [...only].sort(), `exit ${run.code}`);
    for (const test of tests) assert(test.file.endsWith("/v0/tests/addresses_test.ts"), test.file);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("planShares: the longest variants first, each to the share with the least time so far", () => {
  // 14 + 1 against 12 + 1 + 0: the shares end within a second of each other, each in its order.
  assertEquals(planShares(5, 2, [14, 0, 1, 12, 1]), [[0, 1], [2, 3, 4]]);
  assertEquals(planShares(4, 2, [0, 0, 0, 0]), [[0, 2], [1, 3]]);
});

Deno.test("planShares: without recorded times, in turn; never an empty share", () => {
  assertEquals(planShares(5, 2), [[0, 2, 4], [1, 3]]);
  assertEquals(planShares(1, 2, [3]), [[0]]);
  assertEquals(planShares(0, 2), []);
});

Deno.test("writeVariant: the stubs' variant copies exercises/, unedited, with every test module", async () => {
  const lesson = findLesson(await loadCatalog(), "02");
  const work = await Deno.makeTempDir({ prefix: "batch-test-" });
  try {
    const stub = { id: STUBS_ID, summary: "the stubs", file: "", edits: [], caughtBy: "" };
    const modules = await writeVariant(lesson, stub, 0, work, undefined, "exercises");
    const tests = [...Deno.readDirSync(`${ROOT}tests/${lesson.id}`)]
      .filter((e) => e.name.endsWith("_test.ts")).map((e) => `${work}/v0/tests/${e.name}`).sort();
    assertEquals(modules.sort(), tests);
    for (const file of lesson.files) {
      const copied = await Deno.readTextFile(`${work}/v0/${lesson.id}/${file}`);
      const stubText = await Deno.readTextFile(`${ROOT}exercises/${lesson.id}/${file}`);
      assert(copied.includes("not implemented"), `${file} is not the stub`);
      assertEquals(copied.replace(/["'][^"']*["']/g, ""), stubText.replace(/["'][^"']*["']/g, ""));
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
