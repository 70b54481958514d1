/**
 * Opening a submission for grading: a folder laid out like `exercises/` (or
 * a learner's fork holding `exercises/`, or a folder wrapping one), or a
 * `.zip` of any of these. Zips are unpacked into a scratch folder; the
 * submission itself is never changed. Symlinks that lead outside the
 * submission are reported, and the lessons holding them are not run.
 *
 * @module
 */

import { basename, join, relative, resolve } from "@std/path";
import { extractZip, readZip, ZIP_LIMITS } from "./zip.ts";
import { UsageError } from "../usage_error.ts";

/** A submission ready to be graded. */
export interface OpenSubmission {
  /** The name it is reported under (the folder's or zip's name). */
  name: string;
  /** The folder holding its `lesson-NN/` folders. */
  dir: string;
  /** Lesson folders it has. */
  lessons: string[];
  /** Symlinks leading outside the submission, as `lesson-03/x.ts → /etc/passwd`: their lessons are not run. */
  escapingLinks: string[];
}

async function lessonFolders(dir: string): Promise<string[]> {
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (/^lesson-\d\d$/.test(entry.name) && (entry.isDirectory || entry.isSymlink)) {
        found.push(entry.name);
      }
    }
  } catch {
    return [];
  }
  return found.sort();
}

/** Finds the folder that holds lesson-NN/ folders: DIR, DIR/exercises, or DIR's one subfolder. */
async function findRoot(dir: string): Promise<string | undefined> {
  if ((await lessonFolders(dir)).length) return dir;
  if ((await lessonFolders(join(dir, "exercises"))).length) return join(dir, "exercises");
  const subfolders: string[] = [];
  for await (const entry of Deno.readDir(dir)) if (entry.isDirectory) subfolders.push(entry.name);
  if (subfolders.length === 1) return await findRoot(join(dir, subfolders[0]));
  return undefined;
}

/**
 * Lists symlinks under `root` whose target lies outside it (or does not exist).
 *
 * @example
 * ```ts ignore
 * import { escapingLinks } from "./submission.ts";
 * await escapingLinks("/tmp/ann"); // ["lesson-03/secret.ts → /etc/passwd"]
 * ```
 */
export async function escapingLinks(root: string): Promise<string[]> {
  const out: string[] = [];
  const realRoot = await Deno.realPath(root);
  async function walk(dir: string): Promise<void> {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isSymlink) {
        const target = await Deno.realPath(path).catch(() => undefined);
        if (!target || relative(realRoot, target).startsWith("..")) {
          out.push(`${relative(root, path)} → ${target ?? (await Deno.readLink(path))}`);
        }
      } else if (entry.isDirectory) await walk(path);
    }
  }
  await walk(root);
  return out;
}

/**
 * Opens a submission path. `scratch` is a folder the caller owns and
 * removes, used to unpack a zip. Throws a {@linkcode UsageError} for input
 * that cannot be graded at all: a missing path, a file that is neither a
 * folder nor a zip, an empty folder, a hostile zip.
 *
 * @example
 * ```ts ignore
 * import { openSubmission } from "./submission.ts";
 * const sub = await openSubmission("subs/ann.zip", scratchDir);
 * ```
 */
export async function openSubmission(path: string, scratch: string): Promise<OpenSubmission> {
  const full = resolve(Deno.cwd(), path);
  const info = await Deno.lstat(full).catch(() => undefined);
  if (!info) throw new UsageError(`submission not found: ${path}`);
  const name = basename(full).replace(/\.zip$/i, "");
  let dir = full;
  if (info.isFile) {
    if (!/\.zip$/i.test(full)) {
      throw new UsageError(`submission must be a folder or a .zip file: ${path}`);
    }
    let entries;
    try {
      if (info.size > ZIP_LIMITS.archiveBytes) {
        throw new UsageError(`the archive is larger than ${ZIP_LIMITS.archiveBytes} bytes`);
      }
      entries = readZip(await Deno.readFile(full));
    } catch (e) {
      throw new UsageError(`${path}: ${(e as Error).message}`);
    }
    dir = join(scratch, "unpacked");
    await Deno.mkdir(dir);
    await extractZip(entries, dir).catch((e) => {
      throw new UsageError(`${path}: ${(e as Error).message}`);
    });
  } else if (!info.isDirectory) {
    throw new UsageError(`submission must be a folder or a .zip file: ${path}`);
  }
  const root = await findRoot(dir);
  if (!root) {
    throw new UsageError(
      `${path} holds no lesson folders (expected lesson-01/, lesson-02/, … as in exercises/)`,
    );
  }
  return {
    name,
    dir: root,
    lessons: await lessonFolders(root),
    escapingLinks: await escapingLinks(root),
  };
}
