import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { numberFlag, UsageError } from '../args.ts';
import { defaultThreads } from '../common.ts';
import { MAX_THREADS } from '../../tensor/threads.ts';
import { BENCH_MODEL_HELP, benchModelCommand } from './bench-model.ts';

export const BENCH_HELP = `${BENCH_MODEL_HELP}
usage: sparsegrad bench <dense|gemm|sparse|train|onnx|threads|conv|int8> [--json] [--quick] [--max-time S] [--threads N]

Runs a benchmark suite (benchmark.js underneath): dense matmul vs tfjs-cpu and a naive loop; the SIMD GEMM
vs the f32x4 peak; sparse kernels vs the dense kernel and scipy; training speed (TypeScript and SIMD kernels,
PyTorch, tfjs-layers); sparse inference vs onnxruntime-node; one thread against --threads N (default: one
per core, here ${defaultThreads()}) for training, GEMM and inference; sparse vs dense convolution (LeNet-5's
conv2 at batch 1) and LeNet-5 vs onnxruntime-node; int8 against float32 kernels (wasm-int8 vs wasm-simd).
Ratios are measured in one run. With --json the last stdout line is one JSON object {"rows": [...]}.
The suites need a source checkout with dev dependencies installed (npm ci): they live in bench/.
`;

const SUITES = ['dense', 'gemm', 'sparse', 'train', 'onnx', 'threads', 'conv', 'int8'];

export async function benchCommand(args: string[]): Promise<void> {
  const argv = args.flatMap((a) => (a.startsWith('--threads=') ? ['--threads', a.slice('--threads='.length)] : [a]));
  const suite = argv[0];
  if (suite === 'model') return benchModelCommand(argv.slice(1));
  if (suite === undefined || !SUITES.includes(suite)) throw new UsageError(`bench needs a suite: model, ${SUITES.join(', ')}`);
  const at = argv.indexOf('--threads');
  if (at >= 0) numberFlag({ threads: argv[at + 1] ?? '' }, 'threads', undefined, { min: 1, max: MAX_THREADS, integer: true });
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const runner = `${root}bench/run.ts`;
  const tsx = `${root}node_modules/tsx/dist/cli.mjs`;
  if (!existsSync(runner) || !existsSync(tsx)) {
    throw new UsageError('benchmarks need a source checkout with dev dependencies (git clone, then npm ci): bench/ or tsx is missing');
  }
  // A child process with inherited stdio: the suite's output, and its last JSON line, pass straight through.
  const child = spawnSync(process.execPath, [tsx, runner, ...argv], { stdio: 'inherit' });
  if (child.error) throw child.error;
  if (child.status !== 0) process.exitCode = child.status ?? 1;
}
