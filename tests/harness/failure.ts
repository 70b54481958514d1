/**
 * The failure every lesson test throws: what was checked, what the wire
 * showed against what was expected, the likely mistake, the lesson section to
 * reread, and the transcript of what crossed the test's sockets
 * (`wire.ts`). The runner prints its message as it is, so the message
 * is written for the learner.
 *
 * @module
 */

import { wire } from "./wire.ts";

/** A heading in a lesson's README that a failure points the learner back to. */
export interface Section {
  /** Lesson ID, e.g. `lesson-03`. */
  lesson: string;
  /** The heading's text exactly as written in the README. */
  heading: string;
}

/**
 * Names a section of a lesson's README. The course check verifies that every
 * `section("…")` a test names exists as a heading in that lesson's README.
 *
 * @example
 * ```ts
 * import { sectionsOf } from "./failure.ts";
 * const section = sectionsOf("lesson-03");
 * section("The server loop"); // { lesson: "lesson-03", heading: "The server loop" }
 * ```
 */
export function sectionsOf(lesson: string): (heading: string) => Section {
  return (heading) => ({ lesson, heading });
}

/**
 * The GitHub-style anchor of a heading: lower case, punctuation dropped,
 * spaces to dashes.
 *
 * @example
 * ```ts
 * import { anchor } from "./failure.ts";
 * anchor("Port 0: let the OS choose"); // "port-0-let-the-os-choose"
 * ```
 */
export function anchor(heading: string): string {
  return heading.toLowerCase().trim().replace(/[^\p{L}\p{N}\s-]/gu, "").replace(/\s/g, "-");
}

/**
 * Renders a section as the line a learner can follow.
 *
 * @example
 * ```ts
 * import { reread } from "./failure.ts";
 * reread({ lesson: "lesson-03", heading: "The server loop" });
 * // 'lessons/lesson-03/README.md#the-server-loop ("The server loop")'
 * ```
 */
export function reread(section: Section): string {
  return `lessons/${section.lesson}/README.md#${anchor(section.heading)} ("${section.heading}")`;
}

/** What a failed check reports. Only `summary` and `section` are required. */
export interface FailureReport {
  /** One line: what was being checked and what went wrong. */
  summary: string;
  /** Where to read up on it. */
  section: Section;
  /** What the test expected, already formatted for display. */
  expected?: string;
  /** What the test observed, already formatted for display. */
  got?: string;
  /** A line under `got` (e.g. a caret at the first differing byte). */
  marker?: string;
  /** The mistake this symptom usually comes from, named for the learner. */
  mistake?: string;
  /** Extra lines (a transcript, a detail). */
  detail?: string[];
}

/** The error a lesson test throws; its message is the whole report. */
export class LessonFailure extends Error {
  /** The structured report the message was made from. */
  readonly report: FailureReport;

  /**
   * @example
   * ```ts
   * import { LessonFailure } from "./failure.ts";
   * const f = new LessonFailure({ summary: "no reply", section: { lesson: "lesson-03", heading: "Sockets" } });
   * f.message.startsWith("no reply"); // true
   * ```
   */
  constructor(report: FailureReport) {
    super(render(report));
    this.name = "LessonFailure";
    this.report = report;
  }
}

function render(r: FailureReport): string {
  const lines = [r.summary];
  if (r.expected !== undefined) lines.push(`  expected: ${r.expected}`);
  if (r.got !== undefined) lines.push(`  got:      ${r.got}`);
  if (r.marker !== undefined) lines.push(`            ${r.marker}`);
  for (const d of r.detail ?? []) lines.push(`  ${d}`);
  if (r.mistake !== undefined) lines.push(`  likely mistake: ${r.mistake}`);
  lines.push(`  reread: ${reread(r.section)}`);
  const transcript = wire.transcript();
  if (transcript.length) {
    lines.push("  on the wire, in this test:");
    for (const line of transcript) lines.push(`    ${line}`);
  }
  return lines.join("\n");
}

/**
 * Throws a {@linkcode LessonFailure}.
 *
 * @example
 * ```ts
 * import { fail } from "./failure.ts";
 * try {
 *   fail({ summary: "no reply", section: { lesson: "lesson-03", heading: "Sockets" } });
 * } catch (e) {
 *   console.log((e as Error).message);
 * }
 * ```
 */
export function fail(report: FailureReport): never {
  throw new LessonFailure(report);
}
