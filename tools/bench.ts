/**
 * `deno task bench [--runs N] [--lessons 03,04] [--skip course,check,grade,batch,throughput] [--out FILE]`
 *
 * How fast the course is, measured as its users meet it, each goal stated as
 * a ratio to a baseline measured in the same run, so that the table holds on
 * any machine:
 *
 * - the floor: `deno test` of a file with one empty test;
 * - each lesson's suite on the solution (as the check runs it), against
 *   the floor, each run paired with a floor run just before it (the ratio
 *   is the median of the pairs'); a lesson whose subject is waiting (04) in
 *   seconds instead, since its waits do not scale with the machine; the
 *   stub as the learner runs it;
 * - a newcomer's first `deno task course`, `deno task check`, grading one
 *   full submission (peak memory too), against the floor; a batch of 20;
 * - lesson 13's reference echo in MB/s against Deno's `pipeTo` echo, and
 *   that against `iperf3` on loopback (tools/throughput.ts); lesson 09's
 *   UDP request rate.
 *
 * Prints a markdown table (median and min–max, ratio, verdict) with the
 * machine it ran on, writes the same as JSON (default `.course/bench.json`),
 * and exits 1 when a goal from `tools/course.json` was missed.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { findLesson, type Goals, loadCatalog, ROOT } from "./catalog.ts";
import { CORES } from "./pool.ts";
import { measureCommand } from "./grader/memory.ts";
import { withScratch } from "./scratch.ts";
import { runSuite } from "./suite.ts";
import { SOLUTIONS } from "./targets.ts";
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

/** What a row is measured against, in the same run. */
export interface Baseline {
  /** Its name in the table: `floor`, `pipeTo`, `iperf3`. */
  name: string;
  /** Its median, in the row's unit. */
  value: number;
}

/** A goal: the row's median as a ratio to its baseline (or in seconds, for waits). */
export interface Goal {
  /** `atMost` for times, `atLeast` for rates. */
  kind: "atMost" | "atLeast";
  /** The ratio to the baseline, or seconds when the row has no baseline. */
  limit: number;
}

/** One measurement series for the table. */
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
  /** What the row is compared with. */
  baseline?: Baseline;
  /** Ratios measured pair by pair (row and baseline side by side in each run); their median is the ratio. */
  ratios?: number[];
  /** Where the course sets one. */
  goal?: Goal;
}

/**
 * The row's median as a ratio to its baseline, if it has one.
 *
 * @example
 * ```ts
 * import { ratioOf } from "./bench.ts";
 * ratioOf({ values: [0.2, 0.3, 0.4], baseline: { name: "floor", value: 0.1 } }); // 3
 * ratioOf({ values: [50, 200], baseline: { name: "pipeTo", value: 100 }, ratios: [0.6, 0.8] }); // 0.7
 * ```
 */
export function ratioOf(
  row: { values: number[]; baseline?: Baseline; ratios?: number[] },
): number | undefined {
  if (row.ratios?.length) return median(row.ratios);
  return row.baseline && row.values.length ? median(row.values) / row.baseline.value : undefined;
}

/**
 * Whether a row meets its goal; `undefined` when it has none.
 *
 * @example
 * ```ts
 * import { goalMet } from "./bench.ts";
 * goalMet({
 *   values: [0.25, 0.3, 0.35],
 *   baseline: { name: "floor", value: 0.13 },
 *   goal: { kind: "atMost", limit: 3 },
 * }); // true
 * goalMet({ values: [0.4, 0.5], goal: { kind: "atMost", limit: 1 } }); // true (seconds)
 * ```
 */
export function goalMet(
  row: { values: number[]; baseline?: Baseline; ratios?: number[]; goal?: Goal },
): boolean | undefined {
  if (!row.goal || !row.values.length) return undefined;
  const value = row.baseline ? ratioOf(row)! : median(row.values);
  return row.goal.kind === "atMost" ? value <= row.goal.limit : value >= row.goal.limit;
}

