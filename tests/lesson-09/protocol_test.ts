/**
 * Lesson 09 — The protocol's parse functions on their own: junk values in a
 * reply, names at the length limit and one past it, names outside ASCII,
 * and a request id read from a view into a larger buffer.
 *
 * @module
 */

import {
  newRequestId,
  parseReply,
  parseRequest,
  requestId,
} from "../../exercises/lesson-09/protocol.ts";
import { expectEqual } from "../harness/expect.ts";
import { sectionsOf } from "../harness/failure.ts";
import { expectNotFromMathRandom } from "../harness/random.ts";

const section = sectionsOf("lesson-09");
const encoder = new TextEncoder();

const JUNK_VALUE = "accepted a malformed value in an `OK` reply: the value is digits only, " +
  "no sign, exponent, hex or space; anchor the pattern at both ends";
const NAME_RULES = "accepted a name outside the rules: 1 to 64 of A-Z a-z 0-9 _ . -, " +
  "anchored at both ends";

Deno.test("protocol: parseReply refuses junk values (`12abc`, `-5`, `1e3`, ` 5`, `0x10`)", () => {
  for (
    const value of ["12abc", "-5", "", "1e3", " 5", "5 ", "+5", "0x10", "1.5", "05", "٣"]
  ) {
    const text = `0000abcd OK ${value}`;
    const got = parseReply(encoder.encode(text));
    expectEqual(got, undefined, {
      what: `parseReply(${JSON.stringify(text)})`,
      section: section("The protocol"),
      mistake: JUNK_VALUE,
    });
  }
  for (const [value, number] of [["0", 0], ["4294967296", 4294967296]] as const) {
    const text = `0000abcd OK ${value}`;
    expectEqual(parseReply(encoder.encode(text)), { id: "0000abcd", ok: true, value: number }, {
      what: `parseReply(${JSON.stringify(text)})`,
      section: section("The protocol"),
    });
  }
});

Deno.test("protocol: parseRequest takes a 64-byte name and refuses 65 bytes or non-ASCII", () => {
  const longest = "n".repeat(64);
  const parsed = parseRequest(encoder.encode(`0000abcd INCR ${longest}`));
  expectEqual(parsed, { id: "0000abcd", op: "INCR", name: longest }, {
    what: "parseRequest of a request whose name is exactly 64 bytes",
    section: section("The protocol"),
    mistake: parsed === undefined ? "the limit is 64 bytes inclusive: 64 is allowed" : undefined,
  });
  for (const name of ["n".repeat(65), "café", "名前", "a/b", "a\tb"]) {
    const text = `0000abcd INCR ${name}`;
    expectEqual(parseRequest(encoder.encode(text)), undefined, {
      what: `parseRequest(${JSON.stringify(text.length > 40 ? `… ${name.length} n` : text)})`,
      section: section("The protocol"),
      mistake: NAME_RULES,
    });
  }
});

Deno.test("protocol: requestId reads a view that starts inside a larger buffer", () => {
  const whole = encoder.encode("ffffffff junk 0000abcd INCR visits");
  const view = whole.subarray(14); // byteOffset 14: "0000abcd INCR visits"
  const id = requestId(view);
  expectEqual(id, "0000abcd", {
    what: "requestId of a subarray with byteOffset 14",
    section: section("The protocol"),
    mistake: id === "ffffffff"
      ? "read the view's underlying buffer from byte 0: a subarray starts at " +
        "its byteOffset; decode the Uint8Array itself"
      : undefined,
  });
});

Deno.test("protocol: a datagram that is not UTF-8 text is neither a reply nor a request", () => {
  const notText = (head: string) => new Uint8Array([...encoder.encode(head), 0xff, 0xfe]);
  const reply = notText("0000abcd ERR ");
  expectEqual(parseReply(reply), undefined, {
    what: 'parseReply("0000abcd ERR " and the bytes ff fe)',
    section: section("The protocol"),
    mistake: "decoded bytes that are not UTF-8 (a forgiving decoder turns them into U+FFFD): " +
      'decode with new TextDecoder("utf-8", { fatal: true }) and treat a failure as no reply',
  });
  expectEqual(parseRequest(notText("0000abcd INCR ")), undefined, {
    what: 'parseRequest("0000abcd INCR " and the bytes ff fe)',
    section: section("The protocol"),
    mistake: NAME_RULES,
  });
});

Deno.test("protocol: newRequestId comes from crypto.getRandomValues, not Math.random", () => {
  // If the ids depend on Math.random, they all come out the same while it is fixed.
  expectNotFromMathRandom(newRequestId, {
    what: "four request ids made while Math.random always returns 0.5",
    expected: "four different ids",
    section: section("The client: backoff and matching replies"),
    mistake: "the request ids come from Math.random, whose output can be predicted from what it " +
      "gave before; use crypto.getRandomValues, as lessons 05 and 08 do",
  });
});
