/**
 * Retargeting the learner's imports. Tests import `exercises/lesson-NN/…`
 * statically (so the editor type-checks the learner's code); to run the same
 * tests against `solutions/`, a submission folder or a known-mistake variant,
 * the runner hands `deno test` an import map whose key is the absolute URL of
 * `exercises/`. No file is edited or copied.
 *
 * @module
 */

import { toFileUrl } from "@std/path";
import { ROOT } from "./catalog.ts";

/** What a suite runs against. */
export interface Target {
  /** Short label for reports: `exercises`, `solutions`, a submission's name, a mistake's id. */
  label: string;
  /** Absolute path of a folder laid out like `exercises/` (lesson-NN/…). */
  dir: string;
  /**
   * Files that replace some of `dir`'s files: paths relative to `dir`
   * (e.g. `lesson-03/udp_local.ts`) found under `overlay.dir` instead.
   */
  overlay?: { dir: string; files: string[] };
  /** Make the reference solutions unimportable (for graded submissions). */
  blockSolutions?: boolean;
}

/** Where imports of `solutions/` lead in a graded run: nowhere. */
export const BLOCKED_SOLUTIONS = "file:///solutions-are-off-limits-to-submissions/";

/** Folder URL with a trailing slash, as import-map prefix keys need. */
function folderUrl(path: string): string {
  const url = toFileUrl(path).href;
  return url.endsWith("/") ? url : `${url}/`;
}

/**
 * Builds the import map for `target`: deno.json's own imports (made absolute)
 * plus the retargeting entries.
 *
 * @example
 * ```ts
 * import { importMapFor } from "./import_map.ts";
 * import { ROOT } from "./catalog.ts";
 * const map = await importMapFor({ label: "solutions", dir: `${ROOT}solutions` });
 * map.imports[`file://${ROOT}exercises/`]; // "file:///…/solutions/"
 * ```
 */
export async function importMapFor(target: Target): Promise<{ imports: Record<string, string> }> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const imports: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.imports as Record<string, string>)) {
    imports[name] = value.startsWith("./") ? new URL(value, folderUrl(ROOT)).href : value;
  }
  const dir = folderUrl(target.dir);
  imports[folderUrl(`${ROOT}exercises`)] = dir;
  if (target.overlay) {
    const overlay = folderUrl(target.overlay.dir);
    imports[overlay] = dir;
    for (const file of target.overlay.files) {
      imports[new URL(file, folderUrl(`${ROOT}exercises`)).href] = new URL(file, overlay).href;
      imports[new URL(file, dir).href] = new URL(file, overlay).href;
    }
  }
  if (target.blockSolutions) imports[folderUrl(`${ROOT}solutions`)] = BLOCKED_SOLUTIONS;
  return { imports };
}
