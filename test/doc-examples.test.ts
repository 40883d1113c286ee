/**
 * Every fenced `@example` in the public API's doc comments is a complete program, and here it type-checks
 * and runs — so the examples users copy cannot rot (the fate of the tutorial examples/05 answers). Each runs
 * in a fresh temporary directory (the examples write files such as model.onnx relative to it); the output
 * must not show a failed check (`false`) or a NaN.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collectApi, docExamples, typeCheckExamples } from '../scripts/api-report.ts';

const examples = docExamples(collectApi());

describe('doc examples', () => {
  const cwd = process.cwd();
  afterEach(() => {
    process.chdir(cwd);
    vi.restoreAllMocks();
  });

  it('exist, and type-check as files of the repository would', () => {
    expect(examples.length).toBeGreaterThanOrEqual(14);
    expect(typeCheckExamples(examples)).toEqual([]);
  });

  examples.forEach((example, index) => {
    it(`${example.entry}: ${example.name} runs`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sparsegrad-doc-example-'));
      try {
        const file = join(dir, `example-${index}.ts`);
        writeFileSync(file, example.code);
        const lines: string[] = [];
        vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
        process.chdir(dir);
        await import(file);
        expect(lines.length, 'an example shows its result').toBeGreaterThan(0);
        expect(lines.join('\n')).not.toMatch(/\bfalse\b|NaN/);
      } finally {
        process.chdir(cwd);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
