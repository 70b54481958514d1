/**
 * The batch gradebook as CSV, safe to open in a spreadsheet: a cell that
 * begins with `=`, `+`, `-`, `@`, a tab or a carriage return (which a
 * spreadsheet would run as a formula) is prefixed with `'`.
 *
 * @module
 */

import type { Lesson } from "../catalog.ts";
import type { Grade } from "./grading.ts";

/**
 * A text cell as a spreadsheet will show it, never run it: a leading `=`,
 * `+`, `-`, `@`, tab or CR gets a `'` in front.
 *
 * @example
 * ```ts
 * import { neutralised } from "./gradebook.ts";
 * neutralised('=HYPERLINK("http://example.com")'); // `'=HYPERLINK("http://example.com")`
 * neutralised("ann"); // "ann"
 * ```
 */
export function neutralised(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/**
 * One gradebook row per submission, as CSV with a header.
 *
 * @example
 * ```ts ignore
 * import { gradebookCsv } from "./gradebook.ts";
 * await Deno.writeTextFile("gradebook.csv", gradebookCsv(grades, catalog.lessons));
 * ```
 */
export function gradebookCsv(
  rows: { name: string; grade?: Grade; error?: string }[],
  lessons: Lesson[],
): string {
  const quote = (v: string | number) => {
    const text = typeof v === "string" ? neutralised(v) : String(v);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const header = [
    "submission",
    "points",
    "max_points",
    "percent",
    ...lessons.map((l) => l.id),
    "problems",
  ];
  const lines = rows.map(({ name, grade, error }) => {
    if (!grade) return [name, 0, "", "", ...lessons.map(() => ""), `unusable: ${error}`];
    const percent = grade.maxPoints ? Math.round((grade.points / grade.maxPoints) * 1000) / 10 : 0;
    const problems = grade.lessons.flatMap((l) => l.violations.map((v) => `${l.lesson}: ${v}`))
      .join("; ");
    return [
      name,
      grade.points,
      grade.maxPoints,
      percent,
      ...lessons.map((l) => grade.lessons.find((g) => g.lesson === l.id)?.points ?? ""),
      problems,
    ];
  });
  return [header, ...lines].map((row) => row.map(quote).join(",")).join("\n") + "\n";
}
