/**
 * `deno task grade SUBMISSION [--lessons 03,04] [--format text|json|junit|markdown|exercism] [--out FILE] [--strict] [--require-sandbox | --sandbox deno]`
 * `deno task grade --batch DIR [--out FOLDER] [--concurrency N] [--lessons …] [--format …]`
 *
 * Grades a submission (a folder laid out like `exercises/`, a learner's
 * fork, or a `.zip` of either) in a sandbox, and reports the score. With
 * `--batch`, grades every submission in DIR with bounded concurrency and
 * writes a gradebook (CSV and JSON) plus one report per submission.
 *
 * Each lesson runs in the OS sandbox (bubblewrap) where it works, else under
 * Deno's permissions alone; every report names which. `--require-sandbox`
 * refuses to grade without the OS sandbox; `--sandbox deno` skips it.
 *
 * Exit codes: 0 graded; 1 graded with failures, with `--strict`; 2 unusable
 * input, or no OS sandbox with `--require-sandbox`.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { join, resolve } from "@std/path";
import { type Catalog, findLesson, type Lesson, loadCatalog } from "../catalog.ts";
import { gradebookCsv } from "./gradebook.ts";
import { type Format, FORMATS, jsonReport, render } from "./report.ts";
import { DEFAULT_LIMITS, type Grade, gradeSubmission, type Limits } from "./grading.ts";
import { detectSandbox, type Sandbox } from "./sandbox.ts";
import { CORES, startPool } from "../pool.ts";
import { Progress } from "../progress.ts";
import { runMain, UsageError } from "../usage_error.ts";

const USAGE = "usage: deno task grade SUBMISSION [--lessons 03,04] [--format " + FORMATS.join("|") +
  "] [--out FILE] [--strict]\n       deno task grade --batch DIR [--out FOLDER] [--concurrency N] [--lessons …]" +
  "\n       either form: [--require-sandbox | --sandbox deno] [--timeout S] [--memory MB]";

const EXTENSIONS: Record<Format, string> = {
  text: "txt",
  json: "json",
  junit: "xml",
  markdown: "md",
  exercism: "exercism.json",
};

function parseLimits(flags: { timeout?: string; memory?: string }): Limits {
  const number = (text: string | undefined, name: string, fallback: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!(n > 0)) throw new UsageError(`--${name} takes a positive number, not "${text}"`);
    return n;
  };
  return {
    timeoutMs: number(flags.timeout, "timeout", DEFAULT_LIMITS.timeoutMs / 1000) * 1000,
    memoryMb: number(flags.memory, "memory", DEFAULT_LIMITS.memoryMb),
    outputBytes: DEFAULT_LIMITS.outputBytes,
  };
}

async function gradeBatch(
  catalog: Catalog,
  dir: string,
  lessons: Lesson[],
  limits: Limits,
  concurrency: number,
  out: string,
  format: Format,
  sandbox: Sandbox,
): Promise<number> {
  const info = await Deno.stat(dir).catch(() => undefined);
  if (!info?.isDirectory) throw new UsageError(`batch folder not found: ${dir}`);
  const entries: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.startsWith(".") && (entry.isDirectory || /\.zip$/i.test(entry.name))) {
      entries.push(entry.name);
    }
  }
  entries.sort();
  if (!entries.length) throw new UsageError(`no submissions (folders or .zip files) in ${dir}`);
  await Deno.mkdir(join(out, "reports"), { recursive: true });
  const progress = new Progress(entries.length, "submissions");
  const rows = await Promise.all(startPool(entries, concurrency, async (name) => {
    let row: { name: string; grade?: Grade; error?: string };
    try {
      const grade = await gradeSubmission(catalog, join(dir, name), lessons, limits, 1, sandbox);
      const base = join(out, "reports", grade.submission);
      await Deno.writeTextFile(`${base}.json`, JSON.stringify(jsonReport(grade), null, 2));
      if (format !== "json") {
        await Deno.writeTextFile(`${base}.${EXTENSIONS[format]}`, render(grade, format));
      }
      row = { name: grade.submission, grade };
    } catch (error) {
      row = { name, error: (error as Error).message.split("\n")[0] };
    }
    progress.tick(
      row.grade
        ? `${row.name}: ${row.grade.points}/${row.grade.maxPoints}`
        : `${name}: unusable (${row.error})`,
    );
    return row;
  }));
  progress.done();
  await Deno.writeTextFile(join(out, "gradebook.csv"), gradebookCsv(rows, lessons));
  await Deno.writeTextFile(
    join(out, "gradebook.json"),
    JSON.stringify(
      rows.map((r) => ({
        submission: r.name,
        points: r.grade?.points ?? 0,
        maxPoints: r.grade?.maxPoints ?? null,
        error: r.error ?? null,
      })),
      null,
      2,
    ),
  );
  console.log(
    `Graded ${
      rows.filter((r) => r.grade).length
    } of ${rows.length} submissions (course v${catalog.version}). Sandbox: ${sandbox.description}.`,
  );
  console.log(
    `Gradebook: ${join(out, "gradebook.csv")} and gradebook.json; reports in ${
      join(out, "reports")
    }/`,
  );
  return 0;
}

async function main(): Promise<number> {
  const flags = parseArgs(Deno.args, {
    boolean: ["help", "strict", "require-sandbox"],
    string: ["lessons", "format", "out", "batch", "concurrency", "timeout", "memory", "sandbox"],
    default: { format: "text" },
    unknown: (arg: string) => {
      if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}\n${USAGE}`);
      return true;
    },
  });
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  const format = flags.format as Format;
  if (!FORMATS.includes(format)) {
    throw new UsageError(`--format must be one of ${FORMATS.join(", ")}`);
  }
  const catalog = await loadCatalog();
  const lessons = flags.lessons
    ? String(flags.lessons).split(",").filter(Boolean).map((n) => findLesson(catalog, n))
    : catalog.lessons;
  const limits = parseLimits(flags);
  const concurrency = flags.concurrency === undefined ? CORES : Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new UsageError("--concurrency takes a whole number ≥ 1");
  }

  if (flags.sandbox !== undefined && flags.sandbox !== "deno") {
    throw new UsageError(`--sandbox takes only "deno" (Deno permissions without the OS sandbox)`);
  }
  if (flags.sandbox && flags["require-sandbox"]) {
    throw new UsageError("give either --require-sandbox or --sandbox deno");
  }
  const sandbox = await detectSandbox(flags.sandbox ? "deno-permissions" : "bubblewrap");
  if (flags["require-sandbox"] && sandbox.kind !== "bubblewrap") {
    throw new UsageError(
      `no OS sandbox, so not grading (--require-sandbox): ${sandbox.description}`,
    );
  }

  if (flags.batch) {
    if (flags._.length) throw new UsageError(`give either SUBMISSION or --batch DIR\n${USAGE}`);
    return await gradeBatch(
      catalog,
      flags.batch,
      lessons,
      limits,
      concurrency,
      resolve(flags.out ?? "grades"),
      format,
      sandbox,
    );
  }
  if (flags._.length !== 1) throw new UsageError(`name one submission folder or .zip\n${USAGE}`);
  const grade = await gradeSubmission(
    catalog,
    String(flags._[0]),
    lessons,
    limits,
    concurrency,
    sandbox,
  );
  const text = render(grade, format);
  if (flags.out) await Deno.writeTextFile(flags.out, text.endsWith("\n") ? text : `${text}\n`);
  else console.log(text);
  return flags.strict && grade.points < grade.maxPoints ? 1 : 0;
}

if (import.meta.main) await runMain("grade", main);
