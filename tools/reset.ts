/**
 * `deno task reset LESSON [FILE]` — puts a lesson's stub back, after keeping
 * the learner's current version as a timestamped backup in
 * `.course/backups/`, so nothing is ever lost.
 *
 * The pristine stubs are the git blobs recorded in `tools/stubs.json` (the
 * course check verifies the record matches `exercises/`; maintainers refresh
 * it with `deno task check --record-stubs`), read back with `git cat-file`.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { findLesson, type Lesson, loadCatalog, ROOT } from "./catalog.ts";
import { runMain, UsageError } from "./usage_error.ts";

/** Where the stubs' git blob ids are recorded. */
export const STUBS_FILE = `${ROOT}tools/stubs.json`;

/** Where backups go. */
export const BACKUPS = `${ROOT}.course/backups`;

/**
 * The git blob id of some bytes (what `git hash-object` prints).
 *
 * @example
 * ```ts
 * import { blobId } from "./reset.ts";
 * await blobId(new TextEncoder().encode("hello\n")); // "ce013625030ba8dba906f756967f9e9ca394464a"
 * ```
 */
export async function blobId(bytes: Uint8Array): Promise<string> {
  const header = new TextEncoder().encode(`blob ${bytes.length}\0`);
  const all = new Uint8Array(header.length + bytes.length);
  all.set(header);
  all.set(bytes, header.length);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The blob ids of every stub file now in `exercises/`, keyed by path.
 *
 * @example
 * ```ts ignore
 * const ids = await currentStubIds();
 * ```
 */
export async function currentStubIds(): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const lesson of (await loadCatalog()).lessons) {
    for (const file of lesson.files) {
      const path = `exercises/${lesson.id}/${file}`;
      ids[path] = await blobId(await Deno.readFile(`${ROOT}${path}`));
    }
  }
  return ids;
}

/**
 * The lessons, of `lessons`, whose exercise files are all still the stubs
 * that `tools/stubs.json` records, byte for byte. The check type-checks the
 * committed stubs against their tests, so the dashboard need not do it again
 * for these. Without a record, none.
 *
 * @example
 * ```ts ignore
 * const untouched = await untouchedStubs(catalog.lessons); // Set { "lesson-02", … }
 * ```
 */
export async function untouchedStubs(lessons: readonly Lesson[]): Promise<Set<string>> {
  const ids: Record<string, string> = await recorded().catch(() => ({}));
  const untouched = await Promise.all(lessons.map(async (lesson) => {
    for (const file of lesson.files) {
      const path = `exercises/${lesson.id}/${file}`;
      const bytes = await Deno.readFile(`${ROOT}${path}`).catch(() => undefined);
      if (!ids[path] || !bytes || await blobId(bytes) !== ids[path]) return false;
    }
    return true;
  }));
  return new Set(lessons.filter((_, i) => untouched[i]).map((lesson) => lesson.id));
}

async function recorded(): Promise<Record<string, string>> {
  try {
    return JSON.parse(await Deno.readTextFile(STUBS_FILE));
  } catch {
    throw new UsageError(
      "tools/stubs.json is missing: this copy of the course cannot restore stubs",
    );
  }
}

async function pristine(path: string, id: string): Promise<Uint8Array> {
  const out = await new Deno.Command("git", {
    args: ["cat-file", "blob", id],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  })
    .output()
    .catch(() => undefined);
  if (!out?.success) {
    throw new UsageError(
      `cannot restore ${path}: this copy of the course has no git history for it ` +
        "(clone the course with git, or download that file again)",
    );
  }
  return out.stdout;
}

async function main(): Promise<number> {
  const flags = parseArgs(Deno.args, {
    boolean: ["help"],
    unknown: (arg: string) => {
      if (arg.startsWith("-")) {
        throw new UsageError(`unknown option ${arg}; usage: deno task reset LESSON [FILE]`);
      }
      return true;
    },
  });
  if (flags.help || flags._.length < 1 || flags._.length > 2) {
    if (flags.help) {
      console.log(
        "usage: deno task reset LESSON [FILE]   (backs up your version, then restores the stub)",
      );
      return 0;
    }
    throw new UsageError("usage: deno task reset LESSON [FILE]");
  }
  const lesson = findLesson(await loadCatalog(), String(flags._[0]));
  const wanted = flags._[1] === undefined
    ? lesson.files
    : [String(flags._[1]).replace(/^.*\//, "")];
  for (const file of wanted) {
    if (!lesson.files.includes(file)) {
      throw new UsageError(
        `${lesson.id} has no file ${file}; its files are ${lesson.files.join(", ")}`,
      );
    }
  }
  const ids = await recorded();
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  for (const file of wanted) {
    const path = `exercises/${lesson.id}/${file}`;
    const stub = await pristine(path, ids[path] ?? "");
    const current = await Deno.readFile(`${ROOT}${path}`).catch(() => undefined);
    if (current && (await blobId(current)) === ids[path]) {
      console.log(`${path} is already the stub: nothing to do.`);
      continue;
    }
    if (current) {
      const backup = `${BACKUPS}/${lesson.id}/${file}.${stamp}`;
      await Deno.mkdir(`${BACKUPS}/${lesson.id}`, { recursive: true });
      await Deno.writeFile(backup, current);
      console.log(`Kept your version as ${backup.slice(ROOT.length)}`);
    }
    await Deno.writeFile(`${ROOT}${path}`, stub);
    console.log(`Restored the stub ${path}`);
  }
  return 0;
}

if (import.meta.main) await runMain("reset", main);
