/**
 * Markdown drawn for a terminal (a hint's body), with `marked` and
 * `marked-terminal`. A module of its own because those packages (and the
 * highlighter they load) take about 0.2 s to load: `deno task watch`, the
 * check and the structure rules read hints without drawing them, and load
 * this only when a hint is shown.
 *
 * @module
 */

import { blue, bold, gray, green, italic, stripAnsiCode, underline, yellow } from "@std/fmt/colors";
import { Marked, type MarkedExtension, type Tokens } from "marked";
import { markedTerminal } from "marked-terminal";
import wrapAnsi from "wrap-ansi";

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
 * import { renderMarkdown } from "./markdown.ts";
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
