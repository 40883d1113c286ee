/**
 * The size budget (developers' guide: no file in src/ over 400 lines, one concept per file), checked on
 * every `npm test`, with the line count of each part of src/ printed so growth is visible in the CI log.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../src/', import.meta.url).pathname;
/** The budget: a file of more lines than this fails the test. */
const MAX_LINES = 400;
/** The engine: the numeric core that trains, prunes and runs models (the rest is files, reports and the CLI). */
const ENGINE_PARTS = ['wasm', 'tensor', 'autograd', 'nn', 'prune', 'sparse', 'compile', 'study'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
    });
}

/** Lines as an editor counts them: a final newline does not start another line. */
function countLines(text: string): number {
  if (text === '') return 0;
  const newlines = text.split('\n').length - 1;
  return text.endsWith('\n') ? newlines : newlines + 1;
}

describe('size budget', () => {
  const files = sourceFiles(SRC).map((path) => ({ file: relative(SRC, path), lines: countLines(readFileSync(path, 'utf8')) }));

  it('counts lines like wc -l', () => {
    expect([countLines(''), countLines('a'), countLines('a\n'), countLines('a\nb'), countLines('a\n\n')]).toEqual([0, 1, 1, 2, 2]);
  });

  it(`keeps every file in src/ within ${MAX_LINES} lines`, () => {
    expect(files.length).toBeGreaterThan(20);
    const over = files.filter((f) => f.lines > MAX_LINES).map((f) => `src/${f.file}: ${f.lines} lines`);
    expect(over, `split these by concept (limit ${MAX_LINES} lines)`).toEqual([]);
  });

  it('prints the line count of each part of src/', () => {
    const totals = new Map<string, number>();
    for (const { file, lines } of files) {
      const part = file.includes('/') ? file.split('/')[0]! : '(root)';
      totals.set(part, (totals.get(part) ?? 0) + lines);
    }
    const engine = [...totals].filter(([part]) => ENGINE_PARTS.includes(part));
    const rest = [...totals].filter(([part]) => !ENGINE_PARTS.includes(part));
    const sum = (rows: [string, number][]) => rows.reduce((total, [, lines]) => total + lines, 0);
    const row = ([part, lines]: [string, number]) => `  src/${part.padEnd(10)} ${String(lines).padStart(6)}`;
    console.log(
      [
        `engine: ${sum(engine)} lines`,
        ...engine.map(row),
        `other: ${sum(rest)} lines`,
        ...rest.map(row),
        `total: ${sum(engine) + sum(rest)} lines in ${files.length} files; largest: ${[...files].sort((a, b) => b.lines - a.lines).slice(0, 3).map((f) => `src/${f.file} (${f.lines})`).join(', ')}`,
      ].join('\n'),
    );
    expect(sum(engine)).toBeGreaterThan(0);
  });
});
