/**
 * The public API report: every name each package entry exports, its kind, whether it has a doc comment
 * (and an `@example`), and the first sentence of that comment.
 *
 *   npm run api-report        → rewrites docs/api-report.md
 *
 * test/api-report.test.ts regenerates the report in memory and fails when it differs from the committed one,
 * so a change to the public surface is always a deliberate, reviewed change (the same idea as
 * api-extractor's `*.api.md`, without the dependency). It reads the entries with the TypeScript compiler
 * API: the checker follows every `export … from` chain to the declaration a user actually gets. The same
 * pass lists the types public signatures use but no entry exports, and collects the fenced ```ts
 * `@example` programs that test/doc-examples.test.ts type-checks (typeCheckExamples) and runs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

/** The package entries (package.json "exports") and the source file each is built from. */
export const ENTRIES = [
  { entry: 'sparsegrad', file: 'src/index.ts' },
  { entry: 'sparsegrad/kernels', file: 'src/kernels.ts' },
  { entry: 'sparsegrad/node', file: 'src/node/index.ts' },
  { entry: 'sparsegrad/infer', file: 'src/infer/index.ts' },
] as const;

/** Where the committed report lives, relative to the repository root. */
export const REPORT_PATH = 'docs/api-report.md';

/** One exported name. `documented` = a doc comment with text (tags alone do not count). */
export interface ApiName {
  readonly name: string;
  /** 'function', 'class', 'interface', 'type', 'const', 'let', 'enum', 'namespace', or several joined by ' + '. */
  readonly kind: string;
  readonly documented: boolean;
  readonly hasExample: boolean;
  /** The doc comment's first sentence, on one line. */
  readonly summary: string;
  /** The code of each fenced ```ts block of its `@example` tags: complete programs, run by the tests. */
  readonly examples: readonly string[];
}

/** One package entry and everything it exports, sorted by name. */
export interface ApiEntry {
  readonly entry: string;
  readonly file: string;
  readonly names: readonly ApiName[];
}

