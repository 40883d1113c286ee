/**
 * `sparsegrad compare` end to end: flags → the grid the study harness runs → the JSON table and SVG chart on
 * disk and on stdout, and its refusals. The grid itself (which runs, on copies, calibrated options) is
 * tested in test/study; this file covers what only the command does.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAll, parseXml, textOf } from '../report/xml.ts';
import { runCli } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sparsegrad-compare-cli-'));
const model = join(dir, 'tiny.safetensors');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const result = await runCli(['train', '--arch', '784-16-10', '--epochs', '1', '--seed', '1', '--out', model, '--quiet']);
  expect(result.code, result.stderr).toBe(0);
});

interface Row { method: string; criterion: string; targetSparsity: number; sparsity: number; testAccuracy: number; testLoss: number; seconds: number }

describe('sparsegrad compare', () => {
  it('runs methods × criteria × sparsities with the given settings and writes the same table to JSON and stdout, and a chart', async () => {
    const jsonPath = join(dir, 'grid.json');
    const svgPath = join(dir, 'grid.svg');
    const result = await runCli([
      'compare', '--model', model, '--methods', 'oneshot,gradual,snip', '--criteria', 'magnitude,taylor', '--sparsities', '0.5,0.9',
      '--epochs', '1', '--scope', 'layer', '--batch', '256', '--seed', '2', '--title', 'Grid <&> "test"', '--out-json', jsonPath, '--out-svg', svgPath, '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const document = result.json!;
    expect(JSON.parse(readFileSync(jsonPath, 'utf8'))).toEqual(document);
    expect(document).toMatchObject({
      data: 'digits',
      base: { scope: 'layer', granularity: { kind: 'weight' }, epochs: 1, batchSize: 256, lr: 0.001, seed: 2 },
      methodOptions: {},
      methods: ['oneshot', 'gradual', 'snip'],
      criteria: ['magnitude', 'taylor'],
      sparsities: [0.5, 0.9],
    });
    // Criterion methods once per criterion, snip (its own rule) once; in grid order.
    const rows = document['rows'] as Row[];
    expect(rows.map((r) => `${r.method}/${r.criterion}@${r.targetSparsity}`)).toEqual([
      'oneshot/magnitude@0.5', 'oneshot/magnitude@0.9', 'oneshot/taylor@0.5', 'oneshot/taylor@0.9',
      'gradual/magnitude@0.5', 'gradual/magnitude@0.9', 'gradual/taylor@0.5', 'gradual/taylor@0.9', 'snip/-@0.5', 'snip/-@0.9',
    ]);
    for (const row of rows) {
      expect(row.sparsity).toBeCloseTo(row.targetSparsity, 3); // layer scope: every layer at the target
      expect(row.testAccuracy).toBeGreaterThan(0.1);
      expect(row.testAccuracy).toBeLessThanOrEqual(1);
      expect(Number.isFinite(row.testLoss)).toBe(true);
    }
    const dense = document['dense'] as { testAccuracy: number };
    expect(dense.testAccuracy).toBeGreaterThan(0.5);
    // 90 % of a 16-unit layer's weights gone: worse than 50 % for the magnitude criterion.
    expect(rows[1]!.testAccuracy).toBeLessThan(rows[0]!.testAccuracy);
    // Progress and notes on stderr, one per run; with --json, stdout is the JSON line alone.
    // The model's recorded holdout is the validation set: one dense run on it first, then the grid.
    expect(result.stderr).toContain('[1/11] fold 1/1: dense');
    expect(result.stderr).toContain('[2/11] oneshot/magnitude@0.5');
    expect(result.stderr).toContain('[11/11] snip@0.9');
    expect(result.stderr).toContain(`wrote ${jsonPath} and ${svgPath}`);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    // The chart: well-formed SVG, the title escaped, one labelled series per method/criterion pair.
    const svg = parseXml(readFileSync(svgPath, 'utf8'));
    expect(svg.name).toBe('svg');
    expect(textOf(findAll(svg, 'title')[0]!)).toBe('Grid <&> "test"');
    const text = findAll(svg, 'text').map(textOf).join('\n');
    for (const label of ['oneshot / magnitude', 'oneshot / taylor', 'gradual / magnitude', 'gradual / taylor', 'snip']) expect(text).toContain(label);
  });

  it('refuses, with exit code 2 and nothing written, what it cannot run', async () => {
    const out = mkdtempSync(join(dir, 'refused-'));
    const outputs = ['--out-json', join(out, 'c.json'), '--out-svg', join(out, 'c.svg')];
    for (const [argv, pattern] of [
      [['--methods', 'l1'], /the l1 method has no target sparsity to put on a grid; run it with 'sparsegrad prune --method l1'/],
      [['--methods', 'lottery'], /unknown method 'lottery'/],
      [['--criteria', 'hessian'], /unknown criterion 'hessian'/],
      [['--sparsities', '0.5,1.5'], /sparsity must be in \[0, 1\), got 1.5/],
      [['--epochs', '-1'], /--epochs/],
      [['--scope', 'network'], /scope/],
    ] as const) {
      const result = await runCli(['compare', '--model', model, ...argv, ...outputs, '--quiet']);
      expect(result.code, `${argv.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(pattern);
    }
    const missing = await runCli(['compare', ...outputs, '--quiet']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--model/);
    const corrupt = await runCli(['compare', '--model', join(dir, 'no-such-model.safetensors'), ...outputs, '--quiet']);
    expect(corrupt.code).not.toBe(0);
    expect(readdirSync(out)).toEqual([]);
    expect(existsSync(join(process.cwd(), 'compare.json'))).toBe(false);
  });

  it('--help names the grid methods and leaves out those without a target sparsity', async () => {
    const result = await runCli(['compare', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/--methods LIST\s+comma-separated, from oneshot, iterative, gradual, snip, threshold, threshold-dynamic, topk, dns, dns-scheduled, rigl/);
    expect(result.stdout).not.toMatch(/from [^\n]*\bl1\b/);
  });
});
