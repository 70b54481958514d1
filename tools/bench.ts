/**
 * `deno task bench [--runs N] [--lessons 03,04] [--no-check-run] [--out FILE]`
 *
 * Times the learner's feedback loop as a learner meets it: each command is
 * spawned exactly as typed (`deno task test lesson-NN --solutions`, and the
 * same against the stub), once to warm the caches and then N times; plus the
 * whole `deno task check`. Prints a markdown table (median, min, max) with
 * the machine it ran on, and writes the same as JSON next to it.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { findLesson, loadCatalog, ROOT } from "./catalog.ts";
import { CORES } from "./pool.ts";
import { runMain, UsageError } from "./usage_error.ts";

/** One timed command. */
export interface Timing {
  /** What was run, as a learner types it. */
  command: string;
  /** Wall times of the measured runs, in milliseconds. */
  runs: number[];
  /** The median of `runs`. */
  median: number;
}

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

async function timeTask(args: string[]): Promise<number> {
  const started = performance.now();
  await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  return performance.now() - started;
}

async function measure(args: string[], runs: number): Promise<Timing> {
  await timeTask(args); // warm-up: module and type-check caches
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeTask(args));
  return { command: `deno task ${args.join(" ")}`, runs: times, median: median(times) };
}

function machine(): string {
  const cpu = (() => {
    try {
      return Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.*)/)?.[1];
    } catch {
      return undefined;
    }
  })();
  return `${Deno.build.os} ${Deno.build.arch}, ${CORES} cores${
    cpu ? ` (${cpu})` : ""
  }, Deno ${Deno.version.deno}`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

async function main(): Promise<number> {
  const flags = parseArgs(Deno.args, {
    string: ["runs", "lessons", "out"],
    boolean: ["help", "no-check-run"],
    default: { runs: "5" },
    unknown: (arg: string) => {
      throw new UsageError(
        `unexpected ${arg}; usage: deno task bench [--runs N] [--lessons 03,04] [--no-check-run] [--out FILE]`,
      );
    },
  });
  if (flags.help) {
    console.log(
      "usage: deno task bench [--runs N] [--lessons 03,04] [--no-check-run] [--out FILE]",
    );
    return 0;
  }
  const runs = Number(flags.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new UsageError(`--runs takes a whole number ≥ 1, not "${flags.runs}"`);
  }
  const catalog = await loadCatalog();
  const lessons = flags.lessons
    ? String(flags.lessons).split(",").map((n) => findLesson(catalog, n))
    : catalog.lessons;

  const timings: Timing[] = [];
  for (const lesson of lessons) {
    for (const extra of [["--solutions"], []]) {
      const t = await measure(["test", lesson.id, ...extra], runs);
      console.error(`${t.command}: ${seconds(t.median)} s`);
      timings.push(t);
    }
  }
  if (!flags["no-check-run"]) {
    const t = await measure(["check"], Math.min(runs, 3));
    console.error(`${t.command}: ${seconds(t.median)} s`);
    timings.push(t);
  }

  const date = new Date().toISOString().slice(0, 10);
  const lines = [
    `Measured ${date} on ${machine()}; warm caches, ${runs} runs each (check: ${
      Math.min(runs, 3)
    }).`,
    "",
    "| command | median (s) | min (s) | max (s) |",
    "| ------- | ---------: | ------: | ------: |",
    ...timings.map((t) =>
      `| \`${t.command}\` | ${seconds(t.median)} | ${seconds(Math.min(...t.runs))} | ${
        seconds(Math.max(...t.runs))
      } |`
    ),
  ];
  console.log(lines.join("\n"));
  const out = flags.out ?? `${ROOT}.course/bench.json`;
  await Deno.mkdir(`${ROOT}.course`, { recursive: true });
  await Deno.writeTextFile(out, JSON.stringify({ date, machine: machine(), timings }, null, 2));
  console.error(`(JSON written to ${out})`);
  return 0;
}

if (import.meta.main) await runMain("bench", main);
