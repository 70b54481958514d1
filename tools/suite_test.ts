import { assertEquals } from "@std/assert";
import { loadCatalog } from "./catalog.ts";
import { planSharedRuns } from "./suite.ts";

Deno.test("planSharedRuns: each lesson once, with lessons of the same hosts only, at most N processes per group", async () => {
  const { lessons } = await loadCatalog();
  for (const processes of [1, 2, 4, 100]) {
    const runs = planSharedRuns(lessons, processes);
    assertEquals(runs.flat().map((l) => l.id).sort(), lessons.map((l) => l.id));
    for (const run of runs) {
      const hosts = new Set(run.map((l) => [...l.net].sort().join(",")));
      assertEquals(hosts.size, 1, `one process mixes hosts: ${run.map((l) => l.id)}`);
    }
    const perGroup = new Map<string, number>();
    for (const run of runs) {
      const key = [...run[0].net].sort().join(",");
      perGroup.set(key, (perGroup.get(key) ?? 0) + 1);
    }
    for (const [key, count] of perGroup) {
      const size = lessons.filter((l) => [...l.net].sort().join(",") === key).length;
      assertEquals(count, Math.min(processes, size), `${key} with ${processes} processes`);
    }
  }
});

Deno.test("planSharedRuns: zero processes still plans one per group", () => {
  const lessons = [{ id: "a", net: ["127.0.0.1"] }, { id: "b", net: ["127.0.0.1"] }];
  assertEquals(planSharedRuns(lessons, 0), [lessons]);
});
