/**
 * `sparsegrad sensitivity` (issue 15): per-layer sensitivity on the model's holdout or a validation
 * directory, its JSON and chart, a suggestion line that `prune --layer-sparsity` takes back, gradient scores
 * from the training part only, a LeNet-5 (conv layers included), and the refusals.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/dataset.ts';
import { encodeIdx } from '../../src/data/idx.ts';
import { modelFromRecord } from '../../src/io/model-adapter.ts';
import { deserializeModel } from '../../src/io/model-file.ts';
import { loadDigits } from '../../src/node/data.ts';
import { sparsityReport } from '../../src/prune/index.ts';
import { readHoldoutRecord, rebuildHoldout } from '../../src/study/recipe.ts';
import { sensitivityAnalysis } from '../../src/study/sensitivity.ts';
import { withBackend } from '../../src/tensor/backend.ts';
import { runCli } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sparsegrad-sensitivity-cli-'));
const mlp = join(dir, 'mlp.safetensors'); // digits, 10 % holdout
const noHoldout = join(dir, 'no-holdout.safetensors'); // the first 1,000 digits, all trained on
const lenet = join(dir, 'lenet5.safetensors'); // LeNet-5 on the first 1,000 digits, 10 % holdout
const part = join(dir, 'part'); // digits: the first 1,000 training images, and the test split
const validationDir = join(dir, 'val'); // 500 other training images
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeIdx(folder: string, prefix: string, data: Dataset, from: number, to: number): void {
  mkdirSync(folder, { recursive: true });
  const pixels = Uint8Array.from(data.x.subarray(from * data.features, to * data.features), (v) => Math.round(v * 255));
  writeFileSync(join(folder, `${prefix}-images-idx3-ubyte.gz`), gzipSync(encodeIdx([to - from, 28, 28], pixels)));
  writeFileSync(join(folder, `${prefix}-labels-idx1-ubyte.gz`), gzipSync(encodeIdx([to - from], data.y.subarray(from, to))));
}

function loadModel(path: string): ReturnType<typeof modelFromRecord> {
  return modelFromRecord(deserializeModel(readFileSync(path)));
}

beforeAll(async () => {
  const digits = loadDigits();
  writeIdx(part, 'train', digits.train, 0, 1000);
  for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) copyFileSync(join('data/digits', f), join(part, f));
  writeIdx(validationDir, 'validation', digits.train, 1000, 1500);
  for (const argv of [
    ['--arch', '784-32-10', '--epochs', '2', '--lr', '0.003', '--out', mlp],
    ['--data', part, '--arch', '784-16-10', '--epochs', '1', '--holdout', '0', '--out', noHoldout],
    ['--data', part, '--arch', 'lenet5', '--epochs', '1', '--out', lenet],
  ]) {
    const result = await runCli(['train', '--seed', '1', '--quiet', ...argv]);
    expect(result.code, result.stderr).toBe(0);
  }
}, 120_000);

describe('sparsegrad sensitivity', () => {
  it('prunes each layer alone on the holdout, prints the table and a --layer-sparsity line, and writes JSON and SVG', async () => {
    const json = join(dir, 's.json');
    const svg = join(dir, 's.svg');
    const result = await runCli(['sensitivity', '--model', mlp, '--sparsities', '0.9,0.5,0.99,0.5', '--out-json', json, '--out-svg', svg]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("validation: the model's 10 % holdout of digits/train (799 samples");
    expect(result.stderr).toMatch(/\[1\/2\] layers\.0: 50% \d+\.\d\d%, 90% \d+\.\d\d%, 99% \d+\.\d\d%/);
    expect(result.stderr).toMatch(/\[2\/2\] layers\.2: /);
    expect(result.stdout).toMatch(/layer\s+weights\s+50%\s+90%\s+99%\s+suggested/);
    expect(result.stdout).toMatch(/layers\.0\s+25088\s/);
    expect(result.stdout).toMatch(/^--layer-sparsity layers\.0=[\d.]+,layers\.2=[\d.]+$/m);
    const document = JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>;
    expect(document).toMatchObject({
      command: 'sensitivity', data: 'digits', criterion: 'magnitude', sparsities: [0.5, 0.9, 0.99], tolerance: 0.01, seed: 0,
      validation: { source: 'holdout', folds: 1, validationSamples: [799] },
    });
    const rows = document['rows'] as { layer: string; sparsity: number; validationAccuracy: number }[];
    expect(rows.map((r) => `${r.layer}@${r.sparsity}`)).toEqual([
      'layers.0.weight@0.5', 'layers.0.weight@0.9', 'layers.0.weight@0.99', 'layers.2.weight@0.5', 'layers.2.weight@0.9', 'layers.2.weight@0.99',
    ]);
    const baseline = (document['baseline'] as { validationAccuracy: number }).validationAccuracy;
    const suggestions = document['suggestions'] as { layer: string; weights: number; sparsity: number; validationAccuracy: number | null }[];
    expect(suggestions.map((s) => [s.layer, s.weights])).toEqual([['layers.0.weight', 25088], ['layers.2.weight', 320]]);
    for (const s of suggestions) {
      const passing = rows.filter((r) => r.layer === s.layer && r.validationAccuracy >= baseline - 0.01 - 1e-9).map((r) => r.sparsity);
      expect(s.sparsity).toBe(passing.length === 0 ? 0 : Math.max(...passing));
    }
    expect(document['layerSparsity']).toBe(suggestions.map((s) => `${s.layer.replace('.weight', '')}=${s.sparsity}`).join(','));
    expect(document['overallSparsity']).toBeCloseTo((suggestions[0]!.sparsity * 25088 + suggestions[1]!.sparsity * 320) / 25408, 12);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg[\s\S]*layers\.0[\s\S]*layers\.2[\s\S]*dense \d+\.\d\d%/);
  });

  it('--json ends stdout with the same document; its --layer-sparsity line goes back into prune', async () => {
    const result = await runCli(['sensitivity', '--model', mlp, '--sparsities', '0.3,0.6,0.9', '--tolerance', '0.05', '--out-json', join(dir, 'j.json'), '--out-svg', join(dir, 'j.svg'), '--json', '--quiet']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(result.json).toEqual(JSON.parse(readFileSync(join(dir, 'j.json'), 'utf8')));
    const suggestions = result.json!['suggestions'] as { layer: string; sparsity: number }[];
    expect(suggestions.some((s) => s.sparsity > 0)).toBe(true);
    const pruned = join(dir, 'pruned.safetensors');
    const prune = await runCli(['prune', '--model', mlp, '--method', 'oneshot', '--epochs', '0', '--layer-sparsity', result.json!['layerSparsity'] as string, '--out', pruned, '--quiet']);
    expect(prune.code, prune.stderr).toBe(0);
    const report = sparsityReport(loadModel(pruned));
    for (const s of suggestions) expect(report.layers.find((l) => l.name === s.layer)!.sparsity, s.layer).toBeCloseTo(s.sparsity, 3);
    expect(report.total.sparsity).toBeCloseTo(result.json!['overallSparsity'] as number, 3);

    // The pruned model, analysed again, is measured from where it is, and says so.
    const again = await runCli(['sensitivity', '--model', pruned, '--sparsities', '0.3,0.95', '--out-json', join(dir, 'a.json'), '--out-svg', join(dir, 'a.svg'), '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/the model is already pruned \(layers\.0 [\d.]+%, layers\.2 [\d.]+%\)/);
    expect(again.stderr).toMatch(/the given model: validation /);
    const current = (again.json!['suggestions'] as { layer: string; currentSparsity: number }[]).map((s) => s.currentSparsity);
    expect(current[0]).toBeCloseTo(suggestions[0]!.sparsity, 3);
    expect(current[1]).toBeCloseTo(suggestions[1]!.sparsity, 3);
    expect((result.json!['suggestions'] as { currentSparsity: number }[]).map((s) => s.currentSparsity)).toEqual([0, 0]);
    // a suggestion below a layer's current sparsity leaves it there: the overall figure never goes below today's
    expect(again.json!['overallSparsity'] as number).toBeGreaterThanOrEqual(report.total.sparsity - 1e-6);
  });

  it('scores a gradient criterion on the training part only, never on the holdout', async () => {
    const result = await runCli(['sensitivity', '--model', mlp, '--criterion', 'taylor', '--sparsities', '0.5,0.95', '--gradient-batches', '2', '--seed', '3', '--backend', 'js',
      '--out-json', join(dir, 't.json'), '--out-svg', join(dir, 't.svg'), '--json', '--quiet']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({ criterion: 'taylor', gradientBatches: 2 });
    const cli = (result.json!['rows'] as { validationAccuracy: number }[]).map((r) => r.validationAccuracy);
    // The same analysis by hand: scores from the holdout's complement reproduce the CLI's rows; scores from
    // all of the training data (holdout included) would give other ones.
    const record = deserializeModel(readFileSync(mlp));
    const split = rebuildHoldout(loadDigits().train, readHoldoutRecord(record.training)!);
    const analyse = (scoresOn: Dataset): number[] => withBackend('js', () =>
      sensitivityAnalysis(modelFromRecord(record), split.validation, { sparsities: [0.5, 0.95], criterion: 'taylor', gradientBatches: 2, seed: 3, trainForScores: scoresOn }).map((r) => r.accuracy));
    expect(cli).toEqual(analyse(split.train));
    expect(cli).not.toEqual(analyse(loadDigits().train));
  });

  it('runs on LeNet-5: its conv layers are analysed next to the fully connected ones', async () => {
    const result = await runCli(['sensitivity', '--model', lenet, '--data', part, '--sparsities', '0.5,0.9', '--out-json', join(dir, 'l.json'), '--out-svg', join(dir, 'l.svg'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/\[1\/4\] layers\.1: [\s\S]*\[2\/4\] layers\.4: [\s\S]*\[4\/4\] layers\.10: /);
    const suggestions = result.json!['suggestions'] as { layer: string; weights: number }[];
    // conv1 20×1×5×5, conv2 50×20×5×5, fc1 500×800, fc2 10×500
    expect(suggestions.map((s) => [s.layer, s.weights])).toEqual([['layers.1.weight', 500], ['layers.4.weight', 25000], ['layers.8.weight', 400000], ['layers.10.weight', 5000]]);
    expect(result.json!['validation']).toMatchObject({ source: 'holdout', validationSamples: [100] });
    expect(result.json!['rows']).toHaveLength(8);
  });

  it('validates on --validation DIR, also for a model without a holdout', async () => {
    const result = await runCli(['sensitivity', '--model', noHoldout, '--data', part, '--validation', validationDir, '--sparsities', '0.5', '--out-json', join(dir, 'v.json'), '--out-svg', join(dir, 'v.svg'), '--json', '--quiet']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json!['validation']).toMatchObject({ source: 'directory', validationSamples: [500] });
  });

  it('refuses a model without holdout, --cv, bad sparsities and tolerances, and a bad output path, before any work', async () => {
    const refusals: [string[], RegExp][] = [
      [['--model', noHoldout, '--data', part], /sensitivity chooses by validation accuracy, and this model records no holdout[\s\S]*--validation DIR/],
      [['--model', mlp, '--cv', '3'], /--cv does not apply to sensitivity: cross-validation retrains/],
      [['--model', mlp, '--sparsities', '0.5,1'], /--sparsities: every value must be a sparsity in \[0, 1\), got 1/],
      [['--model', mlp, '--sparsities=-0.1'], /--sparsities: every value must be a sparsity in \[0, 1\), got -0.1/],
      [['--model', mlp, '--sparsities', 'half'], /--sparsities: 'half' is not a number/],
      [['--model', mlp, '--sparsities', ','], /--sparsities needs at least one value/],
      [['--model', mlp, '--tolerance', '1'], /--tolerance must be a number ≥ 0 < 1, got '1'/],
      [['--model', mlp, '--criterion', 'nope'], /unknown criterion 'nope'/],
      [['--model', mlp, '--out-svg', dir], /will not write .*: it is a directory/],
    ];
    const before = readdirSync(dir).sort();
    for (const [argv, pattern] of refusals) {
      const result = await runCli(['sensitivity', '--out-json', join(dir, 'refused.json'), ...argv]);
      expect(result.code, `${argv.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(pattern);
      expect(result.stderr).not.toContain('dense: validation'); // refused before the analysis started
    }
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(existsSync(join(dir, 'refused.json'))).toBe(false);
  });

  it('is listed in the top-level help and has its own', async () => {
    expect((await runCli(['--help'])).stdout).toMatch(/sensitivity\s+prune one layer at a time/);
    const help = await runCli(['sensitivity', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: sparsegrad sensitivity --model FILE');
    expect(help.stdout).toContain('--layer-sparsity');
  });
});
