/**
 * Memory of a process tree (a command and every process it spawns), sampled
 * with `ps`: the grader's memory cap and the peaks `deno task bench` reports.
 *
 * @module
 */

/** Each process's parent and resident memory in KiB, by process ID, from one `ps`. */
interface ProcessTable {
  children: Map<number, number[]>;
  rss: Map<number, number>;
}

async function processTable(): Promise<ProcessTable> {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  let table = "";
  try {
    const out = await new Deno.Command("ps", {
      args: ["-eo", "pid=,ppid=,rss="],
      stdout: "piped",
      stderr: "null",
    }).output();
    table = new TextDecoder().decode(out.stdout);
  } catch {
    // no ps: every tree counts 0
  }
  for (const line of table.trim().split("\n")) {
    const [pid, ppid, kb] = line.trim().split(/\s+/).map(Number);
    if (!Number.isFinite(pid)) continue;
    rss.set(pid, kb);
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  return { children, rss };
}

function treeKb(table: ProcessTable, root: number): number {
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    total += table.rss.get(pid) ?? 0;
    stack.push(...(table.children.get(pid) ?? []));
  }
  return total;
}

/**
 * The resident memory, in KiB, of `root` and all its descendants right now,
 * read from `ps` (Deno guards /proc behind --allow-all); 0 where `ps` is missing.
 *
 * @example
 * ```ts ignore
 * import { treeRssKb } from "./memory.ts";
 * (await treeRssKb(Deno.pid)) > 0; // true where ps exists
 * ```
 */
export async function treeRssKb(root: number): Promise<number> {
  return treeKb(await processTable(), root);
}

/** Trees watched by {@linkcode capTreeMemory}: root → its cap in KiB and what to do past it. */
const capped = new Map<number, { capKb: number; over: () => void }>();
let stopSampling: (() => Promise<void>) | undefined;

/** How often capped trees are sampled, in milliseconds. */
export const CAP_SAMPLE_MS = 250;

/**
 * Calls `over` once the process tree under `root` holds more than `capMb`
 * MiB resident. However many trees are capped at once, one `ps` every
 * {@linkcode CAP_SAMPLE_MS} serves them all (one `ps` per tree used to take
 * a whole core when the check ran twenty suites at once). Returns the
 * function that ends the watch.
 *
 * @example
 * ```ts ignore
 * import { capTreeMemory } from "./memory.ts";
 * const release = capTreeMemory(child.pid, 512, () => child.kill("SIGKILL"));
 * await child.status;
 * await release();
 * ```
 */
export function capTreeMemory(root: number, capMb: number, over: () => void): () => Promise<void> {
  capped.set(root, { capKb: capMb * 1024, over });
  stopSampling ??= every(CAP_SAMPLE_MS, async () => {
    const table = await processTable();
    for (const [pid, watch] of capped) {
      if (treeKb(table, pid) > watch.capKb) watch.over();
    }
  });
  return async () => {
    capped.delete(root);
    if (capped.size || !stopSampling) return;
    const stop = stopSampling;
    stopSampling = undefined;
    await stop();
  };
}

/**
 * Calls `sample` every `everyMs` (never two at once) until the returned stop
 * function is called; stopping waits for a sample still in flight, so no
 * `ps` process outlives its caller.
 *
 * @example
 * ```ts
 * import { every } from "./memory.ts";
 * const stop = every(10, async () => {});
 * await stop();
 * ```
 */
export function every(everyMs: number, sample: () => Promise<void>): () => Promise<void> {
  let current: Promise<void> | undefined;
  const timer = setInterval(() => {
    current ??= sample().catch(() => {}).finally(() => current = undefined);
  }, everyMs);
  return async () => {
    clearInterval(timer);
    await current;
  };
}

/**
 * Runs a command to its end while sampling its process tree's memory every
 * `everyMs`; returns the wall time and the peak in MiB.
 *
 * @example
 * ```ts ignore
 * import { measureCommand } from "./memory.ts";
 * const { ms, peakMb } = await measureCommand(Deno.execPath(), ["--version"]);
 * ```
 */
export async function measureCommand(
  command: string,
  args: string[],
  options: { cwd?: string; everyMs?: number } = {},
): Promise<{ ms: number; peakMb: number; code: number }> {
  const started = performance.now();
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let peak = 0;
  const stop = every(options.everyMs ?? 100, async () => {
    peak = Math.max(peak, await treeRssKb(child.pid));
  });
  const status = await child.status;
  await stop();
  return { ms: performance.now() - started, peakMb: peak / 1024, code: status.code };
}
