/**
 * The sparsegrad command line: train, prune, quantize, compare, sweep, sensitivity, compile, bench, export, import, inspect, predict, demo.
 * Exit codes: 0 success, 1 runtime failure, 2 usage error (including an output path the rules refuse),
 * 3 invalid input file (model or data), 4 a benchmark check failed.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, DataFormatError, LabelError, ModelFormatError, OutputPathError, SparsegradError } from '../errors.ts';
import { closeThreads } from '../tensor/threads.ts';
import { UsageError } from './args.ts';
import { BENCH_HELP, benchCommand } from './commands/bench.ts';
import { COMPILE_HELP, compileCommand } from './commands/compile.ts';
import { compareCommand, compareHelp } from './commands/compare.ts';
import { DEMO_HELP, demoCommand } from './commands/demo.ts';
import { EXPORT_HELP, exportCommand } from './commands/export.ts';
import { IMPORT_HELP, importCommand } from './commands/import.ts';
import { INSPECT_HELP, inspectCommand } from './commands/inspect.ts';
import { PREDICT_HELP, predictCommand } from './commands/predict.ts';
import { pruneCommand, pruneHelp } from './commands/prune.ts';
import { QUANTIZE_HELP, quantizeCommand } from './commands/quantize.ts';
import { sensitivityCommand, sensitivityHelp } from './commands/sensitivity.ts';
import { sweepCommand, sweepHelp } from './commands/sweep.ts';
import { TRAIN_HELP, trainCommand } from './commands/train.ts';

interface Command {
  readonly summary: string;
  /** The command's --help text, or a function that builds it (when it lists registered methods). */
  readonly help: string | (() => string);
  run(argv: string[]): Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  demo: { summary: 'the main job: train → prune → compile sparse → benchmark → HTML report', help: DEMO_HELP, run: demoCommand },
  train: { summary: 'train an MLP or a conv net (--arch) on digits, Fashion-MNIST or IDX data', help: TRAIN_HELP, run: trainCommand },
  prune: { summary: 'prune a trained model with any criterion and method, retrain, save it sparse', help: pruneHelp, run: pruneCommand },
  quantize: { summary: 'quantize a model (int8, or k-means weight sharing), fine-tune it, save it compact', help: QUANTIZE_HELP, run: quantizeCommand },
  compare: { summary: 'grid of methods × criteria × sparsities: JSON table and SVG chart', help: compareHelp, run: compareCommand },
  sweep: { summary: 'grid search for a pruning setting on held-out validation data (or K folds)', help: sweepHelp, run: sweepCommand },
  sensitivity: { summary: 'prune one layer at a time on validation data; suggest per-layer sparsities', help: sensitivityHelp, run: sensitivityCommand },
  compile: { summary: 'compile a model for sparse inference; per-layer kernels, sizes, FLOPs; check vs dense', help: COMPILE_HELP, run: compileCommand },
  bench: { summary: 'time your model (bench model), or run a benchmark suite: dense, sparse, train, onnx (source checkout)', help: BENCH_HELP, run: benchCommand },
  export: { summary: 'export a model to ONNX for other runtimes', help: EXPORT_HELP, run: exportCommand },
  import: { summary: 'import a network: a PyTorch MLP state_dict (safetensors), or an ONNX MLP or conv net', help: IMPORT_HELP, run: importCommand },
  inspect: { summary: 'show a model file: layers, shapes, encodings, sparsity, sizes', help: INSPECT_HELP, run: inspectCommand },
  predict: { summary: 'classify an image, or a whole IDX file of images', help: PREDICT_HELP, run: predictCommand },
};

export const EXIT = { ok: 0, failure: 1, usage: 2, badInput: 3, benchCheck: 4 } as const;

function usage(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  return [
    'usage: sparsegrad <command> [options]     (sparsegrad <command> --help for details)',
    '',
    ...names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]!.summary}`),
    '',
    'exit codes: 0 ok, 1 failure, 2 usage error or refused output path, 3 invalid model or data file, 4 benchmark check failed',
  ].join('\n');
}

/** Maps an error to an exit code, in one place. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof OutputPathError) return EXIT.usage;
  if (error instanceof ModelFormatError || error instanceof DataFormatError || error instanceof LabelError) return EXIT.badInput;
  return EXIT.failure;
}

/**
 * The version in package.json. This file is src/cli/main.ts under tsx and dist/cli/main.js once built; the
 * package root is two levels up from both.
 */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`sparsegrad ${packageVersion()}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`error: unknown command '${name}'\n\n${usage()}\n`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(typeof command.help === 'function' ? command.help() : command.help);
    return EXIT.ok;
  }
  const json = rest.includes('--json');
  try {
    // A command that finished but reports a failed check sets process.exitCode (compile's mismatches: 1, a
    // benchmark check: 4); main returns it (run.ts assigns it back) and clears it, so a command run in the
    // same process afterwards (tests, the demo) starts from 0 rather than inheriting an earlier failure.
    process.exitCode = undefined;
    await command.run(rest);
    const reported = Number(process.exitCode ?? 0);
    process.exitCode = undefined;
    return Number.isInteger(reported) && reported !== 0 ? reported : EXIT.ok;
  } catch (error) {
    const code = exitCodeFor(error);
    const message = error instanceof Error ? error.message : String(error);
    const kind = error instanceof SparsegradError ? ` [${error.code}]` : '';
    process.stderr.write(`error${kind}: ${message}\n`);
    if (process.env['SPARSEGRAD_DEBUG'] && error instanceof Error && error.stack) process.stderr.write(error.stack + '\n');
    if (error instanceof UsageError) process.stderr.write(`(see: sparsegrad ${name} --help)\n`);
    if (json) process.stdout.write(JSON.stringify({ error: { code: error instanceof SparsegradError ? error.code : 'E_FAILURE', message } }) + '\n');
    return code;
  } finally {
    closeThreads(); // worker threads are unref'd anyway; this ends them as soon as the command is done
  }
}
