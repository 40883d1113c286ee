/**
 * The study commands on the command line (issues 16 and 11): train's holdout, validation from the holdout,
 * a directory or K folds, the refusal without one, the sweep command, --jobs and --resume.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/dataset.ts';
import { encodeIdx } from '../../src/data/idx.ts';
import { deserializeModel } from '../../src/io/model-file.ts';
import { loadDigits } from '../../src/node/data.ts';
import { runCli } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sparsegrad-study-cli-'));
const withHoldout = join(dir, 'holdout.safetensors');
const withoutHoldout = join(dir, 'full.safetensors');
const partModel = join(dir, 'part.safetensors');
const partData = join(dir, 'part'); // digits: the first 6,000 training images, and the test split
const validationDir = join(dir, 'val'); // the other 2,000 training images
const testCopy = join(dir, 'test-copy'); // the test split alone
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `data`'s images and labels as gzipped IDX files named `<prefix>-images-idx3-ubyte.gz` etc. */
function writeIdx(folder: string, prefix: string, data: Dataset): void {
  mkdirSync(folder, { recursive: true });
  const pixels = Uint8Array.from(data.x, (v) => Math.round(v * 255));
  writeFileSync(join(folder, `${prefix}-images-idx3-ubyte.gz`), gzipSync(encodeIdx([data.count, 28, 28], pixels)));
  writeFileSync(join(folder, `${prefix}-labels-idx1-ubyte.gz`), gzipSync(encodeIdx([data.count], data.y)));
}

function slice(data: Dataset, from: number, to: number): Dataset {
  return { ...data, x: data.x.slice(from * data.features, to * data.features), y: data.y.slice(from, to), count: to - from };
}

beforeAll(async () => {
  for (const [out, extra] of [[withHoldout, []], [withoutHoldout, ['--holdout', '0']]] as const) {
    const result = await runCli(['train', '--arch', '784-16-10', '--epochs', '1', '--seed', '2', '--out', out, '--quiet', ...extra]);
    expect(result.code, result.stderr).toBe(0);
  }
  const digits = loadDigits();
  writeIdx(partData, 'train', slice(digits.train, 0, 6000));
  for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) {
    copyFileSync(join('data/digits', f), join(partData, f));
    mkdirSync(testCopy, { recursive: true });
    copyFileSync(join('data/digits', f), join(testCopy, f));
  }
  writeIdx(validationDir, 'validation', slice(digits.train, 6000, 8000));
  const part = await runCli(['train', '--data', partData, '--arch', '784-16-10', '--epochs', '1', '--holdout', '0', '--out', partModel, '--quiet']);
  expect(part.code, part.stderr).toBe(0);
}, 120_000);

