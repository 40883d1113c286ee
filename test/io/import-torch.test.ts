/**
 * The round trip through real PyTorch (issue 13's acceptance): an MLP trained in PyTorch and written with
 * tools/sparsegrad_torch.py, imported with `sparsegrad import`, predicts PyTorch's classes on the 2,000 test
 * digits — float32, pruned with torch.nn.utils.prune (weight_orig + weight_mask, and as CSR), exported to ONNX
 * by torch.onnx — and F16 weights flip at most one class per 500. Back the other way, a sparsegrad file loaded
 * into torch by the helper (dense, and as torch.sparse_csr_tensor) predicts sparsegrad's classes.
 *
 * Runs where a python3 imports torch (Debian's python3-torch; .ci/run installs it when it can); elsewhere it is
 * skipped with a notice. The numpy-fixture tests (import.test.ts) run everywhere.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileModelBytesSync } from '../../src/infer/index.ts';
import { loadDigits } from '../../src/node/data.ts';
import { runCli } from '../cli/run-cli.ts';
import { torchPython } from '../support/torch-python.ts';

const SCRIPT = new URL('../fixtures/import/torch_roundtrip.py', import.meta.url).pathname;
const HELPER = new URL('../../tools/sparsegrad_torch.py', import.meta.url).pathname;

const python = torchPython();
if (python === null) console.warn('import-torch.test.ts: SKIPPED — no python3 here imports torch (apt-get install python3-torch); the numpy-fixture import tests still run');
const work = mkdtempSync(join(tmpdir(), 'sparsegrad-torch-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function runPython(args: string[]): string {
  const run = spawnSync(python!, [SCRIPT, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (run.status !== 0) throw new Error(`torch_roundtrip.py ${args[0]} failed: ${run.stderr}`);
  return run.stdout;
}

function differences(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let count = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) count++;
  return count;
}

describe.runIf(python !== null)('PyTorch round trip', () => {
  const { test } = loadDigits();

  /** Imports a file with the CLI and returns the imported model's classes on the test digits. */
  async function importedClasses(name: string, from: 'safetensors' | 'onnx'): Promise<{ classes: Int32Array; path: string }> {
    const path = join(work, `${name}.sparsegrad.safetensors`);
    const result = await runCli(['import', '--from', from, join(work, name), '--out', path, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const model = compileModelBytesSync(readFileSync(path), { backend: 'js' });
    return { classes: model.predictClasses(test.x, test.count).slice(), path };
  }

  it('imports what PyTorch wrote and predicts its classes on 2,000 digits; F16 flips at most 1 in 500', async () => {
    runPython(['export', work]);
    const torch = JSON.parse(readFileSync(join(work, 'classes.json'), 'utf8')) as { f32: number[]; pruned: number[] };
    expect(torch.f32.length).toBe(2000);
    const counts: Record<string, number> = {};
    counts['f32'] = differences((await importedClasses('f32.safetensors', 'safetensors')).classes, torch.f32);
    counts['onnx'] = differences((await importedClasses('model.onnx', 'onnx')).classes, torch.f32);
    counts['pruned'] = differences((await importedClasses('pruned.safetensors', 'safetensors')).classes, torch.pruned);
    counts['pruned-csr'] = differences((await importedClasses('pruned-csr.safetensors', 'safetensors')).classes, torch.pruned);
    counts['f16'] = differences((await importedClasses('f16.safetensors', 'safetensors')).classes, torch.f32);
    // The helper's command line: a torch.save'd state_dict → half-precision CSR safetensors.
    const cli = spawnSync(python!, [HELPER, 'export', join(work, 'model.pt'), join(work, 'cli-f16-csr.safetensors'), '--half', '--csr'], { encoding: 'utf8', timeout: 120_000 });
    expect(cli.status, cli.stderr).toBe(0);
    counts['cli-f16-csr'] = differences((await importedClasses('cli-f16-csr.safetensors', 'safetensors')).classes, torch.f32);
    console.log(`PyTorch round trip, class differences on 2,000 digits: ${JSON.stringify(counts)}`);
    expect({ ...counts, f16: 0, 'cli-f16-csr': 0 }).toEqual({ f32: 0, onnx: 0, pruned: 0, 'pruned-csr': 0, f16: 0, 'cli-f16-csr': 0 });
    expect(counts['f16']).toBeLessThanOrEqual(2000 / 500);
    expect(counts['cli-f16-csr']).toBeLessThanOrEqual(2000 / 500);
  });

  it('loads a sparsegrad file into torch (dense and torch.sparse_csr_tensor) with the same classes', () => {
    const path = new URL('../../examples/browser/models/sparse.safetensors', import.meta.url).pathname;
    const ours = compileModelBytesSync(readFileSync(path), { backend: 'js' }).predictClasses(test.x, test.count);
    const torch = JSON.parse(runPython(['classes', path]).trim().split('\n').pop()!) as { dense: number[]; sparse: number[] };
    expect(differences(torch.dense, ours)).toBe(0);
    expect(differences(torch.sparse, ours)).toBe(0);
  });
});
