/**
 * Showing bytes to a learner: as text when they are printable, and as text
 * plus hex when they are not, so that a stray `\n` or a half UTF-8 sequence
 * is visible in a failure message.
 *
 * @module
 */

import { concat as concatBytes } from "@std/bytes/concat";

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** The longest run of bytes shown before the rest is elided with `…`. */
export const SHOW_LIMIT = 72;

/**
 * Turns a string or bytes into bytes (strings are UTF-8 encoded).
 *
 * @example
 * ```ts
 * import { toBytes } from "./bytes.ts";
 * toBytes("é").length; // 2
 * ```
 */
export function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/**
 * Whether every byte is printable ASCII (space to `~`).
 *
 * @example
 * ```ts
 * import { isPrintable } from "./bytes.ts";
 * isPrintable(new Uint8Array([72, 105])); // true
 * isPrintable(new Uint8Array([72, 10])); // false
 * ```
 */
export function isPrintable(bytes: Uint8Array): boolean {
  return bytes.every((b) => b >= 0x20 && b <= 0x7e);
}

/**
 * Formats bytes as space-separated hex pairs, elided past `limit` bytes.
 *
 * @example
 * ```ts
 * import { hex } from "./bytes.ts";
 * hex(new Uint8Array([0x48, 0x69, 0x0a])); // "48 69 0a"
 * ```
 */
export function hex(bytes: Uint8Array, limit = SHOW_LIMIT): string {
  const shown = Array.from(bytes.subarray(0, limit), (b) => b.toString(16).padStart(2, "0"));
  return shown.join(" ") + (bytes.length > limit ? " …" : "");
}

/**
 * Escapes bytes as a one-line, double-quoted string: printable ASCII as
 * itself, `\n` `\r` `\t` as escapes, valid non-ASCII UTF-8 as its characters,
 * anything else as `\xNN`.
 *
 * @example
 * ```ts
 * import { quote } from "./bytes.ts";
 * quote(new TextEncoder().encode("hi\n")); // "\"hi\\n\""
 * ```
 */
export function quote(bytes: Uint8Array, limit = SHOW_LIMIT): string {
  const head = bytes.subarray(0, limit);
  let text: string;
  try {
    text = decoder.decode(head);
  } catch {
    text = String.fromCharCode(...head);
    return `"${escapeText(text, true)}${bytes.length > limit ? "…" : ""}"`;
  }
  return `"${escapeText(text, false)}${bytes.length > limit ? "…" : ""}"`;
}

function escapeText(text: string, rawBytes: boolean): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (code < 0x20 || code === 0x7f || (rawBytes && code > 0x7e)) {
      out += "\\x" + code.toString(16).padStart(2, "0");
    } else out += ch;
  }
  return out;
}

/**
 * Describes bytes for a failure message: the quoted text and the length,
 * plus the hex when any byte is not printable ASCII.
 *
 * @example
 * ```ts
 * import { describe } from "./bytes.ts";
 * describe("ok"); // "\"ok\" (2 bytes)"
 * ```
 */
export function describe(data: string | Uint8Array): string {
  const bytes = toBytes(data);
  const size = `${bytes.length} byte${bytes.length === 1 ? "" : "s"}`;
  if (isPrintable(bytes)) return `${quote(bytes)} (${size})`;
  return `${quote(bytes)} (${size}; hex ${hex(bytes)})`;
}

/**
 * The index of the first byte at which two byte strings differ, or -1 when
 * they are equal. A prefix differs at the shorter one's length.
 *
 * @example
 * ```ts
 * import { firstDifference } from "./bytes.ts";
 * const e = new TextEncoder();
 * firstDifference(e.encode("abc"), e.encode("abd")); // 2
 * ```
 */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  if (a.byteOffset % 4 === b.byteOffset % 4) {
    // Four bytes at a time where both line up: megabytes compare in milliseconds.
    for (; i < n && (a.byteOffset + i) % 4 !== 0; i++) if (a[i] !== b[i]) return i;
    const words = (n - i) >>> 2;
    const wa = new Uint32Array(a.buffer, a.byteOffset + i, words);
    const wb = new Uint32Array(b.buffer, b.byteOffset + i, words);
    let w = 0;
    while (w < words && wa[w] === wb[w]) w++;
    i += w * 4;
  }
  for (; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/**
 * Concatenates byte chunks into one array.
 *
 * @example
 * ```ts
 * import { concat } from "./bytes.ts";
 * concat([new Uint8Array([1]), new Uint8Array([2, 3])]).length; // 3
 * ```
 */
export function concat(chunks: Uint8Array[]): Uint8Array {
  return concatBytes(chunks); // the standard library's, typed (deno-std on npm ships no types)
}