describe('sparsegrad train --holdout', () => {
  it('holds out 10 % by default and records how to rebuild it, with the training recipe', async () => {
    const result = await runCli(['train', '--arch', '784-16-10', '--epochs', '1', '--json', '--quiet', '--out', join(dir, 't.safetensors')]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({ holdout: { fraction: 0.1, seed: 0, trainCount: 7201, validationCount: 799 } });
    expect((result.json!['holdout'] as { validationAccuracy: number }).validationAccuracy).toBeGreaterThan(0.5);
    const training = deserializeModel(readFileSync(join(dir, 't.safetensors'))).training!;
    expect(training).toMatchObject({
      recipe: { init: 'he', epochs: 1, batchSize: 128, lr: 0.001, optimizer: 'adam', schedule: 'constant', seed: 0 },
      holdout: { fraction: 0.1, seed: 0, stratified: true, data: { spec: 'digits', name: 'digits/train', count: 8000, checksum: expect.stringMatching(/^m3x2:/) }, validationCount: 799 },
    });
    expect(deserializeModel(readFileSync(withoutHoldout)).training!['holdout']).toBeUndefined();
  });

  it('refuses a holdout outside [0, 1), --cv below 2 and --jobs 0 as usage errors', async () => {
    for (const [argv, pattern] of [
      [['train', '--holdout', '1'], /--holdout must be a number ≥ 0 < 1, got '1'/],
      [['train', '--holdout=-0.1'], /--holdout must be a number ≥ 0 < 1, got '-0.1'/],
      [['train', '--holdout', '-0.1'], /Option '--holdout' argument is ambiguous/], // a leading '-' reads as a flag: say --holdout=-0.1
      [['prune', '--model', withHoldout, '--method', 'threshold', '--cv', '1'], /--cv must be an integer ≥ 2, got '1'/],
      [['prune', '--model', withHoldout, '--method', 'threshold', '--cv', '0'], /--cv must be an integer ≥ 2, got '0'/],
      [['sweep', '--model', withHoldout, '--jobs', '0'], /--jobs must be an integer ≥ 1, got '0'/],
      [['compare', '--model', withHoldout, '--jobs', '0'], /--jobs must be an integer ≥ 1, got '0'/],
    ] as const) {
      const result = await runCli([...argv, '--quiet']);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(pattern);
    }
  });
});

describe('validation the model never saw', () => {
  it('a model without a holdout is refused by every command that chooses, naming --validation and --cv', async () => {
    for (const argv of [
      ['prune', '--model', withoutHoldout, '--method', 'threshold'],
      ['sweep', '--model', withoutHoldout, '--out-json', join(dir, 'r.json'), '--out-svg', join(dir, 'r.svg')],
      ['compare', '--model', withoutHoldout, '--out-json', join(dir, 'r.json'), '--out-svg', join(dir, 'r.svg')],
    ]) {
      const result = await runCli([...argv, '--quiet', '--json']);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/this model records no holdout .* pass --validation DIR .* or --cv K/);
    }
    // A fixed setting chooses nothing: that still runs.
    const fixed = await runCli(['prune', '--model', withoutHoldout, '--method', 'threshold', '--threshold', '1', '--epochs', '1', '--quiet', '--json']);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.json!['validation']).toBeUndefined();
  });

  it('prune sweeps on the recorded holdout, trains on the rest, reports the sweep in --json and keeps the holdout in the pruned file', async () => {
    const out = join(dir, 'pruned.safetensors');
    const result = await runCli(['prune', '--model', withHoldout, '--method', 'threshold', '--candidates', '0.5,1.5', '--epochs', '1', '--out', out, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/training on the 7201 samples the model was trained on/);
    const sweep = result.json!['sweep'] as { validation: unknown; rows: { value: number; validationAccuracy: number }[]; baseline: { validationAccuracy: number }; chosen: { value: number } | null; candidates: number[] };
    expect(sweep.validation).toMatchObject({ source: 'holdout', folds: 1, validationSamples: [799] });
    expect(sweep.candidates).toEqual([0.5, 1.5]);
    expect(sweep.rows.map((r) => r.value)).toEqual([0.5, 1.5]);
    expect(sweep.baseline.validationAccuracy).toBeLessThan(1);
    expect(result.json).toMatchObject({ validation: { source: 'holdout' }, threshold: sweep.chosen?.value ?? 0.5 });
    expect(deserializeModel(readFileSync(out)).training!['holdout']).toMatchObject({ fraction: 0.1, validationCount: 799 });
    // Other data than the holdout was drawn from is refused.
    const other = await runCli(['prune', '--model', withHoldout, '--data', partData, '--method', 'threshold', '--quiet']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/the model's holdout was drawn from digits\/train .* pass the data the model was trained on/);
  });

  it('--cv 5 on digits: the dense model retrained on each fold, mean ± std per candidate', async () => {
    const result = await runCli(['prune', '--model', withHoldout, '--method', 'threshold', '--cv', '5', '--candidates', '0.5,1', '--epochs', '1', '--json', '--quiet']);
    expect(result.code, result.stderr).toBe(0);
    const sweep = result.json!['sweep'] as { validation: { source: string; folds: number }; rows: { validationStd: number; foldAccuracies: number[] }[]; baseline: { validationStd: number } };
    expect(sweep.validation).toMatchObject({ source: 'cv', folds: 5 });
    for (const row of sweep.rows) {
      expect(row.foldAccuracies).toHaveLength(5);
      expect(row.validationStd).toBeGreaterThan(0);
    }
    expect(sweep.baseline.validationStd).toBeGreaterThan(0);
    const noRecipe = await runCli(['prune', '--model', partModel, '--data', partData, '--method', 'threshold', '--cv', '3', '--quiet']);
    expect(noRecipe.code, noRecipe.stderr).toBe(0); // part.safetensors was trained by this version: it has its recipe
  }, 60_000);

  it('--validation DIR validates on a separate data set; the test split is refused as validation data', async () => {
    const result = await runCli(['prune', '--model', partModel, '--data', partData, '--validation', validationDir, '--method', 'threshold', '--candidates', '1', '--epochs', '1', '--json', '--quiet']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json!['sweep']).toMatchObject({ validation: { source: 'directory', folds: 1, validationSamples: [2000] } });
    const test = await runCli(['prune', '--model', partModel, '--data', partData, '--validation', testCopy, '--method', 'threshold', '--quiet']);
    expect(test.code).toBe(2);
    expect(test.stderr).toMatch(/holds the same samples as the test split/);
  });
});

describe('sparsegrad sweep and compare: grids, --jobs, --resume', () => {
  it('sweep searches values × epochs × lr on the holdout, touches the test set once for the chosen setting, and charts it', async () => {
    const json = join(dir, 'sweep.json');
    const result = await runCli(['sweep', '--model', withHoldout, '--method', 'threshold', '--candidates', '0.5,1.5', '--epochs', '1,2', '--lr', '0.001,0.003',
      '--jobs', '2', '--out-json', json, '--out-svg', join(dir, 'sweep.svg'), '--out', join(dir, 'chosen.safetensors'), '--json', '--quiet']);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as { rows: unknown[]; chosen: { value: number } | null; final: { testAccuracy: number; value: number } | null; runs: { total: number } };
    expect(doc.rows).toHaveLength(8);
    expect(doc.runs.total).toBe(9); // 8 settings + the dense baseline
    expect(doc.chosen).not.toBeNull();
    expect(doc.final!.value).toBe(doc.chosen!.value);
    expect(doc.final!.testAccuracy).toBeGreaterThan(0.5);
    expect(readFileSync(join(dir, 'sweep.svg'), 'utf8')).toContain('chosen: threshold');
    const best = await runCli(['sweep', '--model', withHoldout, '--candidates', '0.5,1.5', '--epochs', '1', '--objective', 'best-at-size', '--max-bytes', '30000',
      '--out-json', join(dir, 'b.json'), '--out-svg', join(dir, 'b.svg'), '--json', '--quiet']);
    expect(best.code, best.stderr).toBe(0);
    expect(best.json!['objective']).toEqual({ kind: 'best-at-size', maxBytes: 30000 });
    for (const [argv, pattern] of [
      [['--objective', 'best-at-size'], /missing --max-bytes/],
      [['--method', 'threshold-dynamic', '--epochs', '0,1'], /method 'threshold-dynamic' prunes while training, so every setting needs at least 1 epoch \(the grid has 0\)/],
      [['--threshold', '1'], /sweep chooses --threshold itself: give the values to try as --candidates/],
    ] as const) {
      // Outputs go to the temp directory, so even a case that wrongly runs never writes into the working directory.
      const bad = await runCli(['sweep', '--model', withHoldout, ...argv, '--out-json', join(dir, 'bad.json'), '--out-svg', join(dir, 'bad.svg'), '--quiet']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(pattern);
    }
  }, 60_000);

  it('compare gives the same rows with --jobs 2 as with --jobs 1, and an interrupted compare --resume reruns only the missing runs', async () => {
    const grid = ['--methods', 'oneshot,threshold', '--criteria', 'magnitude', '--sparsities', '0.5,0.9', '--epochs', '1', '--json', '--quiet'];
    const run = (name: string, extra: string[]) => runCli(['compare', '--model', withHoldout, ...grid, '--out-json', join(dir, `${name}.json`), '--out-svg', join(dir, `${name}.svg`), ...extra]);
    const one = await run('one', ['--jobs', '1']);
    const two = await run('two', ['--jobs', '2']);
    expect(one.code, one.stderr).toBe(0);
    expect(two.code, two.stderr).toBe(0);
    const rows = (r: typeof one): unknown[] => (r.json!['rows'] as Record<string, unknown>[]).map(({ seconds: _s, ...rest }) => rest);
    expect(rows(two)).toEqual(rows(one));
    expect((one.json!['rows'] as { validationAccuracy?: number }[]).every((r) => typeof r.validationAccuracy === 'number')).toBe(true);

    // Interrupt: keep the header and the first two finished runs, and half of the third line.
    const journal = join(dir, 'one.runs.ndjson');
    const lines = readFileSync(journal, 'utf8').split('\n');
    writeFileSync(journal, `${lines.slice(0, 3).join('\n')}\n${lines[3]!.slice(0, 30)}`);
    const refused = await run('one', []);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/will not overwrite the run journal .* pass --resume/);
    expect(refused.stderr).not.toMatch(/data: digits/); // refused before loading anything
    const resumed = await runCli(['compare', '--model', withHoldout, ...grid.filter((a) => a !== '--quiet'), '--out-json', join(dir, 'one.json'), '--out-svg', join(dir, 'one.svg'), '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.json!['runs']).toMatchObject({ total: 5, resumed: 2 });
    expect(resumed.stderr.match(/^\[\d+\/\d+\] /gm)).toHaveLength(3); // only the three missing runs ran
    expect(rows(resumed)).toEqual(rows(one));
  }, 120_000);
});
