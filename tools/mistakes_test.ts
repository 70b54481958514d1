import { assertEquals, assertThrows } from "@std/assert";
import { loadCatalog } from "./catalog.ts";
import { applyEdits, loadMistakes } from "./mistakes.ts";

Deno.test("mistakes: edits apply in order, and replacement text is taken literally", () => {
  assertEquals(applyEdits("a + b", [{ find: "+", replace: "$&-" }], "x"), "a $&- b");
});

Deno.test("mistakes: an edit whose text is missing or repeated names the mistake", () => {
  assertThrows(
    () => applyEdits("a + b", [{ find: "*", replace: "-" }], "times"),
    Error,
    "mistake times",
  );
  assertThrows(
    () => applyEdits("a + b + c", [{ find: "+", replace: "-" }], "twice"),
    Error,
    "found it 2 times",
  );
});

Deno.test("mistakes: every catalogued mistake applies cleanly to its solution file", async () => {
  for (const lesson of (await loadCatalog()).lessons) {
    for (const m of await loadMistakes(lesson)) {
      const source = await Deno.readTextFile(
        new URL(`../solutions/${lesson.id}/${m.file}`, import.meta.url),
      );
      applyEdits(source, m.edits, `${lesson.id}/${m.id}`);
    }
  }
});
