/**
 * The TypeScript blocks of the lesson READMEs as test modules, so that the
 * check runs them all in one isolate. `deno test --doc` starts an isolate per
 * block (33 blocks: about 4 s of CPU time, nearly all of it start-up); here
 * each block becomes a module of its own (its own scope, as with Deno) whose
 * imports are hoisted and whose other statements run inside one `Deno.test`,
 * as `deno test --doc` wraps them, and one entry module imports them all.
 * Type-checking stays Deno's own: `deno check --doc` of the READMEs.
 *
 * A block runs when its fence says `ts`, `typescript`, `js` or `javascript`
 * and has no `ignore` attribute, as with `deno test --doc`.
 *
 * @module
 */

import ts from "typescript";
import { dirname, resolve, toFileUrl } from "@std/path";

/** One runnable block of a Markdown file. */
export interface DocBlock {
  /** The Markdown file, as given. */
  file: string;
  /** The line of the opening fence (1-based). */
  line: number;
  /** The line of the closing fence. */
  end: number;
  /** The code between the fences. */
  code: string;
}

const RUNNABLE = new Set(["ts", "typescript", "js", "javascript"]);

/**
 * The runnable blocks of a Markdown text.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { markdownBlocks } from "./doc_blocks.ts";
 * const fence = "`".repeat(3);
 * const md = `# A\n\n${fence}ts\nconsole.log(1);\n${fence}\n\n${fence}ts ignore\nnope();\n${fence}\n`;
 * assertEquals(markdownBlocks(md, "README.md"), [
 *   { file: "README.md", line: 3, end: 5, code: "console.log(1);\n" },
 * ]);
 * ```
 */
export function markdownBlocks(markdown: string, file: string): DocBlock[] {
  const lines = markdown.split("\n");
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^(\s*)(`{3,}|~{3,})\s*([^\s`]*)(.*)$/);
    if (!open) continue;
    const [, , fence, lang, attributes] = open;
    let close = i + 1;
    // A closing fence: the same character, at least as long, and nothing after it (CommonMark).
    const closing = new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`);
    while (close < lines.length && !closing.test(lines[close])) close++;
    const runnable = RUNNABLE.has(lang.toLowerCase()) && !/\bignore\b/.test(attributes);
    if (runnable) {
      const body = lines.slice(i + 1, close);
      blocks.push({ file, line: i + 1, end: close + 1, code: body.map((l) => `${l}\n`).join("") });
    }
    i = close;
  }
  return blocks;
}

/**
 * A block's test name: its file and lines, as a reader finds it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { blockName } from "./doc_blocks.ts";
 * assertEquals(blockName({ file: "a/README.md", line: 3, end: 5, code: "" }), "a/README.md, lines 3-5");
 * ```
 */
export function blockName(block: DocBlock): string {
  return `${block.file}, lines ${block.line}-${block.end}`;
}

/**
 * A block as a test module: its imports first (relative specifiers made
 * absolute, against the folder of the Markdown file, itself relative to
 * `root`), then one `Deno.test` named by {@linkcode blockName} that runs
 * everything else.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "@std/assert";
 * import { testModule } from "./doc_blocks.ts";
 * const source = testModule({
 *   file: "lessons/lesson-15/README.md",
 *   line: 10,
 *   end: 14,
 *   code: 'import { x } from "./x.ts";\nconsole.log(x);\n',
 * }, "/course");
 * assertStringIncludes(source, 'import { x } from "file:///course/lessons/lesson-15/x.ts";');
 * assertStringIncludes(source, "async () => {\nconsole.log(x);\n});");
 * ```
 */
export function testModule(block: DocBlock, root: string): string {
  const source = ts.createSourceFile("block.ts", block.code, ts.ScriptTarget.Latest, false);
  const base = toFileUrl(`${resolve(root, dirname(block.file))}/`).href;
  const imports: string[] = [];
  const rest: string[] = [];
  for (const statement of source.statements) {
    const text = block.code.slice(statement.getFullStart(), statement.end);
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      const specifier = statement.moduleSpecifier.text;
      const resolved = specifier.startsWith(".") ? new URL(specifier, base).href : specifier;
      imports.push(
        text.trim().replace(
          statement.moduleSpecifier.getText(source),
          JSON.stringify(resolved),
        ),
      );
    } else {
      rest.push(text);
    }
  }
  return [
    ...imports,
    `Deno.test(${JSON.stringify(blockName(block))}, async () => {`,
    rest.join("").trim(),
    "});",
    "",
  ].join("\n");
}
