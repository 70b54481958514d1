/**
 * Reading `.zip` uploads for the grader, in plain TypeScript (no unzip tool
 * needed): stored and deflated entries, with the checks an instructor needs
 * against hostile archives: no path may escape the archive's root, no
 * symlinks, and bounded entry count and size.
 *
 * @module
 */

import { dirname } from "@std/path";
import { UsageError } from "../usage_error.ts";

/** Limits that keep a hostile archive from filling the disk. */
export const ZIP_LIMITS = { entries: 2000, bytes: 64 * 1024 * 1024 };

/** One file in an archive. */
export interface ZipEntry {
  /** Path inside the archive, `/`-separated. */
  name: string;
  /** Whether it is a folder entry. */
  folder: boolean;
  /** The file's bytes (empty for folders). */
  data: Uint8Array;
}

async function inflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("deflate-raw"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Whether an archive path would land outside the folder it is extracted to.
 *
 * @example
 * ```ts
 * import { escapesRoot } from "./zip.ts";
 * escapesRoot("lesson-03/../../etc/passwd"); // true
 * escapesRoot("lesson-03/udp_local.ts"); // false
 * ```
 */
export function escapesRoot(name: string): boolean {
  if (name.startsWith("/") || name.includes("\\") || /^[A-Za-z]:/.test(name)) return true;
  let depth = 0;
  for (const part of name.split("/")) {
    if (part === "..") depth--;
    else if (part && part !== ".") depth++;
    if (depth < 0) return true;
  }
  return false;
}

/**
 * Reads every entry of a zip archive. Throws a {@linkcode UsageError} naming
 * the problem for a file that is not a zip, an entry whose path escapes the
 * root, a symlink, an unsupported compression method, or an archive over
 * {@linkcode ZIP_LIMITS}.
 *
 * @example
 * ```ts ignore
 * import { readZip } from "./zip.ts";
 * const entries = await readZip(await Deno.readFile("ann.zip"));
 * ```
 */
export async function readZip(bytes: Uint8Array): Promise<ZipEntry[]> {
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
  const entries: ZipEntry[] = [];
  let total = 0;
  for (let n = 0; n < count; n++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) {
      throw new UsageError("the zip archive is damaged");
    }
    const method = view.getUint16(at + 10, true);
    const compressed = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const mode = view.getUint32(at + 38, true) >>> 16;
    const local = view.getUint32(at + 42, true);
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
    if (escapesRoot(name)) {
      throw new UsageError(`the archive holds a path that escapes its folder: ${name}`);
    }
    if ((mode & 0xf000) === 0xa000) {
      throw new UsageError(`the archive holds a symlink, which is not allowed: ${name}`);
    }
    total += size;
    if (total > ZIP_LIMITS.bytes) {
      throw new UsageError(`the archive unpacks to more than ${ZIP_LIMITS.bytes} bytes`);
    }
    const folder = name.endsWith("/");
    if (folder) {
      entries.push({ name, folder, data: new Uint8Array() });
      continue;
    }
    if (view.getUint32(local, true) !== 0x04034b50) {
      throw new UsageError("the zip archive is damaged");
    }
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = bytes.subarray(start, start + compressed);
    let data: Uint8Array;
    if (method === 0) data = raw.slice();
    else if (method === 8) data = await inflate(raw);
    else throw new UsageError(`unsupported compression method ${method} for ${name}`);
    if (data.length !== size) {
      throw new UsageError(`the zip archive is damaged (${name} has the wrong size)`);
    }
    entries.push({ name, folder, data });
  }
  return entries;
}

/**
 * Extracts entries into `dir` (which must exist).
 *
 * @example
 * ```ts ignore
 * import { extractZip, readZip } from "./zip.ts";
 * await extractZip(await readZip(bytes), "/tmp/unpacked");
 * ```
 */
export async function extractZip(entries: ZipEntry[], dir: string): Promise<void> {
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    if (entry.folder) await Deno.mkdir(path, { recursive: true });
    else {
      await Deno.mkdir(dirname(path), { recursive: true });
      await Deno.writeFile(path, entry.data);
    }
  }
}
