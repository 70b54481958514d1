/**
 * Caches suite results by the content of everything they depend on (the
 * lesson's exercise files, its tests, the shared harness, the catalog and
 * deno.json), so the dashboard answers at once when nothing changed.
 * The cache lives in `.course/` (ignored by git) and is only ever a
 * shortcut: a miss just runs the suite.
 *
 * @module
 */

import { concat } from "@std/bytes/concat";
import { type Lesson, ROOT } from "./catalog.ts";
import type { Target } from "./import_map.ts";
import { type SuiteResult, withFdLimit } from "./suite.ts";
import { FD_LIMIT_VARIABLE } from "../tests/harness/fd_limit.ts";

/** Where cached results are kept. */
export const CACHE_FILE = `${ROOT}.course/results.json`;

/**
 * Every file under `dir`, recursively, as paths starting with `dir`, sorted;
 * none when it is missing.
 *
 * @example
 * ```ts ignore
 * await filesUnder(`${ROOT}tests/harness`); // ["/…/tests/harness/deadline.ts", …]
 * ```
 */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) out.push(...await filesUnder(path));
      else if (entry.isFile) out.push(path);
    }
  } catch {
    // a missing folder contributes nothing
  }
  return out.sort();
}

/**
 * The content key of a lesson's suite run against a target: a SHA-256 over
 * the names and bytes of every file the result depends on.
 *
 * @example
 * ```ts ignore
 * const key = await contentKey(lesson, EXERCISES);
 * ```
 */
export async function contentKey(lesson: Lesson, target: Target): Promise<string> {
  const files = [
    ...await filesUnder(`${target.dir}/${lesson.id}`),
    ...await filesUnder(`${ROOT}tests/${lesson.id}`),
    ...await filesUnder(`${ROOT}tests/harness`),
    `${ROOT}tools/course.json`,
    `${ROOT}deno.json`,
  ];
  // Whether the suite runs under the low open-file limit decides which tests run or are skipped.
  const fdLimit = withFdLimit("deno", []).env[FD_LIMIT_VARIABLE] ?? "none";
  const parts: Uint8Array[] = [new TextEncoder().encode(`${Deno.version.deno}\0${fdLimit}`)];
  for (const file of files) {
    parts.push(new TextEncoder().encode(`\0${file}\0`));
    parts.push(await Deno.readFile(file).catch(() => new Uint8Array()));
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", concat(parts)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Returns the cached result for `key`, if any.
 *
 * @example
 * ```ts ignore
 * const hit = await cachedResult(key);
 * ```
 */
export async function cachedResult(key: string): Promise<SuiteResult | undefined> {
  try {
    const all = JSON.parse(await Deno.readTextFile(CACHE_FILE));
    return all[key];
  } catch {
    return undefined;
  }
}

/** How many results the cache keeps (the oldest go first). */
export const CACHE_ENTRIES = 400;

/**
 * Adds results under their keys to what the cache already holds, keeping
 * the newest {@linkcode CACHE_ENTRIES}. The file is replaced atomically, so
 * a concurrent reader never sees half of it (two concurrent writers may
 * lose one's entries: the cache is only a shortcut).
 *
 * @example
 * ```ts ignore
 * await storeResults(new Map([[key, result]]));
 * ```
 */
export function storeResults(results: Map<string, SuiteResult>): Promise<void> {
  // One write at a time within a process (the check stores sixteen at once).
  const next = writing.then(() => writeResults(results));
  writing = next.catch(() => {});
  return next;
}

let writing: Promise<void> = Promise.resolve();

async function writeResults(results: Map<string, SuiteResult>): Promise<void> {
  await Deno.mkdir(`${ROOT}.course`, { recursive: true });
  let all: Record<string, SuiteResult> = {};
  try {
    all = JSON.parse(await Deno.readTextFile(CACHE_FILE));
  } catch {
    all = {};
  }
  for (const [key, result] of results) {
    delete all[key]; // re-inserted last: the newest
    all[key] = { ...result, output: undefined };
  }
  const kept = Object.entries(all).slice(-CACHE_ENTRIES);
  const temporary = `${CACHE_FILE}.${crypto.randomUUID()}`;
  await Deno.writeTextFile(temporary, JSON.stringify(Object.fromEntries(kept)));
  await Deno.rename(temporary, CACHE_FILE);
}
