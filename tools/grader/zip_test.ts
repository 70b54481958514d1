/**
 * Zip uploads and batch grading: archives are built here with a small
 * writer (stored or deflated entries), so the tests need no zip tool. The
 * hostile archives (bombs, traversal, clashes, …) are in the grader's corpus
 * (corpus_test.ts); these are the reader's basics.
 */

import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { findLesson, loadCatalog, ROOT } from "../catalog.ts";
import { gradeSubmission, referenceTests } from "./grading.ts";
import { escapesRoot, readZip } from "./zip.ts";
import { UsageError } from "../usage_error.ts";
import { makeZip } from "./fake_zip.ts";

const catalog = await loadCatalog();
const lesson03 = findLesson(catalog, "3");
const solution = await Deno.readTextFile(`${ROOT}solutions/lesson-03/udp_local.ts`);

Deno.test("zip: stored and deflated entries read back exactly", async () => {
  const entries = readZip(
    await makeZip([
      { name: "ann/", data: "" },
      { name: "ann/lesson-03/udp_local.ts", data: solution, deflated: true },
      { name: "ann/readme.txt", data: "hi" },
    ]),
  );
  assertEquals(entries.map((e) => e.name), [
    "ann",
    "ann/lesson-03/udp_local.ts",
    "ann/readme.txt",
  ]);
  assertEquals(new TextDecoder().decode(entries[1].data), solution);
});

Deno.test("zip: paths that escape the root, symlinks and non-zips are refused with the reason", async () => {
  for (const name of ["../evil.ts", "/etc/cron.d/x", "a/../../b", "C:/x", "a\\..\\b"]) {
    assert(escapesRoot(name), name);
  }
  assert(!escapesRoot("ann/lesson-03/./x.ts"));
  assertThrows(
    () => readZip(new TextEncoder().encode("not a zip")),
    UsageError,
    "not a zip archive",
  );
  const escaping = await makeZip([{ name: "lesson-03/../../escape.ts", data: "x" }]);
  assertThrows(
    () => readZip(escaping),
    UsageError,
    "escapes its folder: lesson-03/../../escape.ts",
  );
  const link = await makeZip([{ name: "lesson-03/link.ts", data: "/etc/passwd", mode: 0o120777 }]);
  assertThrows(() => readZip(link), UsageError, "symlink");
});

Deno.test("grade: a zip of a wrapped submission is graded like the folder", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const zip = `${dir}/ann.zip`;
    await Deno.writeFile(
      zip,
      await makeZip([{ name: "ann/lesson-03/udp_local.ts", data: solution, deflated: true }]),
    );
    const grade = await gradeSubmission(catalog, zip, [lesson03]);
    assertEquals(grade.submission, "ann");
    assertEquals(grade.points, grade.maxPoints);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("grade --batch: every submission graded, a broken one reported, gradebook written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const subs = `${dir}/subs`;
    await Deno.mkdir(`${subs}/ann/lesson-03`, { recursive: true });
    await Deno.writeTextFile(`${subs}/ann/lesson-03/udp_local.ts`, solution);
    await Deno.mkdir(`${subs}/bob/exercises/lesson-03`, { recursive: true });
    await Deno.copyFile(
      `${ROOT}exercises/lesson-03/udp_local.ts`,
      `${subs}/bob/exercises/lesson-03/udp_local.ts`,
    );
    await Deno.writeFile(
      `${subs}/eve.zip`,
      await makeZip([{ name: "../../escape.ts", data: "x" }]),
    );
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "-q",
        "grade",
        "--batch",
        subs,
        "--lessons",
        "3",
        "--concurrency",
        "2",
        "--out",
        `${dir}/out`,
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const stderr = new TextDecoder().decode(run.stderr);
    assertEquals(run.code, 0, stderr);
    assertStringIncludes(stderr, "3/3 submissions");
    const csv = (await Deno.readTextFile(`${dir}/out/gradebook.csv`)).trim().split("\n");
    assertEquals(csv[0], "submission,points,max_points,percent,lesson-03,problems");
    const n = (await referenceTests(lesson03)).tests.filter((t) => !t.skipped).length;
    assert(csv[1].startsWith(`ann,${n},${n},100,${n},`), csv[1]);
    assert(csv[2].startsWith(`bob,0,${n},0,0,`), csv[2]);
    assertStringIncludes(csv[3], "eve.zip,0,");
    assertStringIncludes(csv[3], "escapes its folder");
    const book = JSON.parse(await Deno.readTextFile(`${dir}/out/gradebook.json`));
    assertEquals(book.length, 3);
    const report = JSON.parse(await Deno.readTextFile(`${dir}/out/reports/ann.json`));
    assertEquals(report.schema, "course-grade/1");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