/** The goal cell, e.g. `≤ 3× floor: met`, `≥ 0.5× pipeTo: MISSED`, `≤ 1 s: met`. */
function verdict(row: Row): string {
  const met = goalMet(row);
  if (met === undefined || !row.goal) return "";
  const sign = row.goal.kind === "atMost" ? "≤" : "≥";
  const what = row.baseline ? `${row.goal.limit}× ${row.baseline.name}` : `${row.goal.limit} s`;
  return `${sign} ${what}: ${met ? "met" : "MISSED"}`;
}

async function timeTask(args: string[]): Promise<{ ms: number; peakMb: number }> {
  return await measureCommand(Deno.execPath(), ["task", "-q", ...args], { cwd: ROOT });
}

async function series(
  what: string,
  args: string[],
  runs: number,
  options: { memory?: boolean; warm?: boolean } = {},
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
  return { what, unit: "s", values, ...(options.memory ? { peakMb: peaks } : {}) };
}

/** Times `run` (which returns milliseconds) once to warm up, then `runs` times. */
async function timed(what: string, runs: number, run: () => Promise<number>): Promise<Row> {
  await run();
  const values: number[] = [];
  for (let i = 0; i < runs; i++) values.push(await run() / 1000);
  console.error(`${what}: ${median(values).toFixed(2)} s`);
  return { what, unit: "s", values };
}

/** The floor's one empty test, in a file of its own. */
const FLOOR_TEST = 'Deno.test("empty", () => {});\n';

/** Runs `deno test` of the floor's file once, the way suites are run; milliseconds. */
async function floorOnce(file: string): Promise<number> {
  const args = ["test", `--config=${ROOT}deno.json`, "--no-check", "--reporter=dot", file];
  return (await measureCommand(Deno.execPath(), args, { cwd: ROOT })).ms;
}

/**
 * Times `run` (milliseconds) once to warm up, then `runs` times, each run
 * right after a run of the floor: the row's ratio is the median of the
 * pairs' ratios, so that the machine's speed, which drifts over a bench
 * (by a fifth within minutes, measured), cancels out of each.
 */
async function pairedWithFloor(
  what: string,
  runs: number,
  floorFile: string,
  run: () => Promise<number>,
): Promise<{ row: Row; floors: number[] }> {
  await run();
  const values: number[] = [];
  const floors: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    const floor = await floorOnce(floorFile);
    const ms = await run();
    values.push(ms / 1000);
    floors.push(floor / 1000);
    ratios.push(ms / floor);
  }
  console.error(`${what}: ${median(values).toFixed(2)} s, ${median(ratios).toFixed(2)}× floor`);
  return { row: { what, unit: "s", values, ratios }, floors };
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

