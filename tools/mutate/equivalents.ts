/**
 * Equivalent mutants: changes to a solution that no test can tell apart from
 * the original (the program behaves the same). Each lesson lists its own in
 * `tests/lesson-NN/equivalent_mutants.json`, one reason each; the mutation
 * score leaves them out, and the course check verifies that every entry still
 * names a mutant of the current solution.
 *
 * @module
 */

import { type Lesson, ROOT } from "../catalog.ts";
import { generateMutants, givenStatements, type Mutant } from "./mutants.ts";

/** One listed equivalent mutant. */
export interface Equivalent {
  /** The solution file's name inside its lesson folder. */
  file: string;
  /** The line when it was listed (informative; matching ignores it). */
  line: number;
  /** The source line, trimmed. */
  code: string;
  /** The replaced text. */
  from: string;
  /** The replacement. */
  to: string;
  /** One line: why no test can tell this mutant from the solution. */
  reason: string;
}

/** Where a lesson's equivalents are listed. */
export function equivalentsPath(lesson: Lesson): string {
  return `${ROOT}tests/${lesson.id}/equivalent_mutants.json`;
}

/**
 * A lesson's listed equivalents (none when it has no file).
 *
 * @example
 * ```ts ignore
 * const listed = await loadEquivalents(lesson);
 * ```
 */
export async function loadEquivalents(lesson: Lesson): Promise<Equivalent[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(equivalentsPath(lesson));
  } catch {
    return [];
  }
  return JSON.parse(text) as Equivalent[];
}

/**
 * Whether `mutant` is the one `entry` lists.
 *
 * @example
 * ```ts
 * import { matches } from "./equivalents.ts";
 * matches(
 *   { file: "a.ts", line: 9, code: "x < 3", from: "<", to: "<=", reason: "…" },
 *   { file: "a.ts", line: 2, operator: "comparison", start: 2, end: 3, from: "<", to: "<=", code: "x < 3" },
 * ); // true
 * ```
 */
export function matches(entry: Equivalent, mutant: Mutant): boolean {
  return entry.file === mutant.file && entry.code === mutant.code && entry.from === mutant.from &&
    entry.to === mutant.to;
}

/**
 * Every mutant of a lesson's reference solution, in file order, except in
 * the statements the stub gives word for word (see {@linkcode givenStatements}).
 *
 * @example
 * ```ts ignore
 * const mutants = await lessonMutants(lesson);
 * ```
 */
export async function lessonMutants(lesson: Lesson): Promise<Mutant[]> {
  const all: Mutant[] = [];
  for (const file of lesson.files) {
    const source = await Deno.readTextFile(`${ROOT}solutions/${lesson.id}/${file}`);
    const stub = await Deno.readTextFile(`${ROOT}exercises/${lesson.id}/${file}`).catch(() => "");
    const given = givenStatements(source, stub);
    all.push(
      ...generateMutants(file, source).filter((m) =>
        !given.some(([start, end]) => m.start >= start && m.end <= end)
      ),
    );
  }
  return all;
}

/**
 * Problems with a lesson's equivalents file (or with `entries`): entries
 * that name no mutant of the current solution, and entries without a
 * reason. Empty when it is in step with the code.
 *
 * @example
 * ```ts ignore
 * for (const problem of await staleEquivalents(lesson)) console.log(problem);
 * ```
 */
export async function staleEquivalents(
  lesson: Lesson,
  entries?: Equivalent[],
): Promise<string[]> {
  let listed: Equivalent[];
  try {
    listed = entries ?? await loadEquivalents(lesson);
  } catch (e) {
    return [`tests/${lesson.id}/equivalent_mutants.json: ${(e as Error).message}`];
  }
  const mutants = await lessonMutants(lesson);
  const problems: string[] = [];
  for (const entry of listed) {
    const where = `${entry.file}:${entry.line} \`${entry.from}\` → \`${entry.to}\``;
    if (!entry.reason?.trim()) problems.push(`${where}: no reason given`);
    if (!mutants.some((m) => matches(entry, m))) {
      problems.push(`${where}: no such mutant in the solution now (in: ${entry.code})`);
    }
  }
  return problems;
}
