/**
 * Mutant generation: small, automatic changes to a reference solution's
 * TypeScript, found by walking its syntax tree (the `typescript` package's
 * parser). Each mutant is one textual replacement of one node; the suite
 * that lets it pass has a hole.
 *
 * Operators: arithmetic (`+`↔`-`, `*`↔`/`, `%`→`*`), bitwise and shifts,
 * comparison with its boundary (`<`↔`<=`, `>`↔`>=`) and its negation
 * (`===`↔`!==`, `<`→`>=`), logical (`&&`↔`||`, `??`→`&&`), negated
 * conditions (`if`, loops, `?:`), removed `!` and unary minus, `true`↔`false`,
 * numeric constants ±1 and 0, `++`↔`--`, `+=`↔`-=`, removed expression
 * statements, removed `await`s, emptied strings and arrays.
 *
 * @module
 */

import ts from "typescript";

/** One generated mutant: a single replacement in one file. */
export interface Mutant {
  /** The solution file's name inside its lesson folder, e.g. `udp_local.ts`. */
  file: string;
  /** 1-based line of the change. */
  line: number;
  /** The operator that made it, e.g. `boundary`, `remove-await`. */
  operator: string;
  /** Offset of the replaced text in the source. */
  start: number;
  /** Offset just past the replaced text. */
  end: number;
  /** The replaced text. */
  from: string;
  /** What replaces it. */
  to: string;
  /** The source line holding the change, trimmed (identifies the mutant across edits). */
  code: string;
}

const BINARY: Partial<Record<ts.SyntaxKind, [string, string[]]>> = {
  [ts.SyntaxKind.PlusToken]: ["arithmetic", ["-"]],
  [ts.SyntaxKind.MinusToken]: ["arithmetic", ["+"]],
  [ts.SyntaxKind.AsteriskToken]: ["arithmetic", ["/"]],
  [ts.SyntaxKind.SlashToken]: ["arithmetic", ["*"]],
  [ts.SyntaxKind.PercentToken]: ["arithmetic", ["*"]],
  [ts.SyntaxKind.AmpersandToken]: ["bitwise", ["|"]],
  [ts.SyntaxKind.BarToken]: ["bitwise", ["&"]],
  [ts.SyntaxKind.CaretToken]: ["bitwise", ["&"]],
  [ts.SyntaxKind.LessThanLessThanToken]: ["bitwise", [">>"]],
  [ts.SyntaxKind.GreaterThanGreaterThanToken]: ["bitwise", ["<<"]],
  [ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken]: ["bitwise", [">>"]],
  [ts.SyntaxKind.LessThanToken]: ["comparison", ["<=", ">="]],
  [ts.SyntaxKind.LessThanEqualsToken]: ["comparison", ["<", ">"]],
  [ts.SyntaxKind.GreaterThanToken]: ["comparison", [">=", "<="]],
  [ts.SyntaxKind.GreaterThanEqualsToken]: ["comparison", [">", "<"]],
  [ts.SyntaxKind.EqualsEqualsEqualsToken]: ["equality", ["!=="]],
  [ts.SyntaxKind.ExclamationEqualsEqualsToken]: ["equality", ["==="]],
  [ts.SyntaxKind.EqualsEqualsToken]: ["equality", ["!="]],
  [ts.SyntaxKind.ExclamationEqualsToken]: ["equality", ["=="]],
  [ts.SyntaxKind.AmpersandAmpersandToken]: ["logical", ["||"]],
  [ts.SyntaxKind.BarBarToken]: ["logical", ["&&"]],
  [ts.SyntaxKind.QuestionQuestionToken]: ["logical", ["&&"]],
  [ts.SyntaxKind.PlusEqualsToken]: ["assignment", ["-="]],
  [ts.SyntaxKind.MinusEqualsToken]: ["assignment", ["+="]],
  [ts.SyntaxKind.AsteriskEqualsToken]: ["assignment", ["/="]],
  [ts.SyntaxKind.SlashEqualsToken]: ["assignment", ["*="]],
  [ts.SyntaxKind.BarEqualsToken]: ["assignment", ["&="]],
  [ts.SyntaxKind.AmpersandEqualsToken]: ["assignment", ["|="]],
  [ts.SyntaxKind.LessThanLessThanEqualsToken]: ["assignment", [">>="]],
  [ts.SyntaxKind.GreaterThanGreaterThanEqualsToken]: ["assignment", ["<<="]],
  [ts.SyntaxKind.GreaterThanGreaterThanGreaterThanEqualsToken]: ["assignment", [">>="]],
  [ts.SyntaxKind.QuestionQuestionEqualsToken]: ["assignment", ["&&="]],
  [ts.SyntaxKind.BarBarEqualsToken]: ["assignment", ["&&="]],
  [ts.SyntaxKind.AmpersandAmpersandEqualsToken]: ["assignment", ["||="]],
};

