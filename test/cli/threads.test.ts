import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess } from '../support/cli-process.ts';
import { runCli } from './run-cli.ts';

/*
 * `--threads N` on every command that computes: a usage error for anything but an integer from 1 to 64, the
 * number of cores by default, the count that ran in the report and in --json, and byte-identical model
 * files whatever the count. A command that used threads exits on its own (no worker keeps it alive).
 */

const dir = mkdtempSync(join(tmpdir(), 'sparsegrad-threads-cli-'));
const model = join(dir, 'm.safetensors');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const result = await runCli(['train', '--arch', '784-32-10', '--epochs', '1', '--threads', '1', '--out', model, '--quiet']);
  expect(result.code, result.stderr).toBe(0);
});

const COMMANDS: Record<string, string[]> = {
  train: ['train', '--epochs', '1'],
  prune: ['prune', '--model', 'unused.safetensors'],
  compare: ['compare', '--model', 'unused.safetensors'],
  compile: ['compile', '--model', 'unused.safetensors'],
  demo: ['demo', '--quick', '--out', 'unused-report'],
  bench: ['bench', 'threads'],
};

describe('--threads', () => {
  for (const [name, argv] of Object.entries(COMMANDS)) {
    it(`${name}: 0, -1, 65, 1.5 and abc are usage errors, and --help lists the flag`, async () => {
      for (const bad of [['--threads', '0'], ['--threads=-1'], ['--threads', '-1'], ['--threads', '65'], ['--threads', '1.5'], ['--threads', 'abc']]) {
        const result = await runCli([...argv, ...bad]);
        expect(result.code, `${name} ${bad.join(' ')}: ${result.stderr}`).toBe(2);
        expect(result.stderr).toMatch(/--threads/);
      }
      expect((await runCli([name, '--help'])).stdout).toMatch(/--threads N/);
    });
  }

  it('trains on the threads it is given, says so, and writes the same bytes on 1 and 2 threads', async () => {
    const files = [1, 2].map((threads) => join(dir, `t${threads}.safetensors`));
    for (const [i, file] of files.entries()) {
      const result = await runCli(['train', '--arch', '784-64-10', '--epochs', '1', '--batch', '64', '--seed', '4', '--threads', String(i + 1), '--json', '--out', file]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json).toMatchObject({ backend: 'wasm-simd', threads: i + 1 });
      expect(result.stderr).toMatch(new RegExp(`on wasm-simd \\(${i + 1} threads?\\)`));
    }
    expect(readFileSync(files[0]!).equals(readFileSync(files[1]!))).toBe(true);
    const js = await runCli(['train', '--arch', '784-16-10', '--epochs', '1', '--backend', 'js', '--threads', '2', '--json', '--quiet']);
    expect(js.json).toMatchObject({ backend: 'js', threads: 1 });
  });

  it('uses one thread per core by default; compile reports its threads', async () => {
    const result = await runCli(['compile', '--model', model, '--batch', '1,64', '--json', '--quiet']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({ backend: 'wasm-simd', threads: Math.min(availableParallelism(), 64) });
    const one = await runCli(['compile', '--model', model, '--threads', '1', '--json', '--quiet']);
    expect(one.json).toMatchObject({ threads: 1 });
    const int8 = await runCli(['compile', '--model', model, '--backend', 'wasm-int8', '--threads', '2', '--json']);
    expect(int8.code, int8.stderr).toBe(0);
    expect(int8.json).toMatchObject({ backend: 'wasm-int8', threads: 2 });
    expect(int8.stderr).toMatch(/compiled for wasm-int8 on 2 threads/);
  });

  it('ends the process when the command is done (no worker keeps it alive)', async () => {
    const result = await runCliProcess(['train', '--arch', '784-64-10', '--epochs', '1', '--batch', '64', '--threads', '2', '--quiet'], { timeoutMs: 60_000 });
    expect(result.timedOut).toBe(false);
    expect(result.code, result.stderr).toBe(0);
  });
});
