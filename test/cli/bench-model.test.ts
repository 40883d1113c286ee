/**
 * `sparsegrad bench model`: times a model file on dense and sparse kernels (and onnxruntime-node with --onnx),
 * prints medians and min–max of interleaved rounds, and exits 4 when --min-speedup is not met. The timings
 * themselves are not asserted (speed lives in benchmarks); the structure, the checks and the exit codes are.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.ts';

const MODEL = new URL('../../examples/browser/models/sparse.safetensors', import.meta.url).pathname;

interface Result {
  rounds: number;
  rows: { backend: string; batch: number; engine: string; medianUs: number; minUs: number; maxUs: number }[];
  speedups: { backend: string; batch: number; kernels: string[]; median: number; min: number; max: number; overOnnxruntime?: number }[];
  check?: { minSpeedup: number; passed: boolean; failing: string[] };
}

describe('sparsegrad bench model', () => {
  it('times dense against sparse per backend and batch, with onnxruntime, and reports median and spread', async () => {
    const run = await runCli(['bench', 'model', '--model', MODEL, '--batch', '1,8', '--backend', 'js', '--onnx', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = run.json as unknown as Result;
    expect(result.rounds).toBe(5);
    expect(result.rows.map((r) => `${r.backend}/${r.engine}/${r.batch}`)).toEqual(['js/dense/1', 'js/sparse/1', 'onnxruntime-node/onnxruntime/1', 'js/dense/8', 'js/sparse/8', 'onnxruntime-node/onnxruntime/8']);
    for (const row of result.rows) expect(row.minUs <= row.medianUs && row.medianUs <= row.maxUs && row.minUs > 0).toBe(true);
    for (const s of result.speedups) {
      expect(s.min <= s.median && s.median <= s.max).toBe(true);
      expect(s.overOnnxruntime).toBeGreaterThan(0);
      expect(s.kernels.slice(0, 2)).toEqual(['csr', 'csr']);
    }
  });

  it('exits 4 when --min-speedup is not met, still printing the results and which rows failed', async () => {
    const run = await runCli(['bench', 'model', '--model', MODEL, '--batch', '1', '--backend', 'js', '--min-speedup', '1000000', '--json']);
    expect(run.code).toBe(4);
    const result = run.json as unknown as Result;
    expect(result.check).toEqual({ minSpeedup: 1000000, passed: false, failing: [expect.stringMatching(/^js batch 1: /)] });
    const passing = await runCli(['bench', 'model', '--model', MODEL, '--batch', '1', '--backend', 'js', '--min-speedup', '0.000001', '--json']);
    expect(passing.code).toBe(0);
    expect((passing.json as unknown as Result).check?.passed).toBe(true);
  });

  it('refuses bad usage (exit 2) and a bad model file (exit 3)', async () => {
    expect((await runCli(['bench', 'model', '--model', MODEL, '--rounds', '3'])).code).toBe(2);
    expect((await runCli(['bench', 'model', '--model', MODEL, '--backend', 'gpu'])).code).toBe(2);
    expect((await runCli(['bench', 'model', '--model', MODEL, '--batch', '0'])).code).toBe(2);
    expect((await runCli(['bench', 'model', '--model', MODEL, '--data', 'digits', '--batch', '5000'])).code).toBe(2);
    expect((await runCli(['bench', 'model'])).code).toBe(2);
    const missing = await runCli(['bench', 'model', '--model', '/nonexistent/model.safetensors']);
    expect(missing.code).toBe(3);
  });
});
