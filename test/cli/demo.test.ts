import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPageInChromium } from '../support/chromium.ts';
import { extractReportData } from '../../src/report/html.ts';
import { runCli } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sparsegrad-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sparsegrad demo (quick)', () => {
  let html = '';

  it('runs the whole job and writes the HTML report and its JSON', async () => {
    const result = await runCli(['demo', '--quick', '--out', dir, '--json', '--quiet', '--sparsities', '0.9', '--epochs', '1', '--prune-epochs', '1']);
    expect(result.code, result.stderr).toBe(0);
    html = readFileSync(join(dir, 'index.html'), 'utf8');
    const data = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
      runs: { sparsity: number; latency: { speedup: number }[]; compression: { stages: { dense: number; pruned: number; quantized: number; entropyCoded: number }; testAccuracy: number } }[]; dense: { testAccuracy: number; fileBytes: number };
    };
    expect(data.dense.testAccuracy).toBeGreaterThan(0.8);
    expect(data.runs).toHaveLength(3); // three methods × one sparsity
    for (const run of data.runs) {
      expect(run.sparsity).toBeCloseTo(0.9, 2);
      expect(run.latency).toHaveLength(2);
      // the compression axis (default kmeans:5): every stage smaller than the one before
      const { dense: denseBytes, pruned, quantized, entropyCoded } = run.compression.stages;
      expect(denseBytes).toBe(data.dense.fileBytes);
      expect(pruned).toBeLessThan(denseBytes);
      expect(quantized).toBeLessThan(pruned);
      expect(entropyCoded).toBeLessThanOrEqual(quantized);
      expect(run.compression.testAccuracy).toBeGreaterThan(0.5);
    }
    expect(extractReportData(html)).toMatchObject({ data: { runs: expect.any(Array) } });
    expect(html.match(/<svg/g)?.length).toBe(5);
    expect(html).toContain('file size (bytes, log scale)');
  });

  it('times inference on the WebAssembly SIMD kernels with --backend wasm-simd', async () => {
    const out = join(dir, 'wasm');
    const result = await runCli(['demo', '--quick', '--out', out, '--json', '--quiet', '--sparsities', '0.95', '--epochs', '1', '--prune-epochs', '1', '--backend', 'wasm-simd', '--quantize', 'none']);
    expect(result.code, result.stderr).toBe(0);
    const data = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { options: { backend: string }; runs: { latency: { sparseUs: number; kernels: string }[] }[] };
    expect(data.options.backend).toBe('wasm-simd');
    for (const run of data.runs) for (const row of run.latency) expect(row.sparseUs).toBeGreaterThan(0);
    expect(data.runs.every((run) => !('compression' in run))).toBe(true); // --quantize none
    const bad = await runCli(['demo', '--backend', 'webgpu']);
    expect(bad.code).toBe(2);
  });

  it.runIf(existsSync('/usr/bin/chromium'))('opens in headless Chromium without errors', async () => {
    const check = await checkPageInChromium(join(dir, 'index.html'));
    expect(check.errors).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.svgCount).toBe(5);
  });
});
