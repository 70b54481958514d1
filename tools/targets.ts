/**
 * Resolving what a command runs against: the learner's `exercises/` (the
 * default), `solutions/` (`--solutions`), or a folder laid out like
 * `exercises/` (`--submission DIR`). Bad folders are reported as one line.
 *
 * @module
 */

import { resolve } from "@std/path";
import { ROOT } from "./catalog.ts";
import type { Target } from "./import_map.ts";
import { UsageError } from "./usage_error.ts";

/** The learner's own files. */
export const EXERCISES: Target = { label: "exercises", dir: `${ROOT}exercises` };

/** The reference solutions. */
export const SOLUTIONS: Target = { label: "solutions", dir: `${ROOT}solutions` };

/**
 * A submission folder as a target, after checking that it is a folder.
 *
 * @example
 * ```ts ignore
 * import { submissionTarget } from "./targets.ts";
 * const target = await submissionTarget("subs/ann");
 * ```
 */
export async function submissionTarget(path: string): Promise<Target> {
  const dir = resolve(Deno.cwd(), path);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch {
    throw new UsageError(`submission folder not found: ${path}`);
  }
  if (!info.isDirectory) {
    throw new UsageError(`submission must be a folder laid out like exercises/: ${path}`);
  }
  return { label: path, dir };
}

/**
 * The target the flags ask for.
 *
 * @example
 * ```ts
 * import { targetFromFlags } from "./targets.ts";
 * const target = await targetFromFlags({ solutions: true });
 * target.label; // "solutions"
 * ```
 */
export async function targetFromFlags(
  flags: { solutions?: boolean; submission?: string },
): Promise<Target> {
  if (flags.solutions && flags.submission) {
    throw new UsageError("use either --solutions or --submission, not both");
  }
  if (flags.solutions) return SOLUTIONS;
  if (flags.submission) return await submissionTarget(flags.submission);
  return EXERCISES;
}

/**
 * The folder a target's lesson files live in, for messages.
 *
 * @example
 * ```ts
 * import { lessonPath, SOLUTIONS } from "./targets.ts";
 * lessonPath(SOLUTIONS, "lesson-03"); // "solutions/lesson-03/"
 * ```
 */
export function lessonPath(target: Target, lesson: string): string {
  const dir = target.dir.startsWith(ROOT) ? target.dir.slice(ROOT.length) : target.dir;
  return `${dir}/${lesson}/`;
}
