import { assert, assertEquals } from "@std/assert";
import { findLesson, loadCatalog, ROOT } from "../catalog.ts";
import { type Equivalent, lessonMutants, matches, staleEquivalents } from "./equivalents.ts";
import { applyMutant, describeMutant, generateMutants, type Mutant } from "./mutants.ts";
import { mutantTimeout } from "./run.ts";

function changes(source: string): string[] {
  return generateMutants("f.ts", source).map((m) => `${m.operator}: ${m.from} → ${m.to}`);
}

Deno.test("mutants: arithmetic, comparison with its boundary, logical", () => {
  const got = changes("export const f = (a: number, b: number) => a + b < 3 && a !== b;\n");
  for (
    const want of [
      "arithmetic: + → -",
      "comparison: < → <=",
      "comparison: < → >=",
      "logical: && → ||",
      "equality: !== → ===",
      "constant: 3 → 0",
      "constant: 3 → 4",
      "constant: 3 → 2",
    ]
  ) assert(got.includes(want), `missing ${want} in:\n${got.join("\n")}`);
});

Deno.test("mutants: negated conditions, removed statements and awaits, emptied values", () => {
  const got = changes(
    "export async function f(p: Promise<void>, log: (s: string) => void) {\n" +
      "  if (ok()) log('hi');\n  await p;\n  return [1, 2];\n}\n",
  );
  for (
    const want of [
      "negate-condition: ok() → !(ok())",
      "remove-statement: log('hi'); → ;",
      "empty-string: 'hi' → \"\"",
      "remove-await: await p → p",
      "empty-array: [1, 2] → []",
    ]
  ) assert(got.includes(want), `missing ${want} in:\n${got.join("\n")}`);
});

Deno.test("mutants: types, imports and keys are left alone", () => {
  const got = changes(
    'import { x } from "./x.ts";\ntype T = "a" | 1;\nexport const o = { "k": x as T };\n',
  );
  assertEquals(got, []);
});

Deno.test("mutants: zero becomes 1 and -1; a negative literal is mutated whole", () => {
  assertEquals(changes("export const a = 0, b = -2;\n"), [
    "constant: 0 → 1",
    "constant: 0 → (-1)",
    "constant: -2 → 0",
    "constant: -2 → (-1)",
    "constant: -2 → (-3)",
  ]);
});

Deno.test("mutants: applying one changes only its text; the line is described in one line", () => {
  const source = "export const x = 1 + 2;\n";
  const plus = generateMutants("f.ts", source).find((m) => m.from === "+")!;
  assertEquals(applyMutant(source, plus), "export const x = 1 - 2;\n");
  assertEquals(describeMutant(plus), "f.ts:1  `+` → `-`  (arithmetic) in: export const x = 1 + 2;");
});

Deno.test("equivalents: matched by file, source line and change, not by line number", () => {
  const m = generateMutants("f.ts", "\n\nexport const y = 5 > 3;\n").find((m) => m.to === ">=")!;
  const entry: Equivalent = {
    file: "f.ts",
    line: 99,
    code: "export const y = 5 > 3;",
    from: ">",
    to: ">=",
    reason: "r",
  };
  assert(matches(entry, m));
  assert(!matches({ ...entry, code: "export const y = 6 > 3;" }, m));
});

Deno.test("equivalents: constants the stub gives are not mutated; a stale entry is reported", async () => {
  const lesson = findLesson(await loadCatalog(), "3");
  const source = await Deno.readTextFile(`${ROOT}solutions/${lesson.id}/${lesson.files[0]}`);
  const all = generateMutants(lesson.files[0], source);
  const kept = await lessonMutants(lesson);
  const given = (m: Mutant) => m.code === "export const DEFAULT_PORT = 1060;";
  assert(all.some(given), "lesson 03's solution declares DEFAULT_PORT");
  assertEquals(kept.filter(given), [], "the stub gives DEFAULT_PORT: not mutated");
  assert(kept.every((m) => all.some((a) => a.start === m.start && a.to === m.to)));
  const gone: Equivalent = {
    file: lesson.files[0],
    line: 1,
    code: "gone",
    from: "<",
    to: "<=",
    reason: "",
  };
  assertEquals(
    (await staleEquivalents(lesson, [gone])).map((p) => p.replace(/:.*?: /, ": ")),
    [
      `${lesson.files[0]}: no reason given`,
      `${lesson.files[0]}: no such mutant in the solution now (in: gone)`,
    ],
  );
});

Deno.test("mutate: a mutant's time limit follows the solution's suite, within 5 to 10 s", () => {
  assertEquals(mutantTimeout(100), 5_000);
  assertEquals(mutantTimeout(1_500), 7_500);
  assertEquals(mutantTimeout(60_000), 10_000);
});

Deno.test("mutate: bad input is one line and exit code 2", async () => {
  for (const args of [[], ["99"], ["3", "--concurrency", "0"], ["3", "--bogus"]]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}tools/mutate.ts`, ...args],
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const err = new TextDecoder().decode(out.stderr).trim();
    assertEquals(out.code, 2, `${args.join(" ")}: ${err}`);
    assertEquals(err.split("\n").length, 1, err);
    assert(err.startsWith("mutate: "), err);
  }
});
