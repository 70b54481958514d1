/**
 * Zip uploads and batch grading: archives are built here with a small
 * writer (stored or deflated entries), so the tests need no zip tool.
 */

import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { concat } from "@std/bytes/concat";
import { findLesson, loadCatalog, ROOT } from "../catalog.ts";
import { gradeSubmission } from "./grading.ts";
import { escapesRoot, readZip } from "./zip.ts";
import { UsageError } from "../usage_error.ts";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

async function deflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("deflate-raw"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Writes a zip archive; `mode` sets unix mode bits (e.g. 0o120777 for a symlink). */
async function makeZip(
  files: { name: string; data: string; mode?: number; deflated?: boolean }[],
): Promise<Uint8Array> {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    const name = new TextEncoder().encode(f.name);
    const raw = new TextEncoder().encode(f.data);
    const body = f.deflated ? await deflate(raw) : raw;
    const local = new Uint8Array(30 + name.length + body.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(8, f.deflated ? 8 : 0, true);
    lv.setUint32(14, crc32(raw), true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, raw.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    local.set(body, 30 + name.length);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(10, f.deflated ? 8 : 0, true);
    cv.setUint32(16, crc32(raw), true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, raw.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(38, ((f.mode ?? 0o100644) << 16) >>> 0, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }
  const centralSize = centrals.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, files.length, true);
  ev.setUint16(10, files.length, true);
  ev.setUint32(12, centralSize, true);
  ev.setUint32(16, offset, true);
  return concat([...locals, ...centrals, end]);
}

const catalog = await loadCatalog();
const lesson03 = findLesson(catalog, "3");
const solution = await Deno.readTextFile(`${ROOT}solutions/lesson-03/udp_local.ts`);

Deno.test("zip: stored and deflated entries read back exactly", async () => {
  const entries = await readZip(
    await makeZip([
      { name: "ann/", data: "" },
      { name: "ann/lesson-03/udp_local.ts", data: solution, deflated: true },
      { name: "ann/readme.txt", data: "hi" },
    ]),
  );
  assertEquals(entries.map((e) => e.name), [
    "ann/",
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
  await assertRejects(
    () => readZip(new TextEncoder().encode("not a zip")),
    UsageError,
    "not a zip archive",
  );
  await assertRejects(
    async () => readZip(await makeZip([{ name: "lesson-03/../../escape.ts", data: "x" }])),
    UsageError,
    "escapes its folder: lesson-03/../../escape.ts",
  );
  await assertRejects(
    async () =>
      readZip(await makeZip([{ name: "lesson-03/link.ts", data: "/etc/passwd", mode: 0o120777 }])),
    UsageError,
    "symlink",
  );
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
    assert(csv[1].startsWith("ann,11,11,100,11,"), csv[1]);
    assert(csv[2].startsWith("bob,0,11,0,0,"), csv[2]);
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
