/**
 * Reading `.zip` uploads for the grader, safely: the central directory is
 * checked in full before a byte is inflated (no path may be absolute or
 * escape the archive's root; no symlinks, duplicate entries, file/folder
 * clashes, encryption or zip64; bounded entries, folders and depth), then
 * each entry is inflated by `fflate`'s streaming inflater in small pieces,
 * counting the bytes as they come out, so a zip bomb is stopped at the limit
 * instead of after it has filled the memory. Every rejection is one
 * {@linkcode UsageError} line.
 *
 * @module
 */

import { Inflate } from "fflate";
import { dirname } from "@std/path";
import { UsageError } from "../usage_error.ts";

/** Limits that keep a hostile archive from filling the disk, the memory or the folder tree. */
export const ZIP_LIMITS = {
  /** The archive file itself, in bytes. */
  archiveBytes: 64 * 1024 * 1024,
  /** Entries (files and folders) in the central directory. */
  entries: 2000,
  /** Bytes of all entries together once inflated, counted while inflating. */
  bytes: 64 * 1024 * 1024,
  /** Distinct folders, whether listed or implied by a file's path. */
  folders: 500,
  /** Path components of the deepest entry (`a/b/c.ts` is 3). */
  depth: 12,
};

/** Compressed bytes handed to the inflater at a time: at most ~1 MiB comes out of each. */
const PIECE = 1024;

/** One file in an archive. */
export interface ZipEntry {
  /** Path inside the archive, `/`-separated, normalised (no `.` or empty parts). */
  name: string;
  /** Whether it is a folder entry. */
  folder: boolean;
  /** The file's bytes (empty for folders). */
  data: Uint8Array;
}

/**
 * Whether an archive path would land outside the folder it is extracted to
 * (an absolute path, a drive letter or backslash, or too many `..`).
 *
 * @example
 * ```ts
 * import { escapesRoot } from "./zip.ts";
 * escapesRoot("lesson-03/../../etc/passwd"); // true
 * escapesRoot("lesson-03/udp_local.ts"); // false
 * ```
 */
export function escapesRoot(name: string): boolean {
  if (isAbsolute(name) || name.includes("\\")) return true;
  let depth = 0;
  for (const part of name.split("/")) {
    if (part === "..") depth--;
    else if (part && part !== ".") depth++;
    if (depth < 0) return true;
  }
  return false;
}

function isAbsolute(name: string): boolean {
  return name.startsWith("/") || /^[A-Za-z]:/.test(name);
}

/** `a/./b//c/` → `a/b/c` (only for names that do not escape). */
function normalise(name: string): string {
  const parts: string[] = [];
  for (const part of name.split("/")) {
    if (part === "..") parts.pop();
    else if (part && part !== ".") parts.push(part);
  }
  return parts.join("/");
}

/** A central-directory record, checked. */
interface Record {
  name: string;
  folder: boolean;
  method: number;
  compressed: number;
  size: number;
  local: number;
}

/**
 * Checks the central directory's names as a whole: duplicates, a name used
 * both as a file and as a folder, too many folders, too deep.
 *
 * @example
 * ```ts
 * import { checkNames } from "./zip.ts";
 * checkNames([{ name: "a/b.ts", folder: false }, { name: "a", folder: true }]); // fine
 * ```
 */
export function checkNames(entries: { name: string; folder: boolean }[]): void {
  const files = new Set<string>();
  const folders = new Set<string>();
  const listedFolders = new Set<string>();
  for (const { name, folder } of entries) {
    const parts = name.split("/");
    if (parts.length > ZIP_LIMITS.depth) {
      throw new UsageError(
        `the archive nests folders ${parts.length} deep; the limit is ${ZIP_LIMITS.depth}`,
      );
    }
    if (folder ? listedFolders.has(name) : files.has(name)) {
      throw new UsageError(`the archive holds ${name} twice`);
    }
    for (let i = 1; i < parts.length + (folder ? 1 : 0); i++) {
      folders.add(parts.slice(0, i).join("/"));
    }
    if (folder) listedFolders.add(name);
    else files.add(name);
    if (folders.size > ZIP_LIMITS.folders) {
      throw new UsageError(`the archive makes more than ${ZIP_LIMITS.folders} folders`);
    }
  }
  for (const file of files) {
    if (folders.has(file)) {
      throw new UsageError(`the archive holds ${file} both as a file and as a folder`);
    }
  }
}

