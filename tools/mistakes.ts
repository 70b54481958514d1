/**
 * The known-mistake catalog. Each lesson keeps, in `tests/lesson-NN/mistakes.ts`,
 * the bugs learners really write, as small edits to the reference solution.
 * The course check applies each edit in a temporary folder, runs the lesson's
 * suite against that variant, and requires a failing test whose message
 * names the mistake.
 *
 * @module
 */

import { dirname } from "@std/path";
import { type Lesson, ROOT } from "./catalog.ts";
import type { Target } from "./import_map.ts";

/** One textual edit: `find` must occur exactly once in the solution file. */
export interface Edit {
  /** Text in the reference solution. */
  find: string;
  /** What the mistaken version has there instead. */
  replace: string;
}

/** A bug learners write, and how the suite must name it when it catches it. */
export interface Mistake {
  /** Short kebab-case name, e.g. `single-read`. */
  id: string;
  /** One line: what the learner did. */
  summary: string;
  /** The solution file it changes (a name from the lesson's `files`). */
  file: string;
  /** The edits that turn the solution into the mistake. */
  edits: Edit[];
  /** Text that a failing test's message must contain: the suite names the mistake. */
  caughtBy: string;
  /**
   * Why the text of its failure differs from run to run (say, the size of a
   * chunk the kernel happened to deliver): the pinned output is then the
   * names of the failing tests only.
   */
  varyingOutput?: string;
  /**
   * Tests that catch it only on some runs (a real socket may coalesce
   * one-byte writes into one read, say), and why. Their failures are left
   * out of the pinned output, and another test must catch it on every run.
   */
  caughtSometimesBy?: { tests: string[]; why: string };
}

/**
 * Loads a lesson's mistakes (an empty list when it has no catalog).
 *
 * @example
 * ```ts
 * import { findLesson, loadCatalog } from "./catalog.ts";
 * import { loadMistakes } from "./mistakes.ts";
 * const mistakes = await loadMistakes(findLesson(await loadCatalog(), "3"));
 * ```
 */
export async function loadMistakes(lesson: Lesson): Promise<Mistake[]> {
  const path = `${ROOT}tests/${lesson.id}/mistakes.ts`;
  try {
    await Deno.stat(path);
  } catch {
    return [];
  }
  const module = await import(`file://${path}`);
  return module.mistakes as Mistake[];
}

/**
 * Applies a mistake's edits to `source`. Throws if an edit's `find` text is
 * not there exactly once (the solution changed under the catalog).
 *
 * @example
 * ```ts
 * import { applyEdits } from "./mistakes.ts";
 * applyEdits("a + b", [{ find: "+", replace: "-" }], "x"); // "a - b"
 * ```
 */
export function applyEdits(source: string, edits: Edit[], id: string): string {
  let out = source;
  for (const { find, replace } of edits) {
    const count = out.split(find).length - 1;
    if (count !== 1) {
      throw new Error(
        `mistake ${id}: expected the text ${
          JSON.stringify(find)
        } once in the solution, found it ${count} times`,
      );
    }
    out = out.replace(find, () => replace);
  }
  return out;
}

/**
 * Writes the mistaken file into `work` and returns the target that runs the
 * suite against the solutions with that one file replaced.
 *
 * @example
 * ```ts ignore
 * import { variantTarget } from "./mistakes.ts";
 * const target = await variantTarget(lesson, mistake, await Deno.makeTempDir());
 * ```
 */
export async function variantTarget(
  lesson: Lesson,
  mistake: Mistake,
  work: string,
): Promise<Target> {
  const relative = `${lesson.id}/${mistake.file}`;
  const source = await Deno.readTextFile(`${ROOT}solutions/${relative}`);
  const path = `${work}/${relative}`;
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeTextFile(path, applyEdits(source, mistake.edits, mistake.id));
  return {
    label: `mistake ${mistake.id}`,
    dir: `${ROOT}solutions`,
    overlay: { dir: work, files: [relative] },
  };
}
