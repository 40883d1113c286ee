/**
 * `sparsegrad bench` and the benchmark plumbing, without timing anything that matters: the command's
 * refusals, one real suite run end to end at its smallest (`onnx --quick`, batch 1, one sparsity: ~2 s, the
 * CLI → tsx → bench/run.ts → suite path and its JSON line), a suite's own error passing through as the exit
 * code, and the pure parts of bench/ (table formatting, the timers' arithmetic, the generated models).
 * Speed itself is never asserted here (bench/ is for that).
 */
import { describe, expect, it } from 'vitest';
import { formatTable, measure } from '../../bench/harness.ts';
import { ENGINES, makeLenet, timeCall } from '../../bench/onnx.ts';
import { check, randomSparseWeight } from '../../bench/sparse-sections.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { runCliProcess } from '../support/cli-process.ts';
import { runCli } from './run-cli.ts';

const SUITES = ['dense', 'gemm', 'sparse', 'train', 'onnx', 'threads', 'conv', 'int8'];

describe('sparsegrad bench: the command', () => {
  it('needs a known suite, and its help lists every suite bench/run.ts has', async () => {
    for (const argv of [['bench'], ['bench', 'frobnicate']]) {
      const result = await runCli(argv);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`bench needs a suite: model, ${SUITES.join(', ')}`);
    }
    const help = await runCli(['bench', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(`<${SUITES.join('|')}>`);
    const { readFileSync } = await import('node:fs');
    const runner = readFileSync(new URL('../../bench/run.ts', import.meta.url), 'utf8');
    expect(runner).toContain(`const SUITES = [${SUITES.map((s) => `'${s}'`).join(', ')}] as const;`);
  });

  it('runs a suite in a child process: onnx --quick at batch 1 gives a JSON line with a row per engine', async () => {
    const result = await runCliProcess(['bench', 'onnx', '--quick', '--json', 'batch=1', 'sparsity=0.9'], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    const last = JSON.parse(result.stdout.trim().split('\n').pop()!) as {
      suite: string; machine: Record<string, unknown>; input: string;
      rows: { engine: string; model: string; sparsity: number; batch: number; us: number }[];
      ratios: { engine: string; sparsegradUs: number; onnxruntimeUs: number; speedupOverOnnxruntime: number }[];
    };
    expect(last.suite).toBe('onnx');
    expect(last.input).toBe('digits');
    expect(last.machine['node']).toBe(process.version);
    expect(last.rows.map((r) => r.engine)).toEqual(ENGINES.map((e) => e.name));
    for (const row of last.rows) {
      expect(row).toMatchObject({ model: 'lenet-300-100', sparsity: 0.9, batch: 1 });
      expect(row.us).toBeGreaterThan(0);
      expect(Number.isFinite(row.us)).toBe(true);
    }
    expect(last.ratios.map((r) => r.engine)).toEqual(ENGINES.slice(1).map((e) => e.name));
    for (const ratio of last.ratios) expect(ratio.speedupOverOnnxruntime).toBeCloseTo(ratio.onnxruntimeUs / ratio.sparsegradUs, 9);
    // Progress and tables went to stderr, so stdout is the JSON line alone.
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/speedupOverOnnxruntime/);
  });

  it('passes a suite runner\'s failure through as its exit code', async () => {
    const result = await runCliProcess(['bench', 'onnx', '--max-time', '0'], { timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--max-time needs a positive number of seconds');
  });
});

describe('bench/: the pure parts', () => {
  it('formatTable right-aligns columns, prints integers as they are and other numbers to 4 digits', () => {
    const table = formatTable([{ name: 'a', n: 12, x: 0.123456 }, { name: 'longer', n: 3, x: null }], ['name', 'n', 'x']);
    expect(table.split('\n')).toEqual([
      '  name   n       x',
      '------  --  ------',
      '     a  12  0.1235',
      'longer   3        ',
    ]);
  });

  it('measure times a function with benchmark.js and rethrows its errors', () => {
    let calls = 0;
    const timing = measure('count', () => void calls++, { maxTime: 0.02, minSamples: 2 });
    expect(timing.name).toBe('count');
    expect(timing.seconds).toBeGreaterThan(0);
    expect(timing.samples).toBeGreaterThanOrEqual(2);
    expect(calls).toBeGreaterThan(timing.samples);
    expect(() => measure('throws', () => { throw new Error('boom'); }, { maxTime: 0.01 })).toThrow('boom');
  });

  it('timeCall reports microseconds per call for sync and async functions', async () => {
    const settings = { warmupCalls: 2, minLoopMs: 2, reps: 3 };
    let syncCalls = 0;
    const sync = await timeCall(() => void syncCalls++, settings);
    expect(sync).toBeGreaterThan(0);
    expect(syncCalls).toBeGreaterThan(3 + settings.warmupCalls);
    // An async call that waits ~1 ms each time cannot take less than ~1000 µs.
    const slow = await timeCall(() => new Promise<void>((resolve) => setTimeout(resolve, 1)), settings);
    expect(slow).toBeGreaterThan(900);
  });

  it('the generated models have exactly the sparsity they claim', () => {
    for (const sparsity of [0, 0.9, 0.95]) {
      const model = makeLenet(sparsity);
      for (const [name, w] of model.params) {
        if (!name.endsWith('.weight')) continue;
        expect(w.filter((v) => v === 0).length, `${name} at ${sparsity}`).toBe(Math.round(sparsity * w.length));
      }
    }
    const w = randomSparseWeight(30, 20, 0.8, new Rng(1));
    expect(w.filter((v) => v !== 0).length).toBe(Math.round(0.2 * 600));
  });

  it('the sparse suite\'s correctness gate fails above 1e-5 relative error', () => {
    expect(() => check('same', [1, 2, 3], [1, 2, 3])).not.toThrow();
    expect(() => check('close', [1, 2, 3 + 1e-6], [1, 2, 3])).not.toThrow();
    expect(() => check('far', [1, 2, 3.001], [1, 2, 3])).toThrow(/far: sparse result differs from gemmNT by 3\.33e-4 \(relative\)/);
    expect(() => check('nan', [1, Number.NaN], [1, 2])).toThrow(/differs/);
  });
});
