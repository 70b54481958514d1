/**
 * Hints: the README blocks parse, every lesson has a nudge, an approach and a
 * near-answer that add to the README rather than repeat it, and they render
 * for an 80-column terminal without colour under `NO_COLOR` and without raw
 * code fences.
 */

import { assert, assertEquals, assertFalse, assertMatch } from "@std/assert";
import { stripAnsiCode } from "@std/fmt/colors";
import { loadCatalog, ROOT } from "./catalog.ts";
import { parseHints } from "./hints.ts";
import { renderMarkdown } from "./markdown.ts";

const hasAnsi = (text: string) => text !== stripAnsiCode(text);

Deno.test("parseHints: the <details><summary> blocks, in order, trimmed", () => {
  const readme = "## Hints\n\n<details>\n<summary>Hint 1 — nudge</summary>\n\nRead `Sockets`.\n\n" +
    "</details>\n\n<details>\n<summary>Hint 2 — approach</summary>\n\n1. bind\n2. send\n\n</details>\n";
  assertEquals(parseHints(readme), [
    { title: "Hint 1 — nudge", body: "Read `Sockets`." },
    { title: "Hint 2 — approach", body: "1. bind\n2. send" },
  ]);
});

Deno.test("renderMarkdown: no fences, no colour when off, nothing past the width", () => {
  const markdown = [
    "Read **Sockets** and call `Deno.listenDatagram` " + "with a port of zero ".repeat(6) + ".",
    "",
    "1. Bind the socket " + "and read the port back ".repeat(5),
    "2. Send `hello`",
    "",
    "```ts ignore",
    'const socket = Deno.listenDatagram({ port: 0, transport: "udp" });',
    "```",
  ].join("\n");
  const plain = renderMarkdown(markdown, { color: false, width: 80 });
  assertFalse(plain.includes("```"), plain);
  assertFalse(plain.includes("ts ignore"), plain);
  assertFalse(hasAnsi(plain), plain);
  assertFalse(plain.includes("`"), plain); // inline code shown as text, in lists too
  assertMatch(plain, /^ {2}const socket = Deno\.listenDatagram/m);
  for (const line of plain.split("\n")) assert(line.length <= 80, `${line.length}: ${line}`);
  const narrow = renderMarkdown(markdown, { color: false, width: 60 });
  for (const line of narrow.split("\n")) assert(line.length <= 60, `${line.length}: ${line}`);
  // A code line too long for the width goes on below, indented further.
  assertMatch(narrow, /^ {2}const socket = .*\n {4}\S/m);
  if (!Deno.noColor) {
    assert(hasAnsi(renderMarkdown("**bold** and `code`", { color: true, width: 80 })));
  }
});

Deno.test("every lesson: three hints that add to the README and fit 80 columns", async () => {
  const { lessons } = await loadCatalog();
  for (const lesson of lessons) {
    const readme = await Deno.readTextFile(`${ROOT}lessons/${lesson.id}/README.md`);
    const hints = parseHints(readme);
    assertEquals(
      hints.map((h) => h.title.replace(/ \(.*$/, "")),
      ["Hint 1 — nudge", "Hint 2 — approach", "Hint 3 — near-answer"],
      lesson.id,
    );
    const outside = readme.replace(/<details>[\s\S]*?<\/details>/g, "").replace(/\s+/g, " ");
    for (const hint of hints) {
      // A sentence of 12 words or more copied from the README's text is a repeat, not a hint.
      for (const sentence of hint.body.replace(/\s+/g, " ").split(/(?<=[.:;!?])\s/)) {
        if (sentence.split(" ").length < 12) continue;
        assertFalse(outside.includes(sentence), `${lesson.id} ${hint.title} repeats: ${sentence}`);
      }
      const text = renderMarkdown(hint.body, { color: false, width: 80 });
      assertFalse(text.includes("```"), `${lesson.id} ${hint.title}: a raw fence`);
      for (const line of text.split("\n")) {
        assert(line.length <= 80, `${lesson.id} ${hint.title}: ${line.length} columns: ${line}`);
      }
    }
    assertMatch(hints[2].body, /```ts/, `${lesson.id}: the near-answer shows a code shape`);
  }
});
