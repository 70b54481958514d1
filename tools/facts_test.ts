import { assert, assertEquals, assertMatch } from "@std/assert";
import { checkMarkers, FACTS, findMarkers, judge, quotedBefore, quotedNumber } from "./facts.ts";

Deno.test("facts: the figure right before a marker, across a wrapped line", () => {
  assertEquals(quotedBefore("returned about 3.9\nMB"), "3.9 MB");
  assertEquals(quotedBefore("at most 65,507"), "65,507");
  assertEquals(
    quotedBefore("fails with `Message too long (os error 90)`"),
    "Message too long (os error 90)",
  );
  assertEquals(
    quotedBefore('says "Message too long (os error 90)"'),
    "Message too long (os error 90)",
  );
  assertEquals(quotedBefore("about 140 MB/s"), "140 MB/s");
  assertEquals(quotedBefore("no figure here"), undefined);
});

Deno.test("facts: quoted numbers with units and thousands separators", () => {
  assertEquals(quotedNumber("3.9 MB"), 3_900_000);
  assertEquals(quotedNumber("24,000"), 24_000);
  assertEquals(quotedNumber("10 MB"), 10_000_000);
  assertEquals(quotedNumber("573 MB/s"), 573);
  assert(Number.isNaN(quotedNumber("lots")));
});

Deno.test("facts: markers are found with their line; malformed and unknown ones are problems", () => {
  const text = [
    "# Lesson",
    "at most 65,507<!-- fact:udp-max-ipv4-payload --> bytes",
    "a typo 3.9 MB<!-- fact:tcp-one-write --> here",
    "spaces 3.9 MB<!--fact tcp-one-write-accepted-->",
    "nothing before <!-- fact:echo-mb-per-s -->",
  ].join("\n");
  const { markers, problems } = findMarkers(text, "lessons/lesson-99/README.md");
  assertEquals(markers.map((m) => [m.line, m.name, m.quoted]), [
    [2, "udp-max-ipv4-payload", "65,507"],
    [5, "echo-mb-per-s", undefined],
  ]);
  assertEquals(problems.length, 3);
  assertMatch(problems[0], /README\.md:3: unknown fact "tcp-one-write"/);
  assertMatch(problems[1], /README\.md:4: malformed fact marker/);
  assertMatch(problems[2], /README\.md:5: no figure right before <!-- fact:echo-mb-per-s -->/);
});

Deno.test("facts: exact facts must match exactly, in either number format", () => {
  const marker = { file: "f.md", line: 1, name: "udp-max-ipv4-payload", quoted: "65,507" };
  const fact = FACTS["udp-max-ipv4-payload"];
  assertEquals(judge(marker, fact, 65_507, false).status, "ok");
  assertEquals(judge({ ...marker, quoted: "65507" }, fact, 65_507, false).status, "ok");
  const off = judge({ ...marker, quoted: "65,535" }, fact, 65_507, false);
  assertEquals(off.status, "wrong");
  assertEquals(off.message, 'f.md:1: udp-max-ipv4-payload: quoted "65,535", measured "65,507"');
  const error = { file: "f.md", line: 2, name: "udp-too-long-error", quoted: "Message too long" };
  assertEquals(
    judge(error, FACTS["udp-too-long-error"], "Message too long (os error 90)", false).status,
    "wrong",
  );
});

Deno.test("facts: variable facts pass within their band and fail outside it", () => {
  const marker = { file: "f.md", line: 7, name: "tcp-one-write-accepted", quoted: "3.9 MB" };
  const fact = FACTS["tcp-one-write-accepted"];
  assertEquals(judge(marker, fact, 3_919_467, false).status, "ok");
  const verdict = judge(marker, fact, 16_777_216, false);
  assertEquals(verdict.status, "wrong");
  assertMatch(
    verdict.message,
    /f\.md:7: tcp-one-write-accepted: quoted "3\.9 MB", measured "16\.8 MB"/,
  );
});

Deno.test("facts: a rate below its band is inconclusive on a busy machine only", () => {
  const marker = { file: "f.md", line: 3, name: "echo-mb-per-s", quoted: "140 MB/s" };
  const fact = FACTS["echo-mb-per-s"];
  assertEquals(judge(marker, fact, 150, false).status, "ok");
  assertEquals(judge(marker, fact, 25, true).status, "inconclusive");
  assertEquals(judge(marker, fact, 25, false).status, "wrong");
  assertEquals(judge(marker, fact, 1000, true).status, "wrong"); // faster than quoted: not load
});

Deno.test("facts: every marker in the lesson READMEs is well-formed and known", async () => {
  assertEquals(await checkMarkers(), []);
});

Deno.test("facts: the exact UDP facts measure what lesson 07 teaches", async () => {
  assertEquals(await FACTS["udp-max-ipv4-payload"].measure(), 65_507);
  assertEquals(await FACTS["udp-too-long-error"].measure(), "Message too long (os error 90)");
});

Deno.test("facts: milliseconds are a unit too", () => {
  assertEquals(quotedBefore("stalls about 40\nms"), "40 ms");
  assertEquals(quotedNumber("40 ms"), 40);
});

Deno.test("facts: bad usage is one line and exit 2", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-net=127.0.0.1",
      "--allow-sys=loadavg",
      "tools/facts.ts",
      "--bogus",
    ],
    cwd: new URL("..", import.meta.url),
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 2);
  assertEquals(text.trim().split("\n").length, 1);
  assertMatch(text, /--bogus/);
});
