import { assert, assertEquals } from "@std/assert";
import { LessonFailure } from "./failure.ts";

const section = { lesson: "lesson-03", heading: "Sockets" };

Deno.test("LessonFailure: a long hex dump goes on a line of its own, after the caret", () => {
  const got = `"${"x".repeat(30)}\\x01" (31 bytes; hex ${"78 ".repeat(30)}01)`;
  const lines = new LessonFailure({ summary: "s", section, got, marker: "^ here" })
    .message.split("\n");
  assertEquals(lines[1], `  got:      "${"x".repeat(30)}\\x01" (31 bytes)`);
  assertEquals(lines[2], "            ^ here");
  assertEquals(lines[3], `  got in hex: ${"78 ".repeat(30)}01`);
});

Deno.test("LessonFailure: a long value breaks at spaces, aligned under itself", () => {
  const got = "word ".repeat(30).trim();
  const lines = new LessonFailure({ summary: "s", section, got }).message.split("\n");
  assert(lines.slice(1, -1).every((l) => l.length <= 74), lines.join("\n"));
  assert(lines[2].startsWith(" ".repeat(12) + "word"));
});

Deno.test("LessonFailure: a caret far to the right has its words on its left", () => {
  const marker = `${" ".repeat(60)}^ first difference at byte 60`;
  const line = new LessonFailure({ summary: "s", section, got: "g", marker }).message
    .split("\n")[2];
  assertEquals(line.indexOf("^"), 72);
  assert(line.endsWith("first difference at byte 60 ^"));
});
