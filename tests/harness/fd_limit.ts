/**
 * The low limit on open files (`RLIMIT_NOFILE`) a lesson suite runs under,
 * so that a test can run a server's process out of file descriptors. A suite
 * may not lower its own limit (that takes `--allow-run` or `--allow-ffi`, which
 * no suite has): `deno task test`, the check and the
 * grader start each lesson's `deno test` under `prlimit` on Linux, and say
 * so in the `COURSE_FD_LIMIT` variable. Without it (another OS, or `deno
 * test` by hand) the tests that need it are skipped, with the reason in
 * their names. This module has no side effects: the course's tools import it.
 *
 * @module
 */

/** The variable that tells a suite the limit on open files it runs under. */
export const FD_LIMIT_VARIABLE = "COURSE_FD_LIMIT";

/**
 * The limit on open files the course's runners set for a suite on Linux
 * (hard and soft: Deno raises its soft limit to the hard one when it starts).
 */
export const SUITE_FD_LIMIT = 256;

/** Why the test is skipped when no low limit is set. */
const SKIP_REASON = "(skipped: needs the low open-file limit that `deno task test` sets on Linux)";

/**
 * The limit on open files this suite runs under, if its runner set one
 * (undefined when the variable is absent or may not be read).
 *
 * @example
 * ```ts
 * import { suiteFdLimit } from "./fd_limit.ts";
 * suiteFdLimit(); // 256 under `deno task test` on Linux
 * ```
 */
export function suiteFdLimit(): number | undefined {
  const allowed = Deno.permissions.querySync({ name: "env", variable: FD_LIMIT_VARIABLE });
  if (allowed.state !== "granted") return undefined;
  const value = Number(Deno.env.get(FD_LIMIT_VARIABLE));
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * Options for `Deno.test` that skip a test unless the suite runs under a
 * known low limit on open files, saying why in the test's name.
 *
 * @example
 * ```ts
 * import { lowFdLimitTest } from "./fd_limit.ts";
 * Deno.test({ ...lowFdLimitTest("server: survives EMFILE"), fn() {} });
 * ```
 */
export function lowFdLimitTest(name: string): { name: string; ignore: boolean } {
  const ready = Deno.build.os === "linux" && suiteFdLimit() !== undefined;
  return { name: ready ? name : `${name} ${SKIP_REASON}`, ignore: !ready };
}