/** The whole public surface, and the types it uses without exporting them. */
export interface ApiSurface {
  readonly entries: readonly ApiEntry[];
  /**
   * Types declared in src/ that a public signature names but no entry exports, as `Type (in name)`: users
   * could not name them (api-extractor calls these "forgotten exports").
   */
  readonly unexported: readonly string[];
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The compiler settings of the repository's tsconfig.json (strict, with the `sparsegrad*` paths). */
function compilerOptions(root: string): ts.CompilerOptions {
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  return { ...ts.parseJsonConfigFileContent(config.config, ts.sys, root).options, noEmit: true };
}

/** Reads the entries with the compiler settings of tsconfig.json (a few seconds: one full program). */
export function collectApi(root = ROOT): ApiSurface {
  const program = ts.createProgram(ENTRIES.map((e) => join(root, e.file)), compilerOptions(root));
  const checker = program.getTypeChecker();
  const publicSymbols = new Map<ts.Symbol, string>();
  const entries = ENTRIES.map(({ entry, file }) => {
    const source = program.getSourceFile(join(root, file));
    if (source === undefined) throw new Error(`${file}: not found`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    if (moduleSymbol === undefined) throw new Error(`${file}: not a module`);
    const names = checker.getExportsOfModule(moduleSymbol).flatMap((symbol) => describeExport(checker, symbol, '', publicSymbols));
    return { entry, file, names: names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
  });
  return { entries, unexported: findUnexported(checker, publicSymbols, join(root, 'src')) };
}

/** One export, and for a namespace (`export * as ops`) each of its members as `ops.member`. */
function describeExport(checker: ts.TypeChecker, exported: ts.Symbol, prefix: string, publicSymbols: Map<ts.Symbol, string>): ApiName[] {
  const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const name = prefix + exported.name;
  if (!publicSymbols.has(target)) publicSymbols.set(target, name); // the first name a symbol is exported under
  const kind = kindOf(target);
  // A namespace's documentation sits on its `export * as name` line; anything else's on its declaration.
  const docSymbol = kind === 'namespace' ? exported : target;
  const text = ts.displayPartsToString(docSymbol.getDocumentationComment(checker)).trim() || namespaceDoc(exported);
  const exampleTags = docSymbol.getJsDocTags(checker).filter((tag) => tag.name === 'example');
  const examples = exampleTags.flatMap((tag) => [...ts.displayPartsToString(tag.text).matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!));
  const own: ApiName = { name, kind, documented: text !== '', hasExample: exampleTags.length > 0, summary: firstSentence(text), examples };
  if (kind !== 'namespace') return [own];
  return [own, ...checker.getExportsOfModule(target).flatMap((member) => describeExport(checker, member, `${name}.`, publicSymbols))];
}

/** The doc comment written above `export * as name from …` (the checker does not attach it to the symbol). */
function namespaceDoc(exported: ts.Symbol): string {
  const declaration = exported.declarations?.[0];
  if (declaration === undefined || !ts.isNamespaceExport(declaration)) return '';
  const docs = ts.getJSDocCommentsAndTags(declaration.parent).filter(ts.isJSDoc);
  return docs.map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '').join(' ').trim();
}

/**
 * Walks the signatures of every public declaration (parameters, return types, properties; never function
 * bodies, private members or members tagged `@internal`) and lists the interfaces, classes and enums of src/
 * they name that no entry exports. A type alias that is not exported is looked through (it is transparent
 * to a user, but what it names is not); base types are not listed (their members show on the derived type).
 */
function findUnexported(checker: ts.TypeChecker, publicSymbols: ReadonlyMap<ts.Symbol, string>, srcDir: string): string[] {
  const found = new Set<string>();
  const lookedThrough = new Set<ts.Symbol>();
  const inSrc = (node: ts.Node): boolean => node.getSourceFile().fileName.startsWith(srcDir);
  const visit = (node: ts.Node, user: string): void => {
    if (ts.isBlock(node) || isHiddenMember(node) || ts.isHeritageClause(node)) return;
    if (ts.isTypeReferenceNode(node)) {
      let symbol = checker.getSymbolAtLocation(ts.isQualifiedName(node.typeName) ? node.typeName.right : node.typeName);
      if (symbol !== undefined && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      const declaration = symbol?.declarations?.[0];
      if (symbol !== undefined && declaration !== undefined && inSrc(declaration) && !publicSymbols.has(symbol)) {
        if (symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class | ts.SymbolFlags.Enum)) {
          found.add(`${symbol.name} (in ${user})`);
        } else if (symbol.flags & ts.SymbolFlags.TypeAlias && !lookedThrough.has(symbol)) {
          lookedThrough.add(symbol);
          visit(declaration, user);
        }
      }
    }
    ts.forEachChild(node, (child) => visit(child, user));
  };
  for (const [symbol, name] of publicSymbols) {
    if (symbol.flags & ts.SymbolFlags.ValueModule) continue; // a namespace: its members are listed on their own
    for (const declaration of symbol.declarations ?? []) {
      if (!inSrc(declaration)) continue;
      if (ts.isVariableDeclaration(declaration)) {
        // `const f = (a: A): B => …`: the type annotation, or the arrow function's signature.
        if (declaration.type !== undefined) visit(declaration.type, name);
        const init = declaration.initializer;
        if (init !== undefined && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) visit(init, name);
      } else {
        visit(declaration, name);
      }
    }
  }
  return [...found].sort();
}

/**
 * Members that are not part of a class's or interface's contract: private ones, protected ones of a class
 * that is not abstract (only an abstract class is meant to be extended), and any tagged `@internal`.
 */
function isHiddenMember(node: ts.Node): boolean {
  if (!ts.isClassElement(node) && !ts.isTypeElement(node) && !ts.isParameter(node)) return false;
  if (node.name !== undefined && ts.isPrivateIdentifier(node.name)) return true;
  const modifiers = ts.canHaveModifiers(node) ? ts.getModifiers(node) : undefined;
  if (modifiers?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) return true;
  if (modifiers?.some((m) => m.kind === ts.SyntaxKind.ProtectedKeyword)) {
    const owner = ts.isParameter(node) ? node.parent.parent : node.parent;
    const abstract = ts.isClassLike(owner) && (ts.getModifiers(owner as ts.ClassDeclaration)?.some((m) => m.kind === ts.SyntaxKind.AbstractKeyword) ?? false);
    if (!abstract) return true;
  }
  return ts.getJSDocTags(node).some((tag) => tag.tagName.text === 'internal');
}

/** What a symbol is, as a reader calls it; a name that is both a value and a type lists both. */
function kindOf(symbol: ts.Symbol): string {
  const kinds: string[] = [];
  const f = symbol.flags;
  if (f & ts.SymbolFlags.Class) kinds.push('class');
  if (f & ts.SymbolFlags.Function) kinds.push('function');
  if (f & ts.SymbolFlags.Variable) {
    const declaration = symbol.declarations?.find(ts.isVariableDeclaration);
    const isConst = declaration !== undefined && (declaration.parent.flags & ts.NodeFlags.Const) !== 0;
    kinds.push(isConst ? 'const' : 'let');
  }
  if (f & ts.SymbolFlags.Enum) kinds.push('enum');
  if (f & ts.SymbolFlags.Interface) kinds.push('interface');
  if (f & ts.SymbolFlags.TypeAlias) kinds.push('type');
  if (f & ts.SymbolFlags.ValueModule && !(f & (ts.SymbolFlags.Class | ts.SymbolFlags.Function | ts.SymbolFlags.Enum))) kinds.push('namespace');
  return kinds.length === 0 ? 'unknown' : kinds.join(' + ');
}

/** The first sentence of a doc comment, on one line, with code spans intact. */
function firstSentence(text: string): string {
  const oneLine = text.split(/\n\s*\n/)[0]!.replace(/\s+/g, ' ').trim();
  const end = oneLine.search(/(?<!\b(?:e\.g|i\.e|et al|vs|cf))\.(\s|$)/);
  const sentence = end === -1 ? oneLine : oneLine.slice(0, end + 1);
  return sentence.length > 140 ? `${sentence.slice(0, 139).trimEnd()}…` : sentence;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|');

/** A fenced `@example` program of a public export, named for messages and test titles. */
export interface DocExample {
  readonly entry: string;
  readonly name: string;
  readonly code: string;
}

/** Every fenced example of every public export. */
export function docExamples(api: ApiSurface): DocExample[] {
  return api.entries.flatMap(({ entry, names }) => names.flatMap((n) => n.examples.map((code) => ({ entry, name: n.name, code }))));
}

/**
 * Type-checks the doc examples as if they were files of the repository (same compiler settings, `sparsegrad`
 * resolved to the sources as tsconfig.json's paths say), without writing them anywhere: a compiler host
 * serves them from memory. Returns one message per error, naming the example.
 */
export function typeCheckExamples(examples: readonly DocExample[], root = ROOT): string[] {
  const options = compilerOptions(root);
  const files = new Map(examples.map((e, i) => [join(root, 'examples', `doc-example-${i}.ts`), e] as const));
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (path) => files.has(path) || fileExists.call(host, path);
  host.readFile = (path) => files.get(path)?.code ?? readFile.call(host, path);
  host.getSourceFile = (path, language, onError, create) => {
    const example = files.get(path);
    return example === undefined ? getSourceFile.call(host, path, language, onError, create) : ts.createSourceFile(path, example.code, language, true);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  return [...files].flatMap(([path, example]) => {
    const source = program.getSourceFile(path)!;
    return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map((d) => {
      const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line + 1;
      return `${example.entry} ${example.name}, example line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
  });
}

/** The report as markdown: one table per entry. Deterministic: the same sources give the same bytes. */
export function renderApiReport(api: ApiSurface): string {
  const lines = [
    '# sparsegrad public API',
    '',
    'Generated by `npm run api-report` (scripts/api-report.ts) from the package entries; do not edit by hand.',
    '`test/api-report.test.ts` fails when this file is out of date, so every change to the public surface shows',
    'up in review. Everything listed here is public API; anything else in `src/` is internal and may change in',
    'any release. `sparsegrad/kernels` is public but low-level: its functions trust their arguments (sizes and',
    'a valid structure are the caller\'s contract; nothing is validated) and their signatures change when the',
    'kernels do, so pin the version if you build on them.',
    '',
    'doc: ✓ = has a doc comment, ✓ ex = also an `@example`, **missing** = none (the test fails).',
  ];
  for (const { entry, file, names } of api.entries) {
    lines.push('', `## \`${entry}\` (${file}): ${names.length} names`, '', '| name | kind | doc | summary |', '|---|---|---|---|');
    for (const n of names) {
      const doc = !n.documented ? '**missing**' : n.hasExample ? '✓ ex' : '✓';
      lines.push(`| \`${n.name}\` | ${n.kind} | ${doc} | ${cell(n.summary)} |`);
    }
  }
  if (api.unexported.length > 0) {
    lines.push('', '## Types the public API uses but no entry exports (the test fails)', '');
    for (const u of api.unexported) lines.push(`- ${u}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Names without a doc comment, as `entry: name`. */
export function undocumented(api: ApiSurface): string[] {
  return api.entries.flatMap(({ entry, names }) => names.filter((n) => !n.documented).map((n) => `${entry}: ${n.name}`));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const api = collectApi();
  const report = renderApiReport(api);
  const path = join(ROOT, REPORT_PATH);
  let previous = '';
  try {
    previous = readFileSync(path, 'utf8');
  } catch {
    // no report yet
  }
  writeFileSync(path, report);
  const counts = api.entries.map((e) => `${e.entry} ${e.names.length}`).join(', ');
  console.log(`${REPORT_PATH}: ${counts} names${previous === report ? ' (unchanged)' : ' (updated)'}`);
  const missing = undocumented(api);
  if (missing.length > 0) console.log(`${missing.length} without a doc comment:\n  ${missing.join('\n  ')}`);
  if (api.unexported.length > 0) console.log(`${api.unexported.length} types used but not exported:\n  ${api.unexported.join('\n  ')}`);
}
