/**
 * `deno task hint LESSON [--all] [--reset]` — a lesson's hints, one level at
 * a time (nudge, then approach, then near-answer). The hints are the
 * `<details><summary>Hint N — …</summary>` blocks of the lesson's README; how
 * far the learner has looked is remembered in `.course/hints.json`.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import {
  blue,
  bold,
  dim,
  gray,
  green,
  italic,
  stripAnsiCode,
  underline,
  yellow,
} from "@std/fmt/colors";
import { Marked, type MarkedExtension, type Tokens } from "marked";
import { markedTerminal } from "marked-terminal";
import wrapAnsi from "wrap-ansi";
import { findLesson, type Lesson, loadCatalog, ROOT } from "./catalog.ts";
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

/** How markdown is drawn for the terminal. */
export interface RenderOptions {
  /** Colours and bold (ANSI); off under `NO_COLOR` or when stdout is not a terminal. */
  color: boolean;
  /** Columns no line may exceed (code lines aside). */
  width: number;
}

/** The terminal's own settings: colour unless `NO_COLOR`, at most 80 columns. */
export function terminalOptions(): RenderOptions {
  const terminal = Deno.stdout.isTerminal();
  const columns = terminal ? Deno.consoleSize().columns : 0;
  // A pseudo-terminal may report 0 columns; narrower than 40 is not worth wrapping for.
  return { color: terminal && !Deno.noColor, width: columns >= 40 ? Math.min(80, columns) : 80 };
}

/**
 * Markdown drawn for a terminal with `marked` and `marked-terminal`:
 * paragraphs and list items wrapped to `width`, code blocks indented and
 * (in colour) highlighted, a fence's extra words such as `ts ignore` dropped.
 *
 * @example
 * ```ts
 * import { renderMarkdown } from "./hints.ts";
 * const fence = "`".repeat(3);
 * const text = renderMarkdown(`Use it.\n\n${fence}ts ignore\nconst a = 1;\n${fence}`, {
 *   color: false,
 *   width: 80,
 * });
 * text.includes(fence); // false
 * ```
 */
export function renderMarkdown(markdown: string, options: RenderOptions): string {
  const { width } = options;
  const marked = new Marked();
  marked.use(markedTerminal({
    width,
    reflowText: true,
    tab: 2,
    showSectionPrefix: false,
    // The course's own colours (off under NO_COLOR), not the terminal guesses of marked-terminal's.
    code: yellow,
    codespan: yellow,
    strong: bold,
    em: italic,
    link: blue,
    href: (text: string) => blue(underline(text)),
    blockquote: (text: string) => gray(italic(text)),
    heading: (text: string) => green(bold(text)),
    // marked-terminal wraps paragraphs only; list items are wrapped here, inside their indent.
    listitem: (text: string) => wrapAnsi(text, width - 5, { hard: true }),
  }) as MarkedExtension);
  marked.use({
    // Inline code and emphasis inside a tight list item (marked-terminal prints them raw).
    renderer: {
      text(token: Tokens.Text | Tokens.Escape) {
        return "tokens" in token && token.tokens ? this.parser.parseInline(token.tokens) : false;
      },
    },
    // "```ts ignore" names the language "ts"; the highlighter knows no "ts ignore".
    walkTokens(token) {
      if (token.type === "code") token.lang = token.lang?.split(/\s+/)[0] || undefined;
    },
  });
  const text = (marked.parse(markdown, { async: false }) as string).replace(/\n+$/, "");
  const fitted = text.split("\n").map((line) => fitLine(line, width)).join("\n");
  return options.color ? fitted : stripAnsiCode(fitted);
}

/** A line too wide (a long code line) broken at spaces, continuations indented 2 more. */
function fitLine(line: string, width: number): string {
  if (stripAnsiCode(line).length <= width) return line;
  const indent = " ".repeat(
    stripAnsiCode(line).length - stripAnsiCode(line).trimStart().length + 2,
  );
  const [first, ...rest] = wrapAnsi(line, width, { hard: true, trim: false }).split("\n");
  if (!rest.length) return first;
  const tail = rest.map((part) => part.trimStart()).join(" ");
  return `${first.trimEnd()}\n${fitLine(indent + tail, width)}`;
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
  { render = terminalOptions(), nextStep = `run deno task hint ${lesson.id} again` }: {
    /** How to draw the hints' markdown. */
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
  const out: string[] = [];
  for (const [i, hint] of hints.slice(0, upTo).entries()) {
    const fresh = i >= already;
    out.push(
      fresh ? bold(`${lesson.id} · ${hint.title}`) : dim(`${lesson.id} · ${hint.title} (seen)`),
    );
    const body = renderMarkdown(hint.body, render);
    out.push(fresh ? body : dim(stripAnsiCode(body)), "");
  }
  out.push(
    upTo < hints.length
      ? dim(`${hints.length - upTo} more: ${nextStep} for the next one.`)
      : dim(`That was the last hint. The reference solution is solutions/${lesson.id}/.`),
  );
  return render.color ? out.join("\n") : stripAnsiCode(out.join("\n"));
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
