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

  it('trains, prunes, compiles and times a convolutional network with --arch, and names it in the report', async () => {
    const out = join(dir, 'conv');
    const arch = '1x28x28-c4k5s2-m2-10';
    const result = await runCli(['demo', '--quick', '--arch', arch, '--out', out, '--json', '--quiet', '--sparsities', '0.8', '--epochs', '1', '--prune-epochs', '1', '--quantize', 'none']);
    expect(result.code, result.stderr).toBe(0);
    const data = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      options: { architecture: string }; dense: { testAccuracy: number }; runs: { sparsity: number; latency: { sparseUs: number; kernels: string }[] }[];
    };
    expect(data.options.architecture).toBe(arch);
    expect(data.dense.testAccuracy).toBeGreaterThan(0.5);
    expect(data.runs).toHaveLength(3);
    for (const run of data.runs) {
      expect(run.sparsity).toBeCloseTo(0.8, 2);
      for (const row of run.latency) {
        expect(row.sparseUs).toBeGreaterThan(0);
        expect(row.kernels.split(',')).toHaveLength(2); // the conv layer and the linear layer, each with its kernel
      }
    }
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain(`sparsegrad demo: ${arch} on the built-in digits`);
    for (const [bad, message] of [['1x28x28-c4k5-3', /ends with \[3\] outputs but the data has 10 classes/], ['100-10', /starts with 100 inputs but the digits have 784 features/], ['c4', /architecture 'c4'/]] as const) {
      const refused = await runCli(['demo', '--arch', bad, '--out', join(dir, 'refused'), '--quiet']);
      expect(refused.code, bad).toBe(2);
      expect(refused.stderr).toMatch(message);
    }
    expect(existsSync(join(dir, 'refused'))).toBe(false); // refused before the report folder is created
  });

  it.runIf(existsSync('/usr/bin/chromium'))('opens in headless Chromium without errors', async () => {
    const check = await checkPageInChromium(join(dir, 'index.html'));
    expect(check.errors).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.svgCount).toBe(5);
  });
});
