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