function readDirectory(bytes: Uint8Array): Record[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new UsageError("not a zip archive (no central directory found)");
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  if (count === 0xffff || at === 0xffffffff) {
    throw new UsageError("zip64 archives are not supported");
  }
  if (count > ZIP_LIMITS.entries) {
    throw new UsageError(`the archive has ${count} entries; the limit is ${ZIP_LIMITS.entries}`);
  }
  const decoder = new TextDecoder();
  const records: Record[] = [];
  let declared = 0;
  for (let n = 0; n < count; n++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) {
      throw new UsageError("the zip archive is damaged");
    }
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const compressed = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const mode = view.getUint32(at + 38, true) >>> 16;
    const local = view.getUint32(at + 42, true);
    const raw = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
    const shown = JSON.stringify(raw.slice(0, 80)).slice(1, -1);
    if (isAbsolute(raw)) throw new UsageError(`the archive holds an absolute path: ${shown}`);
    if (escapesRoot(raw)) {
      throw new UsageError(`the archive holds a path that escapes its folder: ${shown}`);
    }
    if ((mode & 0xf000) === 0xa000) {
      throw new UsageError(`the archive holds a symlink, which is not allowed: ${shown}`);
    }
    if (flags & 1) throw new UsageError(`the archive holds an encrypted entry: ${shown}`);
    if (method !== 0 && method !== 8) {
      throw new UsageError(`unsupported compression method ${method} for ${shown}`);
    }
    const name = normalise(raw);
    const folder = raw.endsWith("/") || (mode & 0xf000) === 0x4000;
    if (!name) {
      if (folder) continue; // "./" names the root itself
      throw new UsageError(`the archive holds a file without a name: ${shown}`);
    }
    declared += size;
    if (declared > ZIP_LIMITS.bytes) {
      throw new UsageError(`the archive unpacks to more than ${ZIP_LIMITS.bytes} bytes`);
    }
    records.push({ name, folder, method, compressed, size, local });
  }
  checkNames(records);
  return records;
}

/** Inflates `raw` piece by piece, stopping as soon as more than `budget` bytes came out. */
function inflate(raw: Uint8Array, budget: number, name: string): Uint8Array {
  const pieces: Uint8Array[] = [];
  let total = 0;
  const inflater = new Inflate((piece) => {
    total += piece.length;
    if (total > budget) {
      throw new UsageError(
        `the archive unpacks to more than it says (${name} passes ${budget} bytes): a zip bomb?`,
      );
    }
    pieces.push(piece);
  });
  try {
    for (let at = 0; at < raw.length; at += PIECE) {
      inflater.push(raw.subarray(at, at + PIECE), at + PIECE >= raw.length);
    }
    if (!raw.length) inflater.push(raw, true);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`the zip archive is damaged (${name} does not inflate)`);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/**
 * Reads every entry of a zip archive. Throws a {@linkcode UsageError} naming
 * the problem for a file that is not a zip, an absolute path, a path that
 * escapes the root, a symlink, a duplicate entry, a file/folder clash, an
 * unsupported or encrypted entry, or an archive over {@linkcode ZIP_LIMITS}.
 *
 * @example
 * ```ts ignore
 * import { readZip } from "./zip.ts";
 * const entries = readZip(await Deno.readFile("ann.zip"));
 * ```
 */
export function readZip(bytes: Uint8Array): ZipEntry[] {
  if (bytes.length > ZIP_LIMITS.archiveBytes) {
    throw new UsageError(`the archive is larger than ${ZIP_LIMITS.archiveBytes} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: ZipEntry[] = [];
  let total = 0;
  for (const record of readDirectory(bytes)) {
    if (record.folder) {
      entries.push({ name: record.name, folder: true, data: new Uint8Array() });
      continue;
    }
    const { local } = record;
    if (local + 30 > bytes.length || view.getUint32(local, true) !== 0x04034b50) {
      throw new UsageError("the zip archive is damaged");
    }
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = bytes.subarray(start, start + record.compressed);
    // Never more than the entry said it holds, nor than what is left of the total.
    const budget = Math.min(record.size, ZIP_LIMITS.bytes - total);
    const data = record.method === 0 ? raw.slice() : inflate(raw, budget, record.name);
    if (data.length !== record.size) {
      throw new UsageError(`the zip archive is damaged (${record.name} has the wrong size)`);
    }
    total += data.length;
    entries.push({ name: record.name, folder: false, data });
  }
  return entries;
}

/**
 * Extracts entries into `dir` (which must exist). The names were checked by
 * {@linkcode readZip}, so no entry lands outside `dir` or on another one;
 * an error still left is one line naming the entry, never an absolute path.
 *
 * @example
 * ```ts ignore
 * import { extractZip, readZip } from "./zip.ts";
 * await extractZip(readZip(bytes), "/tmp/unpacked");
 * ```
 */
export async function extractZip(entries: ZipEntry[], dir: string): Promise<void> {
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    try {
      if (entry.folder) await Deno.mkdir(path, { recursive: true });
      else {
        await Deno.mkdir(dirname(path), { recursive: true });
        await Deno.writeFile(path, entry.data, { createNew: true });
      }
    } catch (error) {
      throw new UsageError(
        `the archive's ${entry.name} could not be unpacked (${(error as Error).name})`,
      );
    }
  }
}