/** Nodes whose subtree is declarations only: nothing to mutate there. */
function isSkipped(node: ts.Node): boolean {
  return ts.isImportDeclaration(node) || ts.isExportDeclaration(node) ||
    ts.isTypeNode(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node) ||
    ts.isImportTypeNode(node) || ts.isLiteralTypeNode(node) || ts.isModuleDeclaration(node);
}

/** A string literal that is a name rather than a value (a key, a module specifier). */
function isNameLike(node: ts.Node): boolean {
  const parent = node.parent;
  return (ts.isPropertyAssignment(parent) && parent.name === node) ||
    (ts.isPropertyDeclaration(parent) && parent.name === node) ||
    (ts.isMethodDeclaration(parent) && parent.name === node) ||
    ts.isElementAccessExpression(parent) && parent.argumentExpression === node &&
      ts.isStringLiteral(node) ||
    (ts.isCallExpression(parent) && parent.expression.kind === ts.SyntaxKind.ImportKeyword);
}

function numberText(value: number): string {
  return value < 0 ? `(${value})` : String(value);
}

/**
 * Every mutant of `source` (the text of solution file `file`), in source
 * order, without duplicates (two changes that give the same program count
 * once).
 *
 * @example
 * ```ts
 * import { generateMutants } from "./mutants.ts";
 * const mutants = generateMutants("f.ts", "export const ok = (n: number) => n < 3;\n");
 * mutants.map((m) => `${m.from} → ${m.to}`);
 * // ["n < 3 → n >= 3" …, "< → <=", "< → >=", "3 → 0", "3 → 4", "3 → 2"]
 * ```
 */
