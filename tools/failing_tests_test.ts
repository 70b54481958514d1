import { assertEquals } from "@std/assert";
import { plainTestName } from "./failing_tests.ts";

Deno.test("failing tests: a skipped test's reason is not part of its recorded name", () => {
  assertEquals(plainTestName("a (skipped: needs Linux)"), "a");
  assertEquals(plainTestName("a (not a skip reason)"), "a (not a skip reason)");
  assertEquals(plainTestName("a (skipped: x) then more"), "a (skipped: x) then more");
});
