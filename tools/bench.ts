/**
 * `deno task bench [--runs N] [--lessons 03,04] [--skip check,grade,batch,throughput] [--out FILE]`
 *
 * How fast the course is, measured as its users meet it: every command is
 * spawned exactly as typed, once to warm the caches and then N times.
 *
 * - the feedback loop: `deno task test lesson-NN --solutions`, and the same
 *   against the stub (how long a learner waits for "not implemented");
 * - `deno task check` end to end;
 * - grading one full submission, and a batch of 20 at concurrency 2, with
 *   the peak memory of the whole process tree;
 * - lesson 13's reference bulk transfer in MB/s next to Deno's raw
 *   `pipeTo` echo and `iperf3` on loopback (tools/throughput.ts), and
 *   lesson 09's reference UDP request rate.
 *
 * Prints a markdown table (median and min–max) with the machine it ran on,
 * each timed row judged against its goal from `tools/course.json` (a lesson's
 * suite, the check, grading one submission), and writes the same as JSON
 * (default `.course/bench.json`). Exits 1 when a goal was missed.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { findLesson, loadCatalog, ROOT } from "./catalog.ts";
import { CORES } from "./pool.ts";
import { measureCommand } from "./grader/memory.ts";
import { withScratch } from "./scratch.ts";
import { runMain, UsageError } from "./usage_error.ts";

/**
 * The median of some numbers.
 *
 * @example
 * ```ts
 * import { median } from "./bench.ts";
 * median([3, 1, 2]); // 2
 * ```
 */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One timed measurement series for the table. */
interface Row {
  /** What was measured. */
  what: string;
  /** The unit of the values. */
  unit: string;
  /** The measured values. */
  values: number[];
  /** Peak memory in MiB per run, where sampled. */
  peakMb?: number[];
  /** A remark for the table. */
  note?: string;
  /** The most the median may be, in seconds, where the course sets a goal. */
  goal?: number;
}

/**
 * Whether a row's median meets its goal; `undefined` when it has none.
 *
 * @example
 * ```ts
 * import { goalMet } from "./bench.ts";
 * goalMet({ values: [0.4, 0.5, 0.6], goal: 1 }); // true
 * ```
 */
export function goalMet(row: { values: number[]; goal?: number }): boolean | undefined {
  return row.goal === undefined || !row.values.length ? undefined : median(row.values) < row.goal;
}

/** The goal cell: `under 1 s: met`, `under 1 s: MISSED`, or empty. */
function verdict(row: Row): string {
  const met = goalMet(row);
  return met === undefined ? "" : `under ${row.goal} ${row.unit}: ${met ? "met" : "MISSED"}`;
}

async function timeTask(args: string[]): Promise<{ ms: number; peakMb: number }> {
  return await measureCommand(Deno.execPath(), ["task", "-q", ...args], { cwd: ROOT });
}

async function series(
  what: string,
  args: string[],
  runs: number,
  options: { memory?: boolean; goal?: number; warm?: boolean } = {},
): Promise<Row> {
  if (options.warm !== false) await timeTask(args); // warm-up: module and type-check caches
  const values: number[] = [];
  const peaks: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { ms, peakMb } = await timeTask(args);
    values.push(ms / 1000);
    peaks.push(peakMb);
  }
  console.error(`${what}: ${median(values).toFixed(2)} s`);
  return {
    what,
    unit: "s",
    values,
    ...(options.memory ? { peakMb: peaks } : {}),
    ...(options.goal ? { goal: options.goal } : {}),
  };
}

/** The machine, for the table's caption: OS, cores, CPU model (Linux), Deno. */
async function machine(): Promise<string> {
  // Deno gates /proc behind --allow-all, so `cat` reads the CPU model.
  const cpu = await new Deno.Command("cat", { args: ["/proc/cpuinfo"], stderr: "null" }).output()
    .then((out) => new TextDecoder().decode(out.stdout).match(/model name\s*:\s*(.*)/)?.[1])
    .catch(() => undefined);
  return `${Deno.build.os} ${Deno.build.arch}, ${CORES} cores${
    cpu ? ` (${cpu})` : ""
  }, Deno ${Deno.version.deno}`;
}

function cell(values: number[], digits: number): string {
  if (!values.length) return "—";
  const spread = values.length > 1
    ? ` (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`
    : "";
  return `${median(values).toFixed(digits)}${spread}`;
}

/** Makes `count` submissions in `dir`: alternately the solutions and the stubs. */
async function makeBatch(dir: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const from = `${ROOT}${i % 2 ? "exercises" : "solutions"}`;
    await new Deno.Command("cp", {
      args: ["-r", from, `${dir}/learner-${String(i + 1).padStart(2, "0")}`],
    }).output();
  }
}

