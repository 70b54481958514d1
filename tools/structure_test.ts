import { assertEquals } from "@std/assert";
import { differingData } from "./structure.ts";

Deno.test("structure: a stub's constants must be its solution's; functions and classes may differ", () => {
  class Box {}
  const solution = {
    CHUNK_SIZE: 256 * 1024,
    NAME: "x",
    LIMITS: [1, 2],
    TABLE: { a: 1 },
    MISSING_NAN: NaN,
    run() {},
    Box,
    box: new Box(),
  };
  assertEquals(differingData("f.ts", { ...solution, run: () => 1, Box: class {} }, solution), []);
  assertEquals(
    differingData("f.ts", {
      ...solution,
      CHUNK_SIZE: 64 * 1024,
      LIMITS: [1, 3],
      TABLE: { a: 2 },
      MISSING_NAN: 0,
      box: {},
    }, solution),
    [
      "f.ts: the stub's CHUNK_SIZE is 65536, the solution's 262144: the tests expect the solution's",
      "f.ts: the stub's LIMITS is [1,3], the solution's [1,2]: the tests expect the solution's",
      'f.ts: the stub\'s TABLE is {"a":2}, the solution\'s {"a":1}: the tests expect the solution\'s',
      "f.ts: the stub's MISSING_NAN is 0, the solution's NaN: the tests expect the solution's",
    ],
  );
});