async function throughput(runs: number, megabytes: number, goals: Goals): Promise<Row[]> {
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
  const pipeTo = pick("pipeToMBps");
  const iperf = pick("iperf3MBps");
  return [
    {
      what: `lesson 13 reference echo (${megabytes} MB, upper-cased)`,
      unit: "MB/s",
      values: pick("lesson13MBps"),
      baseline: pipeTo.length ? { name: "pipeTo", value: median(pipeTo) } : undefined,
      // Each run echoes with both, one after the other: its ratio is less at the mercy of load.
      ratios: samples.map((s) => s.lesson13MBps / s.pipeToMBps).filter(Number.isFinite),
      goal: { kind: "atLeast", limit: goals.echoPipeToRatio },
    },
    {
      what: `Deno readable.pipeTo echo (${megabytes} MB)`,
      unit: "MB/s",
      values: pipeTo,
      baseline: iperf.length ? { name: "iperf3", value: median(iperf) } : undefined,
    },
    {
      what: "iperf3 on loopback (one direction, 3 s)",
      unit: "MB/s",
      values: iperf,
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
    "usage: deno task bench [--runs N] [--lessons 03,04] [--skip course,check,grade,batch,throughput] [--out FILE]";
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
  const goals = catalog.goals;
  const atMost = (limit: number): Goal => ({ kind: "atMost", limit });
  // The floor's file lives in a scratch folder for as long as suites are paired with it.
  const { floor, base } = await withScratch("bench-floor", async (dir) => {
    const floorFile = `${dir}/floor_test.ts`;
    await Deno.writeTextFile(floorFile, FLOOR_TEST);
    const floor = await timed(
      "the floor: deno test of one empty test",
      runs,
      () => floorOnce(floorFile),
    );
    rows.push(floor);
    const base: Baseline = { name: "floor", value: median(floor.values) };
    for (const lesson of lessons) {
      const what = `${lesson.id} suite on the solution (deno test, as the check runs it)`;
      const suite = async () => (await runSuite(lesson, SOLUTIONS)).ms;
      if (lesson.suiteGoalSeconds) {
        const row = await timed(what, runs, suite);
        rows.push({
          ...row,
          goal: atMost(lesson.suiteGoalSeconds),
          note: "its subject is waiting",
        });
      } else {
        const { row, floors } = await pairedWithFloor(what, runs, floorFile, suite);
        floor.values.push(...floors); // the floor row shows every floor run
        rows.push({ ...row, baseline: base, goal: atMost(goals.suiteFloorRatio) });
      }
      rows.push(await series(`deno task test ${lesson.id} (the stub)`, ["test", lesson.id], runs));
    }
    return { floor, base };
  });
  base.value = median(floor.values); // every floor run so far, for the rows below
  if (!skip.has("course")) {
    // A newcomer's clone is new: Deno keeps type checks by path, so none of this one's is cached.
    const row = await timed(
      "deno task course in a fresh clone of HEAD (a newcomer's first run)",
      runs,
      () =>
        withScratch("bench-clone", async (dir) => {
          const clone = `${dir}/course`;
          const git = await new Deno.Command("git", {
            args: ["clone", "-q", ROOT, clone],
            stdout: "null",
            stderr: "null",
          }).output();
          if (!git.success) throw new Error(`git clone of ${ROOT} failed`);
          return (await measureCommand(Deno.execPath(), ["task", "-q", "course"], { cwd: clone }))
            .ms;
        }),
    );
    rows.push({ ...row, baseline: base, goal: atMost(goals.courseFloorRatio) });
  }
  if (!skip.has("check")) {
    const row = await series("deno task check (whole course)", ["check"], few);
    rows.push({ ...row, baseline: base, goal: atMost(goals.checkFloorRatio) });
  }
  if (!skip.has("grade")) {
    const row = await series(
      "deno task grade solutions (one full submission)",
      ["grade", "solutions"],
      few,
      { memory: true },
    );
    rows.push({ ...row, baseline: base, goal: atMost(goals.gradeFloorRatio) });
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
  if (!skip.has("throughput")) rows.push(...await throughput(few, 64, goals));

  const date = new Date().toISOString().slice(0, 10);
  const host = await machine();
  const lines = [
    `Measured ${date} on ${host}; warm caches; median (min–max) of ${runs} runs ` +
    `(${few} for the check, grading and throughput), each after a warm-up run.`,
    "",
    "| what | value | unit | ratio to baseline | peak memory (MiB) | goal |",
    "| ---- | ----: | ---- | ----------------: | ----------------: | ---- |",
    ...rows.map((r) =>
      `| ${r.what}${r.note ? ` (${r.note})` : ""} | ${
        cell(r.values, r.unit === "s" ? 2 : 0)
      } | ${r.unit} | ${r.baseline ? `${ratioOf(r)!.toFixed(2)}× ${r.baseline.name}` : ""} | ${
        r.peakMb ? cell(r.peakMb, 0) : ""
      } | ${verdict(r)} |`
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
        rows: rows.map((r) => ({ ...r, ratio: ratioOf(r), verdict: verdict(r) || undefined })),
      },
      null,
      2,
    ),
  );
  console.error(`(JSON written to ${out})`);
  return missed.length ? 1 : 0;
}

if (import.meta.main) await runMain("bench", main);