async function throughput(runs: number, megabytes: number): Promise<Row[]> {
  const samples: Record<string, number>[] = [];
  let iperfNote: string | undefined;
  for (let i = 0; i < runs; i++) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net=127.0.0.1",
        "--allow-run=iperf3",
        `${ROOT}tools/throughput.ts`,
        String(megabytes),
      ],
      cwd: ROOT,
      stderr: "inherit",
    }).output();
    const result = JSON.parse(new TextDecoder().decode(out.stdout));
    if (typeof result.iperf3MBps === "string") {
      iperfNote = result.iperf3MBps;
      delete result.iperf3MBps;
    }
    samples.push(result);
  }
  const pick = (key: string) => samples.map((s) => s[key]).filter((v) => typeof v === "number");
  return [
    {
      what: `lesson 13 reference bulk transfer (${megabytes} MB echoed, upper-cased)`,
      unit: "MB/s",
      values: pick("lesson13MBps"),
    },
    {
      what: `Deno readable.pipeTo echo (${megabytes} MB), the streams' ceiling`,
      unit: "MB/s",
      values: pick("pipeToMBps"),
    },
    {
      what: "iperf3 on loopback (one direction, 3 s)",
      unit: "MB/s",
      values: pick("iperf3MBps"),
      note: iperfNote,
    },
    {
      what: "lesson 09 reference UDP request/response (2000 INCRs)",
      unit: "req/s",
      values: pick("lesson09RequestsPerSecond"),
    },
  ];
}

async function main(): Promise<number> {
  const usage =
    "usage: deno task bench [--runs N] [--lessons 03,04] [--skip check,grade,batch,throughput] [--out FILE]";
  const flags = parseArgs(Deno.args, {
    string: ["runs", "lessons", "out", "skip"],
    boolean: ["help"],
    default: { runs: "5", skip: "" },
    unknown: (arg: string) => {
      throw new UsageError(`unexpected ${arg}; ${usage}`);
    },
  });
  if (flags.help) {
    console.log(usage);
    return 0;
  }
  const runs = Number(flags.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new UsageError(`--runs takes a whole number ≥ 1, not "${flags.runs}"`);
  }
  const skip = new Set(String(flags.skip).split(",").filter(Boolean));
  const catalog = await loadCatalog();
  const lessons = flags.lessons
    ? String(flags.lessons).split(",").map((n) => findLesson(catalog, n))
    : catalog.lessons;
  const few = Math.min(runs, 3);

  const rows: Row[] = [];
  for (const lesson of lessons) {
    rows.push(
      await series(
        `deno task test ${lesson.id} --solutions`,
        ["test", lesson.id, "--solutions"],
        runs,
        { goal: lesson.suiteGoalSeconds ?? catalog.goals.suiteSeconds },
      ),
    );
    rows.push(await series(`deno task test ${lesson.id} (the stub)`, ["test", lesson.id], runs));
  }
  if (!skip.has("check")) {
    rows.push(
      await series("deno task check (whole course)", ["check"], few, {
        goal: catalog.goals.checkSeconds,
      }),
    );
  }
  if (!skip.has("grade")) {
    rows.push(
      await series(
        "deno task grade solutions (one full submission)",
        ["grade", "solutions"],
        few,
        { memory: true, goal: catalog.goals.gradeSeconds },
      ),
    );
  }
  if (!skip.has("batch")) {
    await withScratch("bench-batch", async (dir) => {
      await Deno.mkdir(`${dir}/subs`);
      await makeBatch(`${dir}/subs`, 20);
      rows.push(
        await series(
          "deno task grade --batch (20 submissions, concurrency 2)",
          ["grade", "--batch", `${dir}/subs`, "--concurrency", "2", "--out", `${dir}/out`],
          few,
          // Grading one submission just warmed the same caches; a batch takes minutes.
          { memory: true, warm: skip.has("grade") },
        ),
      );
    });
  }
  if (!skip.has("throughput")) rows.push(...await throughput(few, 64));

  const date = new Date().toISOString().slice(0, 10);
  const host = await machine();
  const lines = [
    `Measured ${date} on ${host}; warm caches; median (min–max) of ${runs} runs ` +
    `(${few} for the check, grading and throughput), each after a warm-up run.`,
    "",
    "| what | value | unit | peak memory (MiB) | goal |",
    "| ---- | ----: | ---- | ----------------: | ---- |",
    ...rows.map((r) =>
      `| ${r.what}${r.note ? ` (${r.note})` : ""} | ${
        cell(r.values, r.unit === "s" ? 2 : 0)
      } | ${r.unit} | ${r.peakMb ? cell(r.peakMb, 0) : ""} | ${verdict(r)} |`
    ),
  ];
  const judged = rows.filter((r) => goalMet(r) !== undefined);
  const missed = rows.filter((r) => goalMet(r) === false);
  lines.push(
    "",
    `Goals: ${judged.length - missed.length} of ${judged.length} met` +
      (missed.length ? `; missed: ${missed.map((r) => r.what).join("; ")}.` : "."),
  );
  console.log(lines.join("\n"));
  const out = flags.out ?? `${ROOT}.course/bench.json`;
  await Deno.mkdir(`${ROOT}.course`, { recursive: true });
  await Deno.writeTextFile(
    out,
    JSON.stringify(
      {
        date,
        machine: host,
        goals: catalog.goals,
        rows: rows.map((r) => ({ ...r, verdict: verdict(r) || undefined })),
      },
      null,
      2,
    ),
  );
  console.error(`(JSON written to ${out})`);
  return missed.length ? 1 : 0;
}

if (import.meta.main) await runMain("bench", main);
