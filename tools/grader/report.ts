/**
 * Grade reports in the formats instructors' tools read: a text table, JSON
 * (schema in `tools/grader/schema.json`), JUnit XML, Markdown (fits
 * `$GITHUB_STEP_SUMMARY`), and Exercism's `results.json` (version 3) per lesson.
 *
 * @module
 */

import type { Grade, GradedLesson } from "./grading.ts";

/** The formats `deno task grade --format` accepts. */
export const FORMATS = ["text", "json", "junit", "markdown", "exercism"] as const;

/** One of {@linkcode FORMATS}. */
export type Format = typeof FORMATS[number];

/** The JSON schema identifier written into every JSON report. */
export const SCHEMA = "course-grade/1";

function firstLine(text: string): string {
  return text.split("\n")[0].trim();
}

function firstFailure(lesson: GradedLesson): string {
  if (lesson.violations.length) return `violation: ${lesson.violations.join("; ")}`;
  if (lesson.problem) return firstLine(lesson.problem);
  const failed = lesson.tests.find((t) => t.status === "fail");
  return failed ? `${failed.name}: ${firstLine(failed.message)}` : "";
}

function passedCount(lesson: GradedLesson): string {
  const counted = lesson.tests.filter((t) => t.status !== "skip");
  return `${counted.filter((t) => t.status === "pass").length}/${counted.length}`;
}

function clip(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/**
 * A plain-text score table, one row per lesson, within 100 columns.
 *
 * @example
 * ```ts ignore
 * console.log(textReport(grade));
 * ```
 */
export function textReport(grade: Grade): string {
  const rows = grade.lessons.map((l) =>
    `${l.lesson.padEnd(10)} ${passedCount(l).padStart(6)} ${
      `${l.points}/${l.maxPoints}`.padStart(7)
    }  ${clip(firstFailure(l), 70)}`
  );
  return [
    `Submission: ${grade.submission}  (course v${grade.courseVersion}, graded ${grade.gradedAt})`,
    `Sandbox: ${grade.sandbox}`,
    "",
    `${"lesson".padEnd(10)} ${"tests".padStart(6)} ${"points".padStart(7)}  first failure`,
    ...rows,
    "",
    `Total: ${grade.points}/${grade.maxPoints} points`,
  ].join("\n");
}

/**
 * The JSON report: per lesson and per test (name, lesson, status, points,
 * message, duration).
 *
 * @example
 * ```ts ignore
 * const report = jsonReport(grade);
 * ```
 */
export function jsonReport(grade: Grade): Record<string, unknown> {
  return {
    schema: SCHEMA,
    submission: grade.submission,
    courseVersion: grade.courseVersion,
    gradedAt: grade.gradedAt,
    sandbox: grade.sandbox,
    points: grade.points,
    maxPoints: grade.maxPoints,
    lessons: grade.lessons.map((l) => ({
      lesson: l.lesson,
      title: l.title,
      points: l.points,
      maxPoints: l.maxPoints,
      passed: l.tests.filter((t) => t.status === "pass").length,
      total: l.tests.filter((t) => t.status !== "skip").length,
      problem: l.problem ?? null,
      violations: l.violations,
      durationMs: l.ms,
    })),
    tests: grade.lessons.flatMap((l) =>
      l.tests.map((t) => ({
        lesson: l.lesson,
        name: t.name,
        status: t.status,
        points: t.points,
        maxPoints: t.maxPoints,
        message: t.message,
        durationMs: t.ms,
      }))
    ),
  };
}

/**
 * One lesson in Exercism's `results.json` (version 3) shape.
 *
 * @example
 * ```ts ignore
 * await Deno.writeTextFile("results.json", JSON.stringify(exercismResults(grade.lessons[0])));
 * ```
 */
export function exercismResults(lesson: GradedLesson): Record<string, unknown> {
  const error = lesson.violations.length > 0 || lesson.problem !== undefined;
  const passed = lesson.tests.every((t) => t.status !== "fail");
  return {
    version: 3,
    status: error ? "error" : passed ? "pass" : "fail",
    ...(error
      ? { message: [...lesson.violations, lesson.problem ?? ""].filter(Boolean).join("\n") }
      : {}),
    tests: lesson.tests.filter((t) => t.status !== "skip").map((t) => ({
      name: t.name,
      status: t.status,
      ...(t.status === "fail" ? { message: t.message } : {}),
      test_code: "",
    })),
  };
}

function xml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => `&${{ "<": "lt", ">": "gt", "&": "amp", '"': "quot", "'": "apos" }[c]};`,
  )
    // deno-lint-ignore no-control-regex
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "");
}

