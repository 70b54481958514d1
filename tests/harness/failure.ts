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
  /**
   * This failure is the cause of any unhandled rejections seen with it (writes
   * not awaited, rejected when their connection closed under them):
   * `failOnUnhandled` lets it stand over them.
   */
  causesRejections?: boolean;
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

/**
 * Room for one line of a failure message: the runner indents the message by
 * 6 columns and keeps its output within 80.
 */
const ROOM = 74;

/**
 * An `expected:`/`got:` line that fits in {@linkcode ROOM}: a long hex dump
 * moves to a line of its own (returned in `hex`, shown after the caret, and
 * wrapped there like prose); other long values break at spaces onto lines
 * aligned under the value. The quoted text stays on the first line, so a
 * caret under it still points at the right column.
 */
function valueLines(label: string, value: string): { lines: string[]; hex?: string } {
  if (label.length + value.length <= ROOM) return { lines: [label + value] };
  const dump = value.match(/^(.*) \((\d+ bytes?); hex (.*)\)$/s);
  if (dump) {
    return {
      lines: [`${label}${dump[1]} (${dump[2]})`],
      hex: `  ${label.trim().replace(/:$/, "")} in hex: ${dump[3]}`,
    };
  }
  const lines: string[] = [];
  let current = "";
  for (const word of value.split(" ")) {
    const lead = lines.length ? " ".repeat(label.length) : label;
    if (current && (lead + current + " " + word).length > ROOM) {
      lines.push(lead + current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  lines.push((lines.length ? " ".repeat(label.length) : label) + current);
  return { lines };
}

/**
 * The line under `got:`; a caret far to the right gets its words on its
 * left (`first difference at byte 70 ^`), so the line still fits.
 */
function markerLine(marker: string): string {
  const line = `            ${marker}`;
  const caret = marker.match(/^( *)\^ (.*)$/);
  if (line.length <= ROOM || !caret || caret[2].length + 2 > 12 + caret[1].length) return line;
  return " ".repeat(12 + caret[1].length - caret[2].length - 1) + `${caret[2]} ^`;
}

function render(r: FailureReport): string {
  const lines = [r.summary];
  const hex: string[] = [];
  for (const [label, value] of [["  expected: ", r.expected], ["  got:      ", r.got]]) {
    if (value === undefined) continue;
    const shown = valueLines(label!, value);
    lines.push(...shown.lines);
    if (shown.hex) hex.push(shown.hex);
  }
  if (r.marker !== undefined) lines.push(markerLine(r.marker));
  lines.push(...hex);
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
