/**
 * Functions a screen long: every function, method, constructor, accessor and arrow function in src/ spans at most
 * MAX_LINES lines, from its first line to its last, comments inside it included.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const MAX_LINES = 80;
const SRC = path.join(__dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The name a reader would search for: the declaration's, or that of the variable or property holding it. */
function nameOf(node: ts.Node, file: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name !== undefined) return named.name.getText(file);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) && parent.name !== undefined) {
    return parent.name.getText(file);
  }
  return '(anonymous)';
}

/** `file:line name (n lines)` for every function-like node over `max` lines in one source text. */
function longFunctions(fileName: string, text: string, max = MAX_LINES): string[] {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body !== undefined) {
      const first = file.getLineAndCharacterOfPosition(node.getStart(file)).line;
      const last = file.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > max) found.push(`${fileName}:${first + 1} ${nameOf(node, file)} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

const lines = (count: number) => Array.from({ length: count }, (_, i) => `  const v${i} = ${i};`).join('\n');

test('the check finds a function, a method and an arrow function one line over the limit, and not at it', () => {
  // Each function spans its opening line, its body and its closing brace.
  const over = lines(MAX_LINES - 1);
  const at = lines(MAX_LINES - 2);
  const text = [
    `function long() {\n${over}\n}`,
    `function fits() {\n${at}\n}`,
    `class C {\n  method() {\n${over}\n  }\n}`,
    `const arrow = () => {\n${over}\n};`,
  ].join('\n');
  expect(longFunctions('sample.ts', text).map((entry) => entry.replace(/:\d+/, ''))).toEqual([
    `sample.ts long (${MAX_LINES + 1} lines)`,
    `sample.ts method (${MAX_LINES + 1} lines)`,
    `sample.ts arrow (${MAX_LINES + 1} lines)`,
  ]);
});

test(`no function in src/ is longer than ${MAX_LINES} lines`, () => {
  const found = sourceFiles(SRC).flatMap((file) =>
    longFunctions(path.relative(path.dirname(SRC), file), readFileSync(file, 'utf8')),
  );
  expect(found).toEqual([]);
});
