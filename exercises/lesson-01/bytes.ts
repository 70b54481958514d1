/**
 * Lesson 01 — Clients, servers and bytes: text to bytes and back.
 *
 * Turn text into UTF-8 bytes, bytes back into text (refusing bytes that are
 * not UTF-8), and show bytes as hex. Read lessons/lesson-01/README.md first,
 * sections "Bytes, not text" and "UTF-8: one character, one to four bytes".
 *
 * Test:  deno task test lesson-01
 *
 * @module
 */

/**
 * Encodes text as UTF-8 bytes: one to four bytes per character.
 * `encodeText("café")` is the 5 bytes `63 61 66 c3 a9`.
 * ("UTF-8: one character, one to four bytes")
 */
export function encodeText(text: string): Uint8Array {
  // TODO: use a TextEncoder (it always encodes UTF-8).
  throw new Error("not implemented: encodeText");
}

/**
 * Decodes UTF-8 bytes into text. Bytes that are not valid UTF-8 (a stray
 * `ff`, a sequence cut short) are an error, not a `�`: throw a TypeError
 * whose message says "not valid UTF-8" and shows the bytes with
 * {@linkcode hexBytes}, e.g. `not valid UTF-8: 63 c3`.
 * ("Decoding strictly")
 */
export function decodeText(bytes: Uint8Array): string {
  // TODO: decode with a TextDecoder that is fatal on invalid input.
  // TODO: catch its error and throw your own TypeError with the hex bytes.
  throw new Error("not implemented: decodeText");
}

/**
 * Shows bytes as two lowercase hex digits each, separated by spaces:
 * `63 61 66 c3 a9` for "café", `0a` for a newline.
 * ("Bytes, not text")
 */
export function hexBytes(bytes: Uint8Array): string {
  // TODO: each byte in base 16, padded to two digits, joined by spaces.
  throw new Error("not implemented: hexBytes");
}
