/**
 * The course catalog: `tools/course.json` read, validated and indexed. It is
 * the one source of what lessons exist, their titles, their files, which
 * notes sections they teach and which loopback hosts their tests may use.
 *
 * @module
 */

import { UsageError } from "./usage_error.ts";

/** One lesson as the catalog describes it. */
export interface Lesson {
  /** `lesson-NN`: names the folder in lessons/, exercises/, solutions/, tests/. */
  id: string;
  /** Human title. */
  title: string;
  /** The sections of the book notes this lesson teaches. */
  notes: string[];
  /** The exercise files (same names in exercises/ and solutions/). */
  files: string[];
  /** The file whose `server`/`client`/… exports `deno task run` calls, if any. */
  program?: string;
  /** Host a program role uses when the command line names none (default 127.0.0.1). */
  defaultHosts?: Record<string, string>;
  /** Hosts the lesson's tests may reach (given to `--allow-net`). */
  net: string[];
  /** The lesson's weight in grading: its points are multiplied by it (default 1). */
  weight?: number;
  /**
   * How long its suite may take, warm, on the solution, in seconds, when the
   * lesson's subject is a wait (backoff): replaces `goals.suiteFloorRatio`.
   */
  suiteGoalSeconds?: number;
}

/** How submissions are scored. */
export interface Scoring {
  /** Points for each passing test, before the lesson's weight (default 1). */
  pointsPerTest: number;
}

/**
 * How fast the course means to be, as ratios to baselines `deno task bench`
 * measures in the same run (the floor: `deno test` of one empty test). The
 * ratios for whole commands are their goals in seconds at the floor of about
 * 0.1 s that the goals were set on (a 2-core machine): the check 60 s (600
 * floors), a newcomer's first `deno task course` 5 s (50), grading one
 * submission 30 s (300). The floor times one process's start, the check keeps
 * both cores busy: the two move apart as the machine's speed changes (a
 * floor of 0.08–0.13 s within one bench), so these ratios are only as good as
 * that calibration.
 */
export interface Goals {
  /** A lesson's suite, warm, on the solution: at most this many floors. */
  suiteFloorRatio: number;
  /** A newcomer's first `deno task course` (warm caches, no results): at most this many floors. */
  courseFloorRatio: number;
  /** The whole `deno task check`: at most this many floors. */
  checkFloorRatio: number;
  /** Grading one full submission: at most this many floors. */
  gradeFloorRatio: number;
  /** Lesson 13's reference echo: at least this fraction of Deno's `pipeTo` echo. */
  echoPipeToRatio: number;
}

/** The whole course. */
export interface Catalog {
  /** Course title. */
  title: string;
  /** Course version, printed in every report. */
  version: string;
  /** How submissions are scored. */
  scoring: Scoring;
  /** Speed goals, as ratios to baselines. */
  goals: Goals;
  /** Lessons in order. */
  lessons: Lesson[];
}

/** The repository root (the folder holding deno.json). */
export const ROOT: string = new URL("../", import.meta.url).pathname;

/**
 * Reads and validates the catalog. Throws an Error naming the first problem.
 *
 * @example
 * ```ts
 * import { loadCatalog } from "./catalog.ts";
 * const catalog = await loadCatalog();
 * console.log(catalog.lessons.length);
 * ```
 */
export async function loadCatalog(path = `${ROOT}tools/course.json`): Promise<Catalog> {
  const data = JSON.parse(await Deno.readTextFile(path));
  const problems: string[] = [];
  if (typeof data.title !== "string") problems.push("title must be a string");
  if (typeof data.version !== "string") problems.push("version must be a string");
  if (!Array.isArray(data.lessons)) problems.push("lessons must be an array");
  data.scoring ??= { pointsPerTest: 1 };
  if (!(data.scoring.pointsPerTest > 0)) {
    problems.push("scoring.pointsPerTest must be a positive number");
  }
  data.goals = {
    suiteFloorRatio: 3,
    courseFloorRatio: 50,
    checkFloorRatio: 600,
    gradeFloorRatio: 300,
    echoPipeToRatio: 0.5,
    ...data.goals,
  };
  for (const [key, value] of Object.entries(data.goals)) {
    if (!((value as number) > 0)) problems.push(`goals.${key} must be a positive number`);
  }
  for (const [i, l] of (data.lessons ?? []).entries()) {
    const where = `lessons[${i}]`;
    if (!/^lesson-\d\d$/.test(l.id)) problems.push(`${where}.id must look like lesson-NN`);
    else if (i > 0 && !(l.id > data.lessons[i - 1].id)) {
      problems.push(`${where}.id is ${l.id}: lessons must be listed in increasing order`);
    }
    if (typeof l.title !== "string" || !l.title) problems.push(`${where}.title is missing`);
    if (!Array.isArray(l.notes) || !l.notes.length) {
      problems.push(`${where}.notes must list sections`);
    }
    if (!Array.isArray(l.files) || !l.files.length) problems.push(`${where}.files must list files`);
    if (l.program !== undefined && !l.files?.includes(l.program)) {
      problems.push(`${where}.program must be one of its files`);
    }
    if (!Array.isArray(l.net)) problems.push(`${where}.net must list hosts`);
    if (l.weight !== undefined && !(l.weight >= 0)) {
      problems.push(`${where}.weight must be a number ≥ 0`);
    }
    if (l.suiteGoalSeconds !== undefined && !(l.suiteGoalSeconds > 0)) {
      problems.push(`${where}.suiteGoalSeconds must be a positive number`);
    }
  }
  if (problems.length) throw new Error(`tools/course.json: ${problems.join("; ")}`);
  return data as Catalog;
}

/**
 * Finds a lesson by any of the names a learner might type: `lesson-03`,
 * `lesson-3`, `03`, `3`. Throws a {@linkcode UsageError} listing the valid IDs.
 *
 * @example
 * ```ts
 * import { findLesson, loadCatalog } from "./catalog.ts";
 * const lesson = findLesson(await loadCatalog(), "3");
 * lesson.id; // "lesson-03"
 * ```
 */
export function findLesson(catalog: Catalog, name: string): Lesson {
  const m = name.trim().match(/^(?:lesson-?)?0*(\d{1,2})$/i);
  const id = m ? `lesson-${m[1].padStart(2, "0")}` : undefined;
  const lesson = catalog.lessons.find((l) => l.id === id);
  if (lesson) return lesson;
  const ids = catalog.lessons.map((l) => l.id).join(", ");
  throw new UsageError(`unknown lesson "${name}": valid lessons are ${ids} (or just the number)`);
}
