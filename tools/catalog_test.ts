import { assertEquals, assertThrows } from "@std/assert";
import { findLesson, loadCatalog } from "./catalog.ts";
import { UsageError } from "./usage_error.ts";

Deno.test("catalog: every spelling a learner might type finds the lesson", async () => {
  const catalog = await loadCatalog();
  for (const name of ["lesson-03", "lesson-3", "03", "3", "LESSON-03", " 3 "]) {
    assertEquals(findLesson(catalog, name).id, "lesson-03", name);
  }
});

Deno.test("catalog: an unknown lesson is a usage error listing the valid IDs", async () => {
  const catalog = await loadCatalog();
  for (const name of ["99", "lesson-0", "udp", ""]) {
    const error = assertThrows(() => findLesson(catalog, name), UsageError);
    assertEquals(error.message.includes("lesson-01, lesson-02"), true, error.message);
    assertEquals(error.message.includes("\n"), false);
  }
});

Deno.test("catalog: a broken catalog is rejected with the reason", async () => {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        title: "t",
        version: "1",
        goals: { checkFloorRatio: 0 },
        lessons: [
          {
            id: "lesson-02",
            title: "b",
            notes: ["n"],
            files: ["b.ts"],
            net: [],
            suiteGoalSeconds: -1,
          },
          { id: "lesson-01", title: "a", notes: ["n"], files: ["a.ts"], program: "x.ts", net: [] },
        ],
      }),
    );
    const error = await loadCatalog(path).then(() => undefined, (e: Error) => e);
    assertEquals(error?.message.includes("increasing order"), true, error?.message);
    assertEquals(error?.message.includes("program must be one of its files"), true, error?.message);
    assertEquals(error?.message.includes("goals.checkFloorRatio must be"), true, error?.message);
    assertEquals(error?.message.includes("suiteGoalSeconds must be"), true, error?.message);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("catalog: speed goals default to ratios: 3 floors per suite, half of pipeTo for the echo", async () => {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(path, JSON.stringify({ title: "t", version: "1", lessons: [] }));
    const catalog = await loadCatalog(path);
    assertEquals(catalog.goals, {
      suiteFloorRatio: 3,
      courseFloorRatio: 50,
      checkFloorRatio: 600,
      gradeFloorRatio: 300,
      echoPipeToRatio: 0.5,
    });
  } finally {
    await Deno.remove(path);
  }
});
