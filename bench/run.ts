/**
 * Benchmark entry point: `tsx bench/run.ts <suite> [--json] [--quick] [--max-time S] [--threads N] [suite args...]`.
 * `npx sparsegrad bench <suite>` runs this file. With --json the last stdout line is one JSON object.
 */
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { machineInfo, type BenchOptions } from './harness.ts';

/** Each suite is a module bench/<name>.ts exporting `run(options): Promise<{ rows: object[] }>` */
const SUITES = ['dense', 'gemm', 'sparse', 'train', 'onnx', 'threads', 'conv', 'int8'] as const;

async function main(argv: string[]): Promise<void> {
  const suite = argv[0];
  if (suite === undefined || suite === '--help' || !(SUITES as readonly string[]).includes(suite)) {
    process.stderr.write(`usage: sparsegrad bench <${SUITES.join('|')}> [--json] [--quick] [--max-time S] [--threads N]\n`);
    process.exitCode = suite === undefined || suite === '--help' ? 0 : 2;
    return;
  }
  const rest = argv.slice(1);
  const maxTimeAt = rest.indexOf('--max-time');
  const threadsAt = rest.indexOf('--threads');
  const options: BenchOptions = {
    json: rest.includes('--json'),
    quick: rest.includes('--quick'),
    maxTime: maxTimeAt >= 0 ? Number(rest[maxTimeAt + 1]) : 1,
    threads: threadsAt >= 0 ? Number(rest[threadsAt + 1]) : availableParallelism(),
    args: rest.filter((a, i) => !a.startsWith('--') && (maxTimeAt < 0 || i !== maxTimeAt + 1) && (threadsAt < 0 || i !== threadsAt + 1)),
  };
  if (!(options.maxTime > 0)) throw new Error('--max-time needs a positive number of seconds');
  if (!(Number.isSafeInteger(options.threads) && options.threads >= 1)) throw new Error('--threads needs a positive integer');
  const module = (await import(pathToFileURL(new URL(`./${suite}.ts`, import.meta.url).pathname).href)) as {
    run(options: BenchOptions): Promise<Record<string, unknown>>;
  };
  const result = await module.run(options);
  if (options.json) process.stdout.write(JSON.stringify({ suite, machine: machineInfo(), ...result }) + '\n');
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
