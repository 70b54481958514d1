import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { blockName, markdownBlocks, testModule } from "./doc_blocks.ts";
import { withScratch } from "./scratch.ts";

const FENCE = "`".repeat(3);

Deno.test("markdownBlocks: ts, typescript, js and javascript run; ignore, text and sh do not", () => {
  const md = [
    "# Title",
    `${FENCE}ts`,
    "one();",
    FENCE,
    `${FENCE}typescript`,
    "two();",
    FENCE,
    `${FENCE}ts ignore`,
    "never();",
    FENCE,
    `${FENCE}sh`,
    "deno task test",
    FENCE,
    "~~~js",
    "three();",
    "~~~",
    `${FENCE}text`,
    FENCE + "ts", // with an info string: text, not the end of the text block
    FENCE,
  ].join("\n");
  assertEquals(markdownBlocks(md, "R.md").map((b) => [b.line, b.end, b.code]), [
    [2, 4, "one();\n"],
    [5, 7, "two();\n"],
    [14, 16, "three();\n"],
  ]);
});

Deno.test("markdownBlocks: a fence line with an info string inside a block is code, not its end", () => {
  const md = [`${FENCE}ts`, "const md = `", `${FENCE}sh`, "`;", FENCE, ""].join("\n");
  assertEquals(markdownBlocks(md, "R.md").map((b) => b.code), [
    ["const md = `", `${FENCE}sh`, "`;", ""].join("\n"),
  ]);
});

Deno.test("testModule: imports first, resolved against the README's folder; the rest in one test", () => {
  const source = testModule({
    file: "lessons/lesson-15/README.md",
    line: 57,
    end: 69,
    code: [
      "// a comment",
      'import { TextLineStream } from "@std/streams";',
      'import type { X } from "../../tools/x.ts";',
      "const lines = 1;",
      "await Promise.resolve(lines);",
      "",
    ].join("\n"),
  }, "/course");
  assertEquals(source.split("\n").slice(0, 3), [
    "// a comment",
    'import { TextLineStream } from "@std/streams";',
    'import type { X } from "file:///course/tools/x.ts";',
  ]);
  assertStringIncludes(
    source,
    'Deno.test("lessons/lesson-15/README.md, lines 57-69", async () => {\n' +
      "const lines = 1;\nawait Promise.resolve(lines);\n});",
  );
});

Deno.test("a block that throws fails its test, named by its file and lines", async () => {
  await withScratch("doc-blocks-test", async (work) => {
    const block = {
      file: "lessons/x/README.md",
      line: 3,
      end: 6,
      code: 'throw new Error("boom");\n',
    };
    await Deno.writeTextFile(`${work}/block_test.ts`, testModule(block, work));
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--no-check", "--no-config", `${work}/block_test.ts`],
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const out = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
    assertEquals(run.success, false, out);
    assertStringIncludes(out, `${blockName(block)} => `);
    assertMatch(out, /Error: boom/);
  });
});
