/**
 * Scratch folders for a run (import maps, JUnit reports, mistake variants),
 * kept under `.course/tmp/` in the repository so the course's commands need
 * write access to `.course/` only. Each is removed when its run ends.
 *
 * @module
 */

import { ROOT } from "./catalog.ts";

/** Where scratch folders are made. */
export const SCRATCH = `${ROOT}.course/tmp`;

/**
 * Runs `body` with a fresh scratch folder and removes the folder afterwards.
 *
 * @example
 * ```ts ignore
 * import { withScratch } from "./scratch.ts";
 * await withScratch("demo", async (dir) => await Deno.writeTextFile(`${dir}/x`, "y"));
 * ```
 */
export async function withScratch<T>(
  prefix: string,
  body: (dir: string) => Promise<T>,
): Promise<T> {
  await Deno.mkdir(SCRATCH, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: SCRATCH, prefix: `${prefix}-` });
  try {
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Takes the exclusive lock on `<path>.lock` (made if missing) for a folder
 * at `path` that runs share from one to the next, without waiting: the open
 * lock file while this run holds it (closing it releases the lock, and so
 * does the end of the process, however it ends), or undefined while another
 * run holds it.
 *
 * @example
 * ```ts ignore
 * import { lockFolder } from "./scratch.ts";
 * const lock = await lockFolder(".course/learner-clones/0");
 * if (lock) {
 *   // the folder is this run's
 *   lock.close();
 * }
 * ```
 */
export async function lockFolder(path: string): Promise<Deno.FsFile | undefined> {
  const lock = await Deno.open(`${path}.lock`, { write: true, create: true });
  if (await lock.tryLock(true)) return lock;
  lock.close();
  return undefined;
}

/**
 * Runs `body` in the scratch folder `name`, the same path every run, then
 * removes it: files written there keep their paths from one run to the
 * next, so caches keyed by path (Deno's transpiled code) still serve them.
 * A run holds the folder by {@linkcode lockFolder} (a check stopped with
 * Ctrl-C leaves the folder, and the next run clears it). While another run
 * holds it, `body` gets a fresh folder of its own, as
 * {@linkcode withScratch} gives, and `fixed` is false.
 *
 * @example
 * ```ts ignore
 * import { withFixedScratch } from "./scratch.ts";
 * await withFixedScratch("mistakes-lesson-03", async (dir, fixed) => {
 *   // dir is .course/tmp/mistakes-lesson-03 when fixed
 * });
 * ```
 */
export async function withFixedScratch<T>(
  name: string,
  body: (dir: string, fixed: boolean) => Promise<T>,
): Promise<T> {
  await Deno.mkdir(SCRATCH, { recursive: true });
  const dir = `${SCRATCH}/${name}`;
  const lock = await lockFolder(dir);
  if (!lock) return await withScratch(name, (fresh) => body(fresh, false));
  try {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.mkdir(dir);
    try {
      return await body(dir, true);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  } finally {
    lock.close();
  }
}