/**
 * JUnit XML: one testsuite per lesson; sandbox violations as a failing
 * `(sandbox)` test case.
 *
 * @example
 * ```ts ignore
 * await Deno.writeTextFile("grade.xml", junitReport(grade));
 * ```
 */
export function junitReport(grade: Grade): string {
  const suites = grade.lessons.map((l) => {
    const cases = l.tests.map((t) => {
      const open = `    <testcase classname="${l.lesson}" name="${xml(t.name)}" time="${
        (t.ms / 1000).toFixed(3)
      }">`;
      if (t.status === "pass") return `${open}</testcase>`;
      if (t.status === "skip") return `${open}<skipped/></testcase>`;
      return `${open}\n      <failure message="${xml(firstLine(t.message))}">${
        xml(t.message)
      }</failure>\n    </testcase>`;
    });
    if (l.violations.length) {
      cases.push(
        `    <testcase classname="${l.lesson}" name="(sandbox)" time="0">\n      <failure message="${
          xml(l.violations[0])
        }">${xml(l.violations.join("\n"))}</failure>\n    </testcase>`,
      );
    }
    const failures = l.tests.filter((t) => t.status === "fail").length +
      (l.violations.length ? 1 : 0);
    const skipped = l.tests.filter((t) => t.status === "skip").length;
    const properties = `    <properties><property name="sandbox" value="${
      xml(grade.sandbox)
    }"/></properties>`;
    return `  <testsuite name="${l.lesson} · ${
      xml(l.title)
    }" tests="${cases.length}" failures="${failures}" ` +
      `skipped="${skipped}" time="${(l.ms / 1000).toFixed(3)}">\n${properties}\n${
        cases.join("\n")
      }\n  </testsuite>`;
  });
  const tests = grade.lessons.reduce(
    (n, l) => n + l.tests.length + (l.violations.length ? 1 : 0),
    0,
  );
  const failures = grade.lessons.reduce(
    (n, l) => n + l.tests.filter((t) => t.status === "fail").length + (l.violations.length ? 1 : 0),
    0,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${
    xml(`${grade.submission} (course v${grade.courseVersion})`)
  }" ` +
    `tests="${tests}" failures="${failures}">\n${suites.join("\n")}\n</testsuites>\n`;
}

/**
 * A Markdown table for `$GITHUB_STEP_SUMMARY` or an LMS comment.
 *
 * @example
 * ```ts ignore
 * await Deno.writeTextFile(Deno.env.get("GITHUB_STEP_SUMMARY")!, markdownReport(grade));
 * ```
 */
export function markdownReport(grade: Grade): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
  return [
    `### ${cell(grade.submission)}: ${grade.points}/${grade.maxPoints} points`,
    "",
    `Course v${grade.courseVersion}, graded ${grade.gradedAt}. Sandbox: ${cell(grade.sandbox)}.`,
    "",
    "| lesson | tests | points | first failure |",
    "| ------ | ----: | -----: | ------------- |",
    ...grade.lessons.map((l) =>
      `| ${l.lesson} ${cell(l.title)} | ${passedCount(l)} | ${l.points}/${l.maxPoints} | ${
        cell(clip(firstFailure(l), 120))
      } |`
    ),
    "",
  ].join("\n");
}

/**
 * Renders a grade in `format` (Exercism as one object keyed by lesson).
 *
 * @example
 * ```ts ignore
 * console.log(render(grade, "markdown"));
 * ```
 */
export function render(grade: Grade, format: Format): string {
  switch (format) {
    case "text":
      return textReport(grade);
    case "json":
      return JSON.stringify(jsonReport(grade), null, 2);
    case "junit":
      return junitReport(grade);
    case "markdown":
      return markdownReport(grade);
    case "exercism":
      return JSON.stringify(
        // Exercism ignores keys it does not know: each lesson also names the sandbox it ran in.
        Object.fromEntries(
          grade.lessons.map((l) => [l.lesson, { ...exercismResults(l), sandbox: grade.sandbox }]),
        ),
        null,
        2,
      );
  }
}
