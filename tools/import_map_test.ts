import { assertEquals } from "@std/assert";
import { ROOT } from "./catalog.ts";
import { importMapFor } from "./import_map.ts";

Deno.test("import map: exercises/ is retargeted; deno.json's names stay, made absolute", async () => {
  const map = await importMapFor({ label: "solutions", dir: `${ROOT}solutions` });
  assertEquals(map.imports[`file://${ROOT}exercises/`], `file://${ROOT}solutions/`);
  assertEquals(map.imports["@course/program"], `file://${ROOT}tools/program.ts`);
  assertEquals(map.imports["@std/assert"].startsWith("npm:"), true);
});

Deno.test("import map: an overlay replaces one file, from the test and from sibling solution files", async () => {
  const map = await importMapFor({
    label: "mistake x",
    dir: `${ROOT}solutions`,
    overlay: { dir: "/tmp/variant", files: ["lesson-03/udp_local.ts"] },
  });
  assertEquals(
    map.imports[`file://${ROOT}exercises/lesson-03/udp_local.ts`],
    "file:///tmp/variant/lesson-03/udp_local.ts",
  );
  assertEquals(
    map.imports[`file://${ROOT}solutions/lesson-03/udp_local.ts`],
    "file:///tmp/variant/lesson-03/udp_local.ts",
  );
  assertEquals(map.imports["file:///tmp/variant/"], `file://${ROOT}solutions/`);
});
