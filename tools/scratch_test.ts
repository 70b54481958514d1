import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { SCRATCH, withFixedScratch } from "./scratch.ts";

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("withFixedScratch: the same path each run; while one run holds it, another gets a fresh folder", async () => {
  const name = `fixed-test-${crypto.randomUUID()}`;
  const path = `${SCRATCH}/${name}`;
  const first = await withFixedScratch(name, async (dir, fixed) => {
    assert(fixed);
    await Deno.writeTextFile(`${dir}/x`, "y");
    const inner = await withFixedScratch(name, (other, otherFixed) => {
      assertEquals(otherFixed, false);
      assertNotEquals(other, dir);
      return Promise.resolve(other);
    });
    assertEquals(await exists(inner), false);
    assertEquals(await Deno.readTextFile(`${dir}/x`), "y");
    return dir;
  });
  assertEquals(first, path);
  assertEquals(await exists(path), false);
  assertEquals(await withFixedScratch(name, (dir) => Promise.resolve(dir)), path);
  await Deno.remove(`${path}.lock`);
});

Deno.test("withFixedScratch: a folder left by a run that ended without removing it is cleared", async () => {
  const name = `fixed-test-${crypto.randomUUID()}`;
  const path = `${SCRATCH}/${name}`;
  await Deno.mkdir(path, { recursive: true });
  await Deno.writeTextFile(`${path}/stale`, "");
  const seen = await withFixedScratch(name, async (dir, fixed) => {
    assert(fixed);
    return [dir, await exists(`${dir}/stale`)] as const;
  });
  assertEquals(seen, [path, false]);
  assertEquals(await exists(path), false);
  await Deno.remove(`${path}.lock`);
});
