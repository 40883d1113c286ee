/** The prune and compare commands take their methods, method flags and help from the method registry. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruningMethods } from '../../src/prune/index.ts';
import { runCli } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sparsegrad-prune-cli-'));
const model = join(dir, 'tiny.safetensors');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const result = await runCli(['train', '--arch', '784-16-10', '--epochs', '1', '--seed', '1', '--out', model, '--quiet']);
  expect(result.code, result.stderr).toBe(0);
});

describe('sparsegrad prune: methods from the registry', () => {
  it('--help lists every registered method with its summary and option flags, and every criterion', async () => {
    const result = await runCli(['prune', '--help']);
    expect(result.code).toBe(0);
    for (const m of pruningMethods()) expect(result.stdout).toContain(`${m.summary}`);
    expect(result.stdout).toMatch(/--rounds N\s+rounds of score → prune → retrain; an integer ≥ 1, default 3/);
    expect(result.stdout).toMatch(/--end-fraction X\s+fraction of training at which the final sparsity is reached; a number in \(0, 1\], default 0.75/);
    expect(result.stdout).toMatch(/--update-every N/);
    expect(result.stdout).toMatch(/--threshold X\s+q in τ = q·std\(w\), per layer; a number ≥ 0, required \(or chosen by a validation sweep over 0.25,0.5,1,1.5,2,3\)/);
    expect(result.stdout).toMatch(/taylor\s+mean over batches of \|w·∂L\/∂w\|/);
  });

  it('refuses flags of another method, naming the chosen method and its own flags', async () => {
    for (const [argv, pattern] of [
      [['--method', 'gradual', '--rounds', '2'], /--rounds is not an option of method 'gradual' \(options: --frequency, --end-fraction\)/],
      [['--method', 'oneshot', '--threshold', '1'], /--threshold is not an option of method 'oneshot' \(it has no options of its own\)/],
      [['--method', 'l1', '--threshold', '1e-4'], /--threshold is not an option of method 'l1' \(options: --lambda\)/],
      [['--method', 'iterative', '--rounds', '0'], /--rounds must be an integer ≥ 1, got '0'/],
      [['--method', 'rigl', '--drop-fraction', '1'], /--drop-fraction must be a number ≥ 0 < 1, got '1'/],
      [['--method', 'lottery'], /unknown method 'lottery' \(expected one of oneshot, iterative, gradual, snip, threshold, threshold-dynamic, topk, l1, dns, dns-scheduled, rigl\)/],
    ] as const) {
      const result = await runCli(['prune', '--model', model, ...argv, '--quiet']);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(pattern);
    }
  });

  it('passes method flags to the method as its options', async () => {
    const result = await runCli(['prune', '--model', model, '--method', 'iterative', '--rounds', '2', '--sparsity', '0.5', '--epochs', '0', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({ method: 'iterative', options: { rounds: 2 } });
    expect(result.stderr).toMatch(/iterative round 2\/2/);
    expect(result.stderr).not.toMatch(/round 3\//);
  });

  it('N:M defaults to layer scope and refuses a global one', async () => {
    const ok = await runCli(['prune', '--model', model, '--method', 'oneshot', '--granularity', '2:4', '--epochs', '0', '--json', '--quiet']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json).toMatchObject({ scope: 'layer', granularity: '2:4' });
    expect((ok.json as { sparsity: number }).sparsity).toBeCloseTo(0.5, 5);
    const bad = await runCli(['prune', '--model', model, '--method', 'oneshot', '--granularity', '2:4', '--scope', 'global', '--epochs', '0', '--quiet']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/per-layer rule: use scope 'layer'/);
  });

  it('compare applies a method flag to the listed methods that have it, and refuses one none of them has', async () => {
    const ok = await runCli(['compare', '--model', model, '--methods', 'iterative', '--criteria', 'magnitude', '--sparsities', '0.5', '--epochs', '0', '--rounds', '2',
      '--out-json', join(dir, 'c.json'), '--out-svg', join(dir, 'c.svg'), '--json', '--quiet']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json).toMatchObject({ methodOptions: { iterative: { rounds: 2 } }, rows: [{ method: 'iterative', options: { rounds: 2 } }] });
    const bad = await runCli(['compare', '--model', model, '--methods', 'oneshot,gradual', '--rounds', '2', '--out-json', join(dir, 'bad.json'), '--out-svg', join(dir, 'bad.svg'), '--quiet']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--rounds is not an option of method 'oneshot', 'gradual' \(options: --frequency, --end-fraction\)/);
  });
});
