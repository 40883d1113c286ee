import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../args.ts';

export const BENCH_HELP = `usage: sparsegrad bench <dense|gemm|sparse|train|onnx> [--json] [--quick] [--max-time S]

Runs a benchmark suite (benchmark.js underneath): dense matmul vs tfjs-cpu and a naive loop; the SIMD GEMM
vs the f32x4 peak; sparse kernels vs the dense kernel and scipy; training speed (TypeScript and SIMD kernels,
PyTorch, tfjs-layers); sparse inference vs onnxruntime-node.
Ratios are measured in one run. With --json the last stdout line is one JSON object {"rows": [...]}.
Needs a source checkout with dev dependencies installed (npm ci): the suites live in bench/.
`;

const SUITES = ['dense', 'gemm', 'sparse', 'train', 'onnx'];

/** Runs a suite in a child process; returns its exit code (run.ts: 1 when the suite fails). */
export async function benchCommand(argv: string[]): Promise<number> {
  const suite = argv[0];
  if (suite === undefined || !SUITES.includes(suite)) throw new UsageError(`bench needs a suite: ${SUITES.join(', ')}`);
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const runner = `${root}bench/run.ts`;
  const tsx = `${root}node_modules/tsx/dist/cli.mjs`;
  if (!existsSync(runner) || !existsSync(tsx)) {
    throw new UsageError('benchmarks need a source checkout with dev dependencies (git clone, then npm ci): bench/ or tsx is missing');
  }
  // A child process with inherited stdio: the suite's output, and its last JSON line, pass straight through.
  const child = spawnSync(process.execPath, [tsx, runner, ...argv], { stdio: 'inherit' });
  if (child.error) throw child.error;
  return child.status ?? 1; // killed by a signal: a failure
}
