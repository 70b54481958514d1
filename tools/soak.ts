/**
 * `deno task soak [--runs N] [--out FILE]` — proves the course does not
 * flake. Runs the whole `deno task check` N times one after another, then N
 * times two at once (CPU contention on a 2-core machine), and reports every
 * check item that failed even once, with the runs it failed in. The bar is
 * zero failures.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { ROOT } from "./catalog.ts";
import { formatDuration, Progress } from "./progress.ts";
import { withScratch } from "./scratch.ts";
import { runTask } from "./task_process.ts";
import { runMain, UsageError } from "./usage_error.ts";

/** One run of the check, as soak saw it. */
interface Run {
  /** `solo 3` or `paired 2a`. */
  label: string;
  /** Items that failed, as `group › name`. */
  failures: string[];
  /** What each failed item said, by `group › name`. */
  details?: Record<string, string>;
  /** How many items the run counted. */
  items: number;
  /** Wall time in milliseconds. */
  ms: number;
}

async function checkOnce(label: string, work: string): Promise<Run> {
  const json = `${work}/${label.replace(/\s/g, "-")}.json`;
  const started = performance.now();
  const { err } = await runTask(["check", "--json", json]);
  const ms = performance.now() - started;
  try {
    const report = JSON.parse(await Deno.readTextFile(json));
    const failed: { group: string; name: string; detail?: string }[] = report.items
      .filter((i: { ok: boolean }) => !i.ok);
    const failures = failed.map((i) => `${i.group} › ${i.name}`);
    const details = Object.fromEntries(
      failed.map((i) => [`${i.group} › ${i.name}`, i.detail ?? ""]),
    );
    return { label, failures, details, items: report.items.length, ms };
  } catch {
    const text = err.trim().split("\n").slice(-3).join(" / ");
    return { label, failures: [`the check did not complete: ${text}`], items: 0, ms };
  }
}

/**
 * Groups failures by item: which item failed in which runs.
 *
 * @example
 * ```ts
 * import { failuresByItem } from "./soak.ts";
 * failuresByItem([{ label: "solo 1", failures: ["a"], items: 3, ms: 1 }]).get("a"); // ["solo 1"]
 * ```
 */
export function failuresByItem(runs: Run[]): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const run of runs) {
    for (const f of run.failures) by.set(f, [...(by.get(f) ?? []), run.label]);
  }
  return by;
}

async function main(): Promise<number> {
  const flags = parseArgs(Deno.args, {
    string: ["runs", "out"],
    boolean: ["help"],
    default: { runs: "30" },
    unknown: (arg: string) => {
      throw new UsageError(`unexpected ${arg}; usage: deno task soak [--runs N] [--out FILE]`);
    },
  });
  if (flags.help) {
    console.log(
      "usage: deno task soak [--runs N] [--out FILE]   (N solo runs, then N paired runs)",
    );
    return 0;
  }
  const n = Number(flags.runs);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`--runs takes a whole number ≥ 1, not "${flags.runs}"`);
  }
  const runs = await withScratch("soak", async (work) => {
    const all: Run[] = [];
    const progress = new Progress(3 * n, "check runs");
    for (let i = 1; i <= n; i++) {
      const run = await checkOnce(`solo ${i}`, work);
      all.push(run);
      progress.tick(`${run.label}: ${run.failures.length} failed`);
    }
    for (let i = 1; i <= n; i++) {
      const pair = await Promise.all([
        checkOnce(`paired ${i}a`, work),
        checkOnce(`paired ${i}b`, work),
      ]);
      for (const run of pair) {
        all.push(run);
        progress.tick(`${run.label}: ${run.failures.length} failed`);
      }
    }
    progress.done();
    return all;
  });
  const by = failuresByItem(runs);
  const solo = runs.filter((r) => r.label.startsWith("solo"));
  const paired = runs.filter((r) => r.label.startsWith("paired"));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  console.log(
    `Soak: ${solo.length} solo runs and ${paired.length} paired runs of deno task check.`,
  );
  console.log(
    `Items per run: ${runs[0]?.items ?? 0}. Median wall time: solo ${
      formatDuration(median(solo.map((r) => r.ms)))
    }, ` +
      `paired ${formatDuration(median(paired.map((r) => r.ms)))}.`,
  );
  if (!by.size) console.log("No failures.");
  for (const [item, where] of by) {
    console.log(`FLAKY ${item}: failed in ${where.length} runs (${where.join(", ")})`);
    const said = runs.find((r) => r.details?.[item])?.details?.[item];
    if (said) console.log(said.split("\n").slice(0, 12).map((l) => `    ${l}`).join("\n"));
  }
  const report = {
    runs: runs.map(({ label, failures, details, items, ms }) => ({
      label,
      failures,
      details,
      items,
      ms,
    })),
    flaky: Object.fromEntries(by),
  };
  await Deno.mkdir(`${ROOT}.course`, { recursive: true });
  await Deno.writeTextFile(
    flags.out ?? `${ROOT}.course/soak.json`,
    JSON.stringify(report, null, 2),
  );
  const failedRuns = runs.filter((r) => r.failures.length).length;
  console.log(`soak: ${runs.length - failedRuns} passed, ${failedRuns} failed`);
  return by.size ? 1 : 0;
}

if (import.meta.main) await runMain("soak", main);
