/**
 * `deno task classroom [--out FILE]` — writes a GitHub Classroom
 * autograding workflow for the course: one grader step per lesson, worth that
 * lesson's points (its tests × points per test × weight, all or nothing, as
 * Classroom's command grader scores), plus the reporter step. Commit the
 * file as `.github/workflows/classroom.yml` in the assignment's template
 * repository.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { type Catalog, loadCatalog } from "../catalog.ts";
import { referenceTests } from "./grading.ts";
import { runMain, UsageError } from "../usage_error.ts";

/** Per-lesson timeout for a Classroom step, in minutes. */
export const STEP_TIMEOUT_MINUTES = 5;

/**
 * The workflow YAML, given each lesson's points.
 *
 * @example
 * ```ts
 * import { workflowYaml } from "./classroom.ts";
 * const yaml = workflowYaml(
 *   { title: "t", version: "1", lessons: [
 *     { id: "lesson-01", title: "Bytes", notes: ["x"], files: ["a.ts"], net: [] },
 *   ] },
 *   new Map([["lesson-01", 9]]),
 * );
 * yaml.includes("max-score: 9"); // true
 * ```
 */
export function workflowYaml(
  catalog: Pick<Catalog, "title" | "version" | "lessons">,
  points: Map<string, number>,
): string {
  const id = (lesson: string) => lesson.replace("-", "");
  const steps = catalog.lessons.map((l) =>
    [
      `      - name: ${JSON.stringify(`${l.id} ${l.title}`)}`,
      `        id: ${id(l.id)}`,
      `        uses: classroom-resources/autograding-command-grader@v1`,
      `        with:`,
      `          test-name: ${JSON.stringify(`${l.id} ${l.title}`)}`,
      `          setup-command: ""`,
      `          command: deno task test ${l.id}`,
      `          timeout: ${STEP_TIMEOUT_MINUTES}`,
      `          max-score: ${points.get(l.id) ?? 0}`,
    ].join("\n")
  );
  return [
    `# Autograding for ${
      JSON.stringify(catalog.title)
    } v${catalog.version}, written by deno task classroom.`,
    "# Each step runs one lesson's tests against the student's exercises/ and awards",
    "# that lesson's points when all of them pass.",
    "name: Autograding Tests",
    "on: [push, repository_dispatch]",
    "permissions:",
    "  checks: write",
    "  actions: read",
    "  contents: read",
    "jobs:",
    "  run-autograding-tests:",
    "    runs-on: ubuntu-latest",
    "    if: github.actor != 'github-classroom[bot]'",
    "    steps:",
    "      - name: Checkout code",
    "        uses: actions/checkout@v4",
    "      - name: Install Deno",
    "        run: npm install -g deno@2.9.6",
    ...steps,
    "      - name: Autograding Reporter",
    "        uses: classroom-resources/autograding-grading-reporter@v1",
    "        env:",
    ...catalog.lessons.map((l) =>
      `          ${id(l.id).toUpperCase()}_RESULTS: "\${{ steps.${id(l.id)}.outputs.result }}"`
    ),
    "        with:",
    `          runners: ${catalog.lessons.map((l) => id(l.id)).join(",")}`,
    "",
  ].join("\n");
}

async function main(): Promise<number> {
  const flags = parseArgs(Deno.args, {
    string: ["out"],
    boolean: ["help"],
    unknown: (arg: string) => {
      throw new UsageError(`unexpected ${arg}; usage: deno task classroom [--out FILE]`);
    },
  });
  if (flags.help) {
    console.log("usage: deno task classroom [--out FILE]   (default: print the workflow)");
    return 0;
  }
  const catalog = await loadCatalog();
  const points = new Map<string, number>();
  for (const lesson of catalog.lessons) {
    const reference = await referenceTests(lesson);
    const counted = reference.tests.filter((t) => !t.skipped).length;
    points.set(lesson.id, counted * catalog.scoring.pointsPerTest * (lesson.weight ?? 1));
  }
  const yaml = workflowYaml(catalog, points);
  if (flags.out) {
    await Deno.writeTextFile(flags.out, yaml);
    console.error(
      `Wrote ${flags.out}: commit it as .github/workflows/classroom.yml in the template repository.`,
    );
  } else console.log(yaml);
  return 0;
}

if (import.meta.main) await runMain("classroom", main);
