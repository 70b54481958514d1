/**
 * Lesson 01 — Clients, servers and bytes: text to bytes and back (reference
 * solution).
 *
 * The network carries bytes. These three functions turn text into UTF-8
 * bytes, turn bytes back into text (refusing bytes that are not UTF-8), and
 * show bytes as hex, the way a packet capture does.
 *
 * @module
 */

const encoder = new TextEncoder();
const strict = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes text as UTF-8 bytes: one to four bytes per character.
 *
 * @example
 * ```ts
 * import { encodeText } from "./bytes.ts";
 * encodeText("café").length; // 5: c, a, f take one byte each, é takes two
 * ```
 */
export function encodeText(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Decodes UTF-8 bytes into text. Bytes that are not valid UTF-8 (a stray
 * `ff`, a sequence cut short) are an error, not a `�`: a TypeError whose
 * message says "not valid UTF-8" and shows the bytes in hex.
 *
 * @example
 * ```ts
 * import { decodeText } from "./bytes.ts";
 * decodeText(new Uint8Array([0x63, 0x61, 0x66, 0xc3, 0xa9])); // "café"
 * try {
 *   decodeText(new Uint8Array([0x63, 0xc3]));
 * } catch (e) {
 *   (e as Error).message; // "not valid UTF-8: 63 c3"
 * }
 * ```
 */
export function decodeText(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    throw new TypeError(`not valid UTF-8: ${hexBytes(bytes)}`);
  }
}

/**
 * Shows bytes as two lowercase hex digits each, separated by spaces.
 *
 * @example
 * ```ts
 * import { hexBytes } from "./bytes.ts";
 * hexBytes(new Uint8Array([0x63, 0x61, 0x66, 0xc3, 0xa9])); // "63 61 66 c3 a9"
 * hexBytes(new Uint8Array([10])); // "0a"
 * ```
 */
export function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}
