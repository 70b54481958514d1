/**
 * `deno task hint LESSON [--all] [--reset]` — a lesson's hints, one level at
 * a time (nudge, then approach, then near-answer). The hints are the
 * `<details><summary>Hint N — …</summary>` blocks of the lesson's README; how
 * far the learner has looked is remembered in `.course/hints.json`.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { bold, dim, stripAnsiCode } from "@std/fmt/colors";
import { findLesson, type Lesson, loadCatalog, ROOT } from "./catalog.ts";
import type { RenderOptions } from "./markdown.ts";
import { runMain, UsageError } from "./usage_error.ts";

/** One hint of a lesson. */
export interface Hint {
  /** Its summary line, e.g. `Hint 1 — nudge`. */
  title: string;
  /** Its markdown body. */
  body: string;
}

/** Where the number of hints seen per lesson is kept. */
export const SEEN_FILE = `${ROOT}.course/hints.json`;

/**
 * The hints of a lesson README, in order.
 *
 * @example
 * ```ts
 * import { parseHints } from "./hints.ts";
 * const readme = "## Hints\n\n<details>\n<summary>Hint 1 — nudge</summary>\n\nLook at port 0.\n\n</details>\n";
 * parseHints(readme)[0].title; // "Hint 1 — nudge"
 * ```
 */
export function parseHints(readme: string): Hint[] {
  return [...readme.matchAll(/<details>\s*<summary>([\s\S]*?)<\/summary>([\s\S]*?)<\/details>/g)]
    .map((m) => ({ title: m[1].trim(), body: m[2].trim() }));
}

async function readSeen(): Promise<Record<string, number>> {
  try {
    return JSON.parse(await Deno.readTextFile(SEEN_FILE));
  } catch {
    return {};
  }
}

/**
 * Reveals a lesson's hints up to the next unseen one (or all of them), and
 * remembers how far the learner has looked. Returns the text to show.
 *
 * @example
 * ```ts ignore
 * console.log(await revealHints(lesson)); // "… 2 more: run deno task hint lesson-03 again …"
 * console.log(await revealHints(lesson, false, { nextStep: "press h" })); // inside watch
 * ```
 */
export async function revealHints(
  lesson: Lesson,
  all = false,
  { render, nextStep = `run deno task hint ${lesson.id} again` }: {
    /** How to draw the hints' markdown (default: what the terminal can show). */
    render?: RenderOptions;
    /** What the learner does for the next hint, e.g. `press h` inside watch. */
    nextStep?: string;
  } = {},
): Promise<string> {
  const hints = parseHints(await Deno.readTextFile(`${ROOT}lessons/${lesson.id}/README.md`));
  if (!hints.length) throw new UsageError(`${lesson.id} has no hints`);
  const seen = await readSeen();
  const already = seen[lesson.id] ?? 0;
  const upTo = all ? hints.length : Math.min(already + 1, hints.length);
  seen[lesson.id] = Math.max(already, upTo);
  await writeSeen(seen);
  // Loaded here, not at the top: only a hint shown needs the Markdown packages.
  const { renderMarkdown, terminalOptions } = await import("./markdown.ts");
  const options = render ?? terminalOptions();
  const out: string[] = [];
  for (const [i, hint] of hints.slice(0, upTo).entries()) {
    const fresh = i >= already;
    out.push(
      fresh ? bold(`${lesson.id} · ${hint.title}`) : dim(`${lesson.id} · ${hint.title} (seen)`),
    );
    const body = renderMarkdown(hint.body, options);
    out.push(fresh ? body : dim(stripAnsiCode(body)), "");
  }
  out.push(
    upTo < hints.length
      ? dim(`${hints.length - upTo} more: ${nextStep} for the next one.`)
      : dim(`That was the last hint. The reference solution is solutions/${lesson.id}/.`),
  );
  return options.color ? out.join("\n") : stripAnsiCode(out.join("\n"));
}

async function writeSeen(seen: Record<string, number>): Promise<void> {
  await Deno.mkdir(`${ROOT}.course`, { recursive: true });
  await Deno.writeTextFile(SEEN_FILE, JSON.stringify(seen, null, 2));
}

async function main(): Promise<number> {
  const flags = parseArgs(Deno.args, {
    boolean: ["help", "all", "reset"],
    unknown: (arg: string) => {
      if (arg.startsWith("-")) {
        throw new UsageError(
          `unknown option ${arg}; usage: deno task hint LESSON [--all] [--reset]`,
        );
      }
      return true;
    },
  });
  if (flags.help || flags._.length !== 1) {
    if (flags.help) {
      console.log("usage: deno task hint LESSON [--all] [--reset]");
      return 0;
    }
    throw new UsageError("name one lesson, e.g. deno task hint lesson-03");
  }
  const lesson = findLesson(await loadCatalog(), String(flags._[0]));
  if (flags.reset) {
    const seen = await readSeen();
    delete seen[lesson.id];
    await writeSeen(seen);
    console.log(`Hints for ${lesson.id} hidden again.`);
  } else console.log(await revealHints(lesson, flags.all));
  return 0;
}

if (import.meta.main) await runMain("hint", main);
