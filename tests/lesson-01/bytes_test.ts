/**
 * Lesson 01 — Clients, servers and bytes: text becomes bytes and back, and
 * bytes that are not UTF-8 are refused.
 *
 * @module
 */

import { decodeText, encodeText, hexBytes } from "../../exercises/lesson-01/bytes.ts";
import { expectBytes, expectEqual, expectRejects, expectThat } from "../harness/expect.ts";
import { fail, sectionsOf } from "../harness/failure.ts";

const section = sectionsOf("lesson-01");

/** Bytes from hex pairs, written out in the test so it never trusts the code under test. */
const bytesOf = (hex: string) => new Uint8Array(hex.split(" ").map((pair) => parseInt(pair, 16)));

Deno.test("encodeText: `café` is 5 bytes; one character takes one to four bytes", () => {
  const cases: [string, string][] = [
    ["café", "63 61 66 c3 a9"],
    ["A", "41"],
    ["é", "c3 a9"],
    ["€", "e2 82 ac"],
    ["🙂", "f0 9f 99 82"],
  ];
  for (const [text, hex] of cases) {
    const got = encodeText(text);
    expectBytes(got, bytesOf(hex), {
      what: `encodeText(${JSON.stringify(text)})`,
      section: section("UTF-8: one character, one to four bytes"),
      mistake: got.length === text.length
        ? "one byte per character (Latin-1, charCodeAt) instead of UTF-8: é is U+00E9, " +
          "which UTF-8 writes as the two bytes c3 a9; use a TextEncoder"
        : undefined,
    });
  }
});

Deno.test("decodeText: turns UTF-8 bytes back into the text", () => {
  const cases: [string, string][] = [
    ["63 61 66 c3 a9", "café"],
    ["48 69 0a", "Hi\n"],
    ["e2 82 ac 20 f0 9f 99 82", "€ 🙂"],
    ["", ""],
  ];
  for (const [hex, text] of cases) {
    expectEqual(decodeText(hex ? bytesOf(hex) : new Uint8Array(0)), text, {
      what: `decodeText(${hex || "no bytes"})`,
      section: section("UTF-8: one character, one to four bytes"),
    });
  }
});

Deno.test("decodeText: refuses bytes that are not UTF-8 with a TypeError naming UTF-8", async () => {
  const bad: [string, string][] = [
    ["63 61 66 c3", "a two-byte sequence cut short"],
    ["ff", "a byte that never occurs in UTF-8"],
    ["a9 63", "a continuation byte with no lead byte"],
  ];
  for (const [hex, why] of bad) {
    let returned: string | undefined;
    let error: unknown;
    try {
      returned = decodeText(bytesOf(hex));
    } catch (e) {
      error = e;
    }
    const refused = await expectRejects(() => {
      if (error !== undefined) throw error;
      return returned;
    }, {
      kind: TypeError,
      pattern: /UTF-8/,
      what: `decodeText(${hex}), ${why}`,
      section: section("Decoding strictly"),
      mistake: returned?.includes("\uFFFD")
        ? "a forgiving TextDecoder turned the bad bytes into U+FFFD (�): " +
          'pass { fatal: true } so that invalid input is an error, then say "not valid UTF-8"'
        : undefined,
    });
    expectThat(refused.message.includes(hex), `${refused.name}: ${refused.message}`, {
      what: `the message of decodeText(${hex})'s TypeError`,
      expected: `it shows the bytes in hex: ${hex}`,
      section: section("Decoding strictly"),
      mistake: "the message must show the bytes that were refused, in hex: " +
        "`not valid UTF-8: ${hexBytes(bytes)}`",
    });
  }
});

Deno.test("hexBytes: two lowercase hex digits per byte, separated by spaces", () => {
  const cases: [number[], string][] = [
    [[0x63, 0x61, 0x66, 0xc3, 0xa9], "63 61 66 c3 a9"],
    [[0x0a, 0x00, 0xff, 0x07], "0a 00 ff 07"],
    [[], ""],
  ];
  for (const [bytes, hex] of cases) {
    const got = hexBytes(new Uint8Array(bytes));
    expectEqual(got, hex, {
      what: `hexBytes([${bytes.join(", ")}])`,
      section: section("Bytes, not text"),
      mistake: got.replaceAll(" ", "").length < bytes.length * 2
        ? "a byte below 0x10 printed as one digit: pad every byte to two hex digits"
        : got !== got.toLowerCase()
        ? "use lowercase hex digits"
        : undefined,
    });
  }
});

/**
 * `bytes` as a view into the middle of a larger buffer, the way a received
 * chunk often is: `byteOffset` is not 0 and the buffer holds other bytes
 * (here `ff`, which is never UTF-8) on both sides.
 */
function viewInTheMiddle(hex: string): Uint8Array {
  const inner = bytesOf(hex);
  const buffer = new Uint8Array(inner.length + 6).fill(0xff);
  buffer.set(inner, 3);
  return buffer.subarray(3, 3 + inner.length);
}

/** Whether decodeText accepts the same bytes copied into a buffer of their own. */
function decodesAlone(view: Uint8Array): boolean {
  try {
    decodeText(view.slice());
    return true;
  } catch {
    return false;
  }
}

const wholeBuffer = "read the whole underlying buffer (bytes.buffer) instead of the " +
  "view: a Uint8Array may start at a byteOffset and end before the buffer does";

Deno.test("decodeText and hexBytes: a view into a larger buffer means only its own bytes", () => {
  const view = viewInTheMiddle("63 61 66 c3 a9");
  let text: string | undefined;
  let error: unknown;
  try {
    text = decodeText(view);
  } catch (e) {
    error = e;
  }
  if (error !== undefined) {
    if (!(error instanceof TypeError)) throw error;
    fail({
      summary: "decodeText refused valid UTF-8 handed over as a view",
      section: section("Decoding strictly"),
      expected: '"café" (bytes 3 to 8 of an 11-byte buffer: 63 61 66 c3 a9)',
      got: `${error.name}: ${error.message}`,
      mistake: decodesAlone(view) ? wholeBuffer : undefined,
    });
  }
  expectEqual(text, "café", {
    what: "decodeText(bytes 3 to 8 of an 11-byte buffer: 63 61 66 c3 a9)",
    section: section("Decoding strictly"),
  });
  const hex = hexBytes(view);
  expectEqual(hex, "63 61 66 c3 a9", {
    what: "hexBytes(bytes 3 to 8 of an 11-byte buffer)",
    section: section("Bytes, not text"),
    mistake: hex.startsWith("ff ff ff") ? wholeBuffer : undefined,
  });
});
