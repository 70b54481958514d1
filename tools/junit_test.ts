import { assertEquals } from "@std/assert";
import { CANCELLED, parseJUnit } from "./junit.ts";

const xml = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="deno test" tests="5" failures="3" errors="0" time="0.040">
  <testsuite name="./tests/lesson-03/a_test.ts" tests="5" disabled="0" errors="0" failures="3">
    <testcase name="passes" classname="./tests/lesson-03/a_test.ts" time="0.012" line="1" col="6">
    </testcase>
    <testcase name="fails &amp; teaches" classname="./tests/lesson-03/a_test.ts" time="0.002" line="2" col="6">
      <failure message="Uncaught LessonFailure: reply differs
  expected: &quot;a&lt;b&quot;">LessonFailure: reply differs
  expected: &quot;a&lt;b&quot;
    at file:///x/tests/lesson-03/a_test.ts:2:34</failure>
    </testcase>
    <testcase name="leaks" classname="./tests/lesson-03/a_test.ts" time="0.011" line="3" col="6">
      <failure message="Leaks detected">Leaks detected:
  - A UDP socket was opened during the test, but not closed during the test.</failure>
    </testcase>
    <testcase name="cancelled" classname="./tests/lesson-03/a_test.ts" time="0.000" line="4" col="6">
      <error message="Cancelled"/>
    </testcase>
    <testcase name="steps &gt; one" classname="./tests/lesson-03/a_test.ts" time="0.000" line="5" col="6">
    </testcase>
  </testsuite>
</testsuites>`;

Deno.test("junit: reads each test's outcome, message and duration", () => {
  const results = parseJUnit(xml);
  assertEquals(results.map((r) => [r.name, r.passed]), [
    ["passes", true],
    ["fails & teaches", false],
    ["leaks", false],
    ["cancelled", false],
    ["steps > one", true],
  ]);
  assertEquals(results[0].ms, 12);
  assertEquals(results[0].file, "tests/lesson-03/a_test.ts");
  assertEquals(results[1].message, 'reply differs\n  expected: "a<b"');
  assertEquals(results[1].detail.includes("a_test.ts:2:34"), true);
});

Deno.test("junit: a leak report keeps its list; a cancelled test says why", () => {
  const results = parseJUnit(xml);
  assertEquals(results[2].message.includes("A UDP socket was opened"), true, results[2].message);
  assertEquals(results[3].message, CANCELLED);
});