export function generateMutants(file: string, source: string): Mutant[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const lines = source.split("\n");
  const out: Mutant[] = [];
  const seen = new Set<string>();
  const add = (operator: string, start: number, end: number, to: string) => {
    const from = source.slice(start, end);
    if (from === to) return;
    const key = `${start}:${end}:${to}`;
    if (seen.has(key)) return;
    seen.add(key);
    const line = sf.getLineAndCharacterOfPosition(start).line + 1;
    out.push({ file, line, operator, start, end, from, to, code: lines[line - 1].trim() });
  };
  const whole = (operator: string, node: ts.Node, to: string) =>
    add(operator, node.getStart(sf), node.getEnd(), to);

  const negate = (condition: ts.Expression) => {
    if (
      ts.isPrefixUnaryExpression(condition) && condition.operator === ts.SyntaxKind.ExclamationToken
    ) {
      return; // removing the `!` is the unary operator's mutant already
    }
    whole("negate-condition", condition, `!(${condition.getText(sf)})`);
  };

  const visit = (node: ts.Node): void => {
    if (isSkipped(node)) return;
    if (ts.isIfStatement(node) || ts.isWhileStatement(node) || ts.isDoStatement(node)) {
      negate(node.expression);
    } else if (ts.isForStatement(node) && node.condition) {
      negate(node.condition);
    } else if (ts.isConditionalExpression(node)) {
      negate(node.condition);
    } else if (ts.isBinaryExpression(node)) {
      const entry = BINARY[node.operatorToken.kind];
      if (entry) {
        for (const to of entry[1]) {
          add(entry[0], node.operatorToken.getStart(sf), node.operatorToken.getEnd(), to);
        }
      }
    } else if (ts.isPrefixUnaryExpression(node)) {
      const operand = node.operand.getText(sf);
      if (node.operator === ts.SyntaxKind.ExclamationToken) whole("unary", node, operand);
      if (node.operator === ts.SyntaxKind.MinusToken && !ts.isNumericLiteral(node.operand)) {
        whole("unary", node, operand);
      }
      if (node.operator === ts.SyntaxKind.PlusPlusToken) whole("update", node, `--${operand}`);
      if (node.operator === ts.SyntaxKind.MinusMinusToken) whole("update", node, `++${operand}`);
    } else if (ts.isPostfixUnaryExpression(node)) {
      const operand = node.operand.getText(sf);
      if (node.operator === ts.SyntaxKind.PlusPlusToken) whole("update", node, `${operand}--`);
      if (node.operator === ts.SyntaxKind.MinusMinusToken) whole("update", node, `${operand}++`);
    } else if (ts.isNumericLiteral(node)) {
      const value = Number(node.text);
      const negative = ts.isPrefixUnaryExpression(node.parent) &&
        node.parent.operator === ts.SyntaxKind.MinusToken;
      const target = negative ? node.parent : node;
      const signed = negative ? -value : value;
      const variants = signed === 0 ? [1, -1] : [0, signed + 1, signed - 1];
      for (const v of variants) whole("constant", target, numberText(v));
    } else if (
      node.kind === ts.SyntaxKind.TrueKeyword || node.kind === ts.SyntaxKind.FalseKeyword
    ) {
      whole("boolean", node, node.kind === ts.SyntaxKind.TrueKeyword ? "false" : "true");
    } else if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      if (node.text !== "" && !isNameLike(node)) whole("empty-string", node, '""');
    } else if (ts.isTemplateExpression(node)) {
      whole("empty-string", node, '""');
    } else if (ts.isArrayLiteralExpression(node)) {
      if (node.elements.length) whole("empty-array", node, "[]");
    } else if (ts.isAwaitExpression(node)) {
      whole("remove-await", node, node.expression.getText(sf));
    } else if (ts.isExpressionStatement(node)) {
      whole("remove-statement", node, ";");
    }
    if (ts.isTemplateExpression(node)) {
      // the template's parts are mutated through its spans' expressions only
      for (const span of node.templateSpans) visit(span.expression);
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out.sort((a, b) => a.start - b.start || a.end - b.end);
}

/**
 * The top-level statements of `source` (constants, classes, functions) that
 * the learner's stub already holds word for word (`export const
 * DEFAULT_PORT = 1060;`, an error class the stub gives): given code, not the
 * learner's work, so not mutated. Returns their offset ranges.
 *
 * @example
 * ```ts
 * import { givenStatements } from "./mutants.ts";
 * givenStatements("export const A = 1;\nexport const B = 2;\n", "export const A = 1;\n");
 * // [[0, 19]]
 * ```
 */
export function givenStatements(source: string, stub: string): [number, number][] {
  const statements = (text: string) => {
    const sf = ts.createSourceFile("f.ts", text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    return sf.statements.map((s) => ({
      range: [s.getStart(sf), s.getEnd()] as [number, number],
      text: s.getText(sf).replace(/\s+/g, " "),
    }));
  };
  const given = new Set(statements(stub).map((c) => c.text));
  return statements(source).filter((c) => given.has(c.text)).map((c) => c.range);
}

/**
 * The source with `mutant` applied.
 *
 * @example
 * ```ts
 * import { applyMutant, generateMutants } from "./mutants.ts";
 * const source = "export const x = 1 + 2;\n";
 * const plus = generateMutants("f.ts", source).find((m) => m.from === "+")!;
 * applyMutant(source, plus); // "export const x = 1 - 2;\n"
 * ```
 */
export function applyMutant(source: string, mutant: Mutant): string {
  return source.slice(0, mutant.start) + mutant.to + source.slice(mutant.end);
}

/**
 * One line describing a mutant: `file:line  from → to  (operator)`, with
 * long code shortened to fit 80 columns.
 *
 * @example
 * ```ts
 * import { describeMutant } from "./mutants.ts";
 * describeMutant({ file: "a.ts", line: 3, operator: "boundary", start: 0, end: 1,
 *   from: "<", to: "<=", code: "if (n < 3) {" });
 * // "a.ts:3  `<` → `<=`  (boundary) in: if (n < 3) {"
 * ```
 */
export function describeMutant(mutant: Mutant): string {
  const short = (text: string, max: number) => {
    const flat = text.replace(/\s+/g, " ");
    return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
  };
  return `${mutant.file}:${mutant.line}  \`${short(mutant.from, 30)}\` → \`${
    short(mutant.to, 20)
  }\`  (${mutant.operator}) in: ${short(mutant.code, 40)}`;
}
