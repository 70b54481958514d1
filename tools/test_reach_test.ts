import { assertEquals } from "@std/assert";
import { findLesson, type Lesson, loadCatalog } from "./catalog.ts";
import { testsReaching } from "./test_reach.ts";

Deno.test("test_reach: the course's own lessons, through solution files that import each other", async () => {
  const catalog = await loadCatalog();
  const reach = (n: string, file: string) => testsReaching(findLesson(catalog, n), file);
  // greeter.ts imports bytes.ts; sandbox_test imports greeter.ts.
  assertEquals(await reach("1", "bytes.ts"), [
    "bytes_test.ts",
    "greeter_test.ts",
    "sandbox_test.ts",
  ]);
  assertEquals(await reach("1", "greeter.ts"), ["greeter_test.ts", "sandbox_test.ts"]);
  assertEquals(await reach("1", "sandbox.ts"), ["sandbox_test.ts"]);
  // client.ts and server.ts import protocol.ts; their JSDoc examples import each other, which
  // does not count.
  assertEquals(await reach("9", "client.ts"), ["client_test.ts", "end_to_end_test.ts"]);
  assertEquals(await reach("9", "server.ts"), ["end_to_end_test.ts", "server_test.ts"]);
  assertEquals(await reach("9", "protocol.ts"), [
    "client_test.ts",
    "end_to_end_test.ts",
    "protocol_test.ts",
    "server_test.ts",
  ]);
  assertEquals(await reach("9", "counter.ts"), ["end_to_end_test.ts"]);
});

Deno.test("test_reach: helpers, re-exports and import() are followed; a file named in a string reaches all", async () => {
  const root = await Deno.makeTempDir({ prefix: "reach-test-" });
  try {
    const files: Record<string, string> = {
      "solutions/lesson-99/a.ts": 'import { b } from "./b.ts";\nexport const a = b;\n',
      "solutions/lesson-99/b.ts": "export const b = 1;\n",
      "solutions/lesson-99/c.ts": "export const c = 1;\n",
      "solutions/lesson-99/d.ts": "export const d = 1;\n",
      // Through a helper of the lesson's tests that re-exports from the exercise.
      "tests/lesson-99/helper.ts": 'export { a } from "../../exercises/lesson-99/a.ts";\n',
      "tests/lesson-99/via_helper_test.ts": 'import { a } from "./helper.ts";\nconsole.log(a);\n',
      // A dynamic import is an import too; one quoted in a comment is not.
      "tests/lesson-99/dynamic_test.ts": [
        "// import { b } from '../../exercises/lesson-99/b.ts';",
        '/** import { d } from "../../exercises/lesson-99/d.ts"; */',
        'await import("../../exercises/lesson-99/c.ts");',
        "",
      ].join("\n"),
      // Runs a lesson file as a program: the file cannot be followed, so it reaches every file.
      "tests/lesson-99/program_test.ts":
        'const program = new URL("../../exercises/lesson-99/a.ts", import.meta.url);\n' +
        "console.log(program);\n",
      "tests/lesson-99/alone_test.ts": "Deno.test('x', () => {});\n",
    };
    for (const [path, text] of Object.entries(files)) {
      await Deno.mkdir(`${root}/${path.split("/").slice(0, -1).join("/")}`, { recursive: true });
      await Deno.writeTextFile(`${root}/${path}`, text);
    }
    const lesson = { id: "lesson-99" } as Lesson;
    const reach = (file: string) => testsReaching(lesson, file, `${root}/`);
    assertEquals(await reach("a.ts"), ["program_test.ts", "via_helper_test.ts"]);
    assertEquals(await reach("b.ts"), ["program_test.ts", "via_helper_test.ts"]);
    assertEquals(await reach("c.ts"), ["dynamic_test.ts", "program_test.ts"]);
    assertEquals(await reach("d.ts"), ["program_test.ts"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
