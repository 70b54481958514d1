/**
 * Running a course command as a learner types it (`deno task -q NAME …`) in
 * a copy of the course, and collecting what it printed: used by the tooling's
 * own tests to drive the commands end to end, and by `deno task soak`.
 *
 * @module
 */

import { ROOT } from "./catalog.ts";

/** What a finished command left behind. */
export interface TaskOutcome {
  /** Exit code. */
  code: number;
  /** Standard output, decoded. */
  out: string;
  /** Standard error, decoded. */
  err: string;
}

/**
 * Runs `deno task -q …args` in `dir` (default: this course) with colour off.
 *
 * @example
 * ```ts ignore
 * import { runTask } from "./task_process.ts";
 * const { code, out } = await runTask(["test", "3", "--solutions"]);
 * ```
 */
export async function runTask(args: string[], dir: string = ROOT): Promise<TaskOutcome> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", ...args],
    cwd: dir,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: result.code, out: decode(result.stdout), err: decode(result.stderr) };
}
