/**
 * Which of a lesson's test modules a change to one of its files can reach.
 *
 * A known mistake edits one solution file. A test module whose imports never
 * lead to that file runs the reference solution's code only, so its tests
 * give the reference's results, and the grader (one isolate per test module)
 * would grade them the same. The check runs a mistake only against the
 * modules it can reach (tools/mistake_batch.ts).
 *
 * The imports are read with the TypeScript compiler's `preProcessFile` (static
 * imports, re-exports and `import()`; never an import quoted in a comment or a
 * JSDoc example), followed through every local module, with
 * `exercises/lesson-NN/` standing for `solutions/lesson-NN/` as in a run on
 * the solutions. A module that names a lesson file in a string instead (to
 * read it or run it as a program) cannot be followed, so it counts as
 * reaching every file.
 *
 * @module
 */

import ts from "typescript";
import { fromFileUrl, toFileUrl } from "@std/path";
import { type Lesson, ROOT } from "./catalog.ts";

/** A lesson file named outside an import: `"…/exercises/lesson-16/x.ts"` in a string or URL. */
const NAMED_IN_TEXT = /["'`][^"'`\n]*\b(?:exercises|solutions)\/lesson-\d\d\/[^"'`\n]*["'`]/;

/** A module's local imports (file URLs) and whether it names a lesson file outside an import. */
interface Scan {
  imports: string[];
  namesLessonFiles: boolean;
}

async function scan(url: string): Promise<Scan> {
  const source = await Deno.readTextFile(fromFileUrl(url));
  const imports = ts.preProcessFile(source, true, true).importedFiles
    .map((f) => f.fileName)
    .filter((s) => s.startsWith(".") || s.startsWith("/") || s.startsWith("file:"))
    .map((s) => new URL(s, url).href);
  // Imports name lesson files too (as do comments); only other mentions count.
  const rest = source
    .replace(/(?:\bfrom|\bimport)\s*\(?\s*(["'])[^"'\n]*\1/g, "")
    .split("\n").filter((line) => !/^\s*(?:\*|\/\/|\/\*)/.test(line)).join("\n");
  return { imports, namesLessonFiles: NAMED_IN_TEXT.test(rest) };
}

/**
 * The names of `lesson`'s test modules (`x_test.ts`) that can reach the
 * solution file `file`, in name order.
 *
 * @example
 * ```ts
 * import { findLesson, loadCatalog } from "./catalog.ts";
 * import { testsReaching } from "./test_reach.ts";
 * const lesson = findLesson(await loadCatalog(), "9");
 * console.log(await testsReaching(lesson, "client.ts"));
 * // ["client_test.ts", "end_to_end_test.ts"]
 * ```
 */
export async function testsReaching(
  lesson: Lesson,
  file: string,
  root: string = ROOT,
): Promise<string[]> {
  const exercises = toFileUrl(`${root}exercises/${lesson.id}/`).href;
  const solutions = toFileUrl(`${root}solutions/${lesson.id}/`).href;
  const tests = `${root}tests/${lesson.id}`;
  const target = `${solutions}${file}`;
  const local = toFileUrl(root).href;
  const scans = new Map<string, Promise<Scan>>();
  const scanOf = (url: string) => {
    if (!scans.has(url)) scans.set(url, scan(url));
    return scans.get(url)!;
  };
  const reaches = async (start: string): Promise<boolean> => {
    const seen = new Set<string>();
    const todo = [start];
    while (todo.length) {
      let url = todo.pop()!;
      if (url.startsWith(exercises)) url = solutions + url.slice(exercises.length);
      if (url === target) return true;
      if (seen.has(url) || !url.startsWith(local)) continue;
      seen.add(url);
      const { imports, namesLessonFiles } = await scanOf(url);
      if (namesLessonFiles) return true;
      todo.push(...imports);
    }
    return false;
  };
  const names: string[] = [];
  for await (const entry of Deno.readDir(tests)) {
    if (entry.isFile && entry.name.endsWith("_test.ts")) names.push(entry.name);
  }
  names.sort();
  const reached = await Promise.all(
    names.map((name) => reaches(toFileUrl(`${tests}/${name}`).href)),
  );
  return names.filter((_, i) => reached[i]);
}
