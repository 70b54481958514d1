/**
 * The course's structural rules, checked without running any lesson: every
 * lesson in the catalog has its four parts, the trees hold nothing the
 * catalog does not know, stubs and solutions export the same names, tests
 * point only at README sections that exist, and the README's test command is
 * the one CI runs.
 *
 * @module
 */

import { type Catalog, ROOT } from "./catalog.ts";
import { parseHints } from "./hints.ts";
import { loadMistakes } from "./mistakes.ts";
import { currentStubIds, STUBS_FILE } from "./reset.ts";

/** Fewest tests a lesson may have. */
export const MIN_TESTS = 6;
/** Fewest known mistakes a lesson may have. */
export const MIN_MISTAKES = 3;
/** Headings every lesson README must have. */
export const REQUIRED_HEADINGS = ["Exercises", "Hints"];
/** The hints every lesson README gives, in this order. */
export const HINT_TITLES = ["Hint 1 — nudge", "Hint 2 — approach", "Hint 3 — near-answer"];
/** Folders under tests/ that are not lessons. */
export const SHARED_TEST_FOLDERS = ["harness"];

/** One rule's outcome. */
export interface RuleResult {
  /** What was checked. */
  name: string;
  /** Problems found (empty: the rule holds). */
  problems: string[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function folders(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(path)) if (entry.isDirectory) names.push(entry.name);
  return names.sort();
}

/**
 * The headings (any level) of a markdown text, outside code fences.
 *
 * @example
 * ```ts
 * import { headings } from "./structure.ts";
 * headings("# A\n\n## B\n"); // ["A", "B"]
 * ```
 */
export function headings(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    else if (!fenced) {
      const m = line.match(/^#{1,6}\s+(.*?)\s*#*\s*$/);
      if (m) out.push(m[1]);
    }
  }
  return out;
}

/**
 * The test command that `.ci/run` runs (the line after `# test-command`).
 *
 * @example
 * ```ts ignore
 * import { ciTestCommand } from "./structure.ts";
 * await ciTestCommand(); // "npx -y deno@2.9.6 task check"
 * ```
 */
export async function ciTestCommand(): Promise<string | undefined> {
  const script = await Deno.readTextFile(`${ROOT}.ci/run`);
  const lines = script.split("\n");
  const at = lines.findIndex((l) => l.trim() === "# test-command");
  return at >= 0 ? lines[at + 1]?.trim() : undefined;
}

/** A value a stub hands the learner as it is: a primitive, or an array or plain object of them. */
function isData(value: unknown): boolean {
  if (value === null || typeof value !== "object") return typeof value !== "function";
  const proto = Object.getPrototypeOf(value);
  return Array.isArray(value) || proto === Object.prototype || proto === null;
}

/**
 * The exported data (constants such as a buffer size or a limit) in which a
 * stub differs from its solution. The tests import the learner's file and
 * expect the solution's values (a log line with the chunk size, a refusal at
 * the limit), so a learner who keeps the stub's constant must pass them.
 *
 * @example
 * ```ts
 * import { differingData } from "./structure.ts";
 * differingData("x.ts", { SIZE: 64, f() {} }, { SIZE: 256, f() {} });
 * // ["x.ts: the stub's SIZE is 64, the solution's 256: the tests expect the solution's"]
 * ```
 */
export function differingData(
  file: string,
  stub: Record<string, unknown>,
  solution: Record<string, unknown>,
): string[] {
  const show = (v: unknown): string =>
    typeof v === "bigint"
      ? `${v}n`
      : typeof v === "string" || typeof v === "object" && v !== null
      ? JSON.stringify(v)
      : String(v);
  return Object.keys(solution).filter((name) => name in stub && isData(solution[name]))
    .filter((name) =>
      typeof solution[name] === "object"
        ? show(stub[name]) !== show(solution[name])
        : !Object.is(stub[name], solution[name])
    )
    .map((name) =>
      `${file}: the stub's ${name} is ${show(stub[name])}, the solution's ${
        show(solution[name])
      }: the tests expect the solution's`
    );
}

/**
 * Checks every structural rule and returns one result per rule and lesson.
 *
 * @example
 * ```ts ignore
 * import { loadCatalog } from "./catalog.ts";
 * import { checkStructure } from "./structure.ts";
 * for (const rule of await checkStructure(await loadCatalog())) console.log(rule.name, rule.problems);
 * ```
 */
export async function checkStructure(catalog: Catalog): Promise<RuleResult[]> {
  const results: RuleResult[] = [];
  const ids = catalog.lessons.map((l) => l.id);

  const extra: string[] = [];
  for (const tree of ["lessons", "exercises", "solutions", "tests"]) {
    for (const name of await folders(`${ROOT}${tree}`)) {
      if (!ids.includes(name) && !(tree === "tests" && SHARED_TEST_FOLDERS.includes(name))) {
        extra.push(`${tree}/${name}/ is not a lesson in tools/course.json`);
      }
    }
  }
  results.push({ name: "the four trees hold only catalogued lessons", problems: extra });

  const command = await ciTestCommand();
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  results.push({
    name: "README gives the test command that .ci/run runs",
    problems: !command
      ? [".ci/run has no line after `# test-command`"]
      : readme.includes(command)
      ? []
      : [`README.md does not show \`${command}\``],
  });

  const mapProblems: string[] = [];
  const map = await Deno.readTextFile(`${ROOT}lessons/README.md`).catch(() => "");
  if (!map) mapProblems.push("lessons/README.md (the lesson map of every note) is missing");
  for (const row of map.split("\n").filter((l) => l.startsWith("| "))) {
    for (const cite of row.matchAll(/\[\d\d\]\((lesson-\d\d)\/README\.md\)((?: ?"[^"]+",?)+)/g)) {
      const text = await Deno.readTextFile(`${ROOT}lessons/${cite[1]}/README.md`).catch(() => "");
      for (const heading of cite[2].matchAll(/"([^"]+)"/g)) {
        if (!headings(text).includes(heading[1])) {
          mapProblems.push(`cites "${heading[1]}", not a heading of ${cite[1]}`);
        }
      }
    }
  }
  for (const id of ids) {
    if (map && !map.includes(`(${id}/README.md)`)) mapProblems.push(`never cites ${id}`);
  }
  results.push({
    name: "the lesson map cites lessons and sections that exist",
    problems: mapProblems,
  });

  const stubIds = await currentStubIds().catch(() => ({} as Record<string, string>));
  const recordedIds = JSON.parse(await Deno.readTextFile(STUBS_FILE).catch(() => "{}"));
  const stale = Object.keys(stubIds).filter((path) => recordedIds[path] !== stubIds[path]);
  results.push({
    name: "tools/stubs.json records every stub (deno task reset restores from it)",
    problems: stale.length
      ? [`out of date for ${stale.join(", ")}: run deno task check --record-stubs`]
      : [],
  });

  for (const lesson of catalog.lessons) {
    const problems: string[] = [];
    const readmePath = `${ROOT}lessons/${lesson.id}/README.md`;
    const text = (await exists(readmePath)) ? await Deno.readTextFile(readmePath) : undefined;
    if (text === undefined) problems.push(`missing lessons/${lesson.id}/README.md`);
    const heads = text ? headings(text) : [];
    for (const h of REQUIRED_HEADINGS) {
      if (text && !heads.includes(h)) {
        problems.push(`lessons/${lesson.id}/README.md has no "${h}" heading`);
      }
    }
    const hintTitles = text ? parseHints(text).map((h) => h.title) : [];
    if (text && hintTitles.join("|") !== HINT_TITLES.join("|")) {
      problems.push(
        `lessons/${lesson.id}/README.md hints are [${hintTitles.join(", ")}], not [${
          HINT_TITLES.join(", ")
        }]`,
      );
    }
    for (const file of lesson.files) {
      for (const tree of ["exercises", "solutions"]) {
        if (!(await exists(`${ROOT}${tree}/${lesson.id}/${file}`))) {
          problems.push(`missing ${tree}/${lesson.id}/${file}`);
        }
      }
      if (problems.length) continue;
      const stubModule = await import(`file://${ROOT}exercises/${lesson.id}/${file}`);
      const solutionModule = await import(`file://${ROOT}solutions/${lesson.id}/${file}`);
      const stub = Object.keys(stubModule).sort();
      const solution = Object.keys(solutionModule).sort();
      if (stub.join() !== solution.join()) {
        problems.push(`${file}: the stub exports [${stub}] but the solution exports [${solution}]`);
      }
      problems.push(...differingData(file, stubModule, solutionModule));
    }
    for (const tree of ["exercises", "solutions"]) {
      if (!(await exists(`${ROOT}${tree}/${lesson.id}`))) continue;
      for await (const entry of Deno.readDir(`${ROOT}${tree}/${lesson.id}`)) {
        if (!lesson.files.includes(entry.name)) {
          problems.push(`${tree}/${lesson.id}/${entry.name} is not in the lesson's files`);
        }
      }
    }
    if (lesson.program) {
      const module = await import(`file://${ROOT}solutions/${lesson.id}/${lesson.program}`).catch(
        () => ({}),
      );
      if (typeof module.server !== "function" && typeof module.client !== "function") {
        problems.push(`${lesson.program} exports no program role (server, client, …)`);
      }
    }
    let testCount = 0;
    const testDir = `${ROOT}tests/${lesson.id}`;
    if (await exists(testDir)) {
      for await (const entry of Deno.readDir(testDir)) {
        if (!entry.name.endsWith("_test.ts")) continue;
        const source = await Deno.readTextFile(`${testDir}/${entry.name}`);
        testCount += source.match(/^\s*Deno\.test\(/gm)?.length ?? 0;
        for (const m of source.matchAll(/\bsection\("([^"]+)"\)/g)) {
          if (text && !heads.includes(m[1])) {
            problems.push(
              `tests/${lesson.id}/${entry.name} points to section "${
                m[1]
              }", which the README lacks`,
            );
          }
        }
      }
    }
    if (testCount < MIN_TESTS) {
      problems.push(
        `tests/${lesson.id}/ has ${testCount} tests; at least ${MIN_TESTS} are required`,
      );
    }
    const mistakes = await loadMistakes(lesson).catch((e) => {
      problems.push(`tests/${lesson.id}/mistakes.ts: ${e.message}`);
      return [];
    });
    if (mistakes.length < MIN_MISTAKES) {
      problems.push(
        `tests/${lesson.id}/mistakes.ts lists ${mistakes.length} mistakes; at least ${MIN_MISTAKES} are required`,
      );
    }
    const seen = new Set<string>();
    for (const m of mistakes) {
      if (seen.has(m.id)) problems.push(`mistake id ${m.id} is used twice`);
      seen.add(m.id);
      if (!lesson.files.includes(m.file)) {
        problems.push(`mistake ${m.id} edits ${m.file}, not a lesson file`);
      }
      if (!m.summary || !m.caughtBy || !m.edits?.length) {
        problems.push(`mistake ${m.id} needs summary, edits and caughtBy`);
      }
    }
    results.push({ name: `${lesson.id} has its four parts and a consistent catalog`, problems });
  }
  return results;
}
