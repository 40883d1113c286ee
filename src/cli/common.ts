import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { DataSplit } from '../data/dataset.ts';
import { ModelFormatError } from '../errors.ts';
import { modelFromRecord, modelToRecord, type ToRecordOptions } from '../io/model-adapter.ts';
import { validateModelSpec, type ParamEncoding } from '../io/model-file.ts';
import type { ModelSpec } from '../nn/spec.ts';
import type { Sequential } from '../nn/sequential.ts';
import type { EpochStats, ProgressEvent } from '../nn/train.ts';
import { loadDataset } from '../node/data.ts';
import { loadModelFile, saveModel } from '../node/model-io.ts';
import { checkOutputPath, type OutputOptions } from '../node/output-path.ts';
import { nodeThreadHost } from '../node/threads.ts';
import { DEFAULT_BACKEND, resolveBackend, type Backend } from '../tensor/backend.ts';
import { MAX_THREADS, resolveThreads, setThreadHost, threadHost } from '../tensor/threads.ts';
import { backendFlag, numberFlag, optionalString, UsageError, type OptionSpec } from './args.ts';
import { bar, percent, type Output } from './output.ts';

/** The flag every command that writes files takes: write through a symbolic link at an output path. */
export const FOLLOW_SYMLINKS_OPTION: OptionSpec = { 'follow-symlinks': { type: 'boolean' } };
/** Its line in each command's --help. */
export const FOLLOW_SYMLINKS_HELP = '  --follow-symlinks  write through a symbolic link at an output path (refused by default)\n';

/** The output options from the parsed flags. */
export function outputOptions(values: Record<string, unknown>): OutputOptions {
  return { followSymlinks: values['follow-symlinks'] === true };
}

/**
 * An output path flag, checked by the output rules (src/node/output-path.ts) before any work starts, so a
 * device, FIFO, directory, read-only file or unfollowed symlink fails in milliseconds, not after training.
 */
export function outputFlag(values: Record<string, unknown>, name: string, fallback?: string): string | undefined {
  const path = optionalString(values, name) ?? fallback;
  if (path !== undefined) checkOutputPath(path, outputOptions(values));
  return path;
}

/**
 * Checks an architecture against the model file's limits (layer sizes below 2^31, at most 2^26 parameters)
 * before a model is built, so an impossible --arch is a usage error, not an out-of-memory crash.
 */
export function checkArchitecture(spec: ModelSpec, flag: string): void {
  try {
    validateModelSpec(spec);
  } catch (error) {
    if (error instanceof ModelFormatError) throw new UsageError(`${flag}: ${error.message}`);
    throw error;
  }
}

/**
 * Refuses non-finite model outputs (NaN, ±Infinity) instead of reading a class out of them. The loader
 * refuses weights that can overflow for inputs in [-1, 1], so this is the last line of defence.
 * Throws ModelFormatError('E_NON_FINITE_OUTPUT'), exit code 3.
 */
export function checkFiniteOutputs(logits: ArrayLike<number>, classes: number, what: string): void {
  for (let i = 0; i < logits.length; i++) {
    if (!Number.isFinite(logits[i]!)) {
      throw new ModelFormatError('E_NON_FINITE_OUTPUT', `${what} gives ${logits[i]} for sample ${Math.floor(i / classes)}, class ${i % classes}: the model's weights do not compute (no answer)`);
    }
  }
}

/** Loads `--data` (digits, fashion-mnist or an IDX directory), reporting how long it took. */
export function loadData(spec: string, out: Output): DataSplit {
  const started = Date.now();
  const data = loadDataset(spec);
  out.note(`data: ${data.train.name} ${data.train.count} / ${data.test.name} ${data.test.count} samples, ${data.train.features} features (${Date.now() - started} ms)`);
  return data;
}

export async function loadModel(path: string): Promise<Sequential> {
  return modelFromRecord(await loadModelFile(path));
}

/** Saves a model atomically under the output rules; returns the file size in bytes. */
export async function saveModelTo(path: string, model: Sequential, encoding: ParamEncoding | 'auto', options: ToRecordOptions & OutputOptions = {}): Promise<number> {
  const { followSymlinks, ...record } = options;
  await saveModel(path, modelToRecord(model, { ...record, encoding }), { encoding, followSymlinks: followSymlinks === true });
  return statSync(path).size;
}

export function parseEncoding(text: string): ParamEncoding | 'auto' {
  if (text !== 'auto' && text !== 'dense' && text !== 'csr') throw new UsageError(`--encoding must be auto, dense or csr, got '${text}'`);
  return text;
}

/** Progress and per-epoch reporting shared by train, prune and demo. */
export function trainingReporter(out: Output, label: string): { onProgress: (e: ProgressEvent) => void; onEpoch: (s: EpochStats) => void } {
  return {
    onProgress(e) {
      out.progress(`${label} epoch ${e.epoch}/${e.epochs} ${bar(e.batch / e.batches)} loss ${e.loss.toFixed(4)}`);
    },
    onEpoch(s) {
      const validation = s.validation === undefined ? '' : `, validation ${percent(s.validation.accuracy)}`;
      out.note(`${label} epoch ${s.epoch}: loss ${s.loss.toFixed(4)}, train ${percent(s.accuracy)}${validation} (${s.seconds.toFixed(1)} s)`);
    },
  };
}

/** The `--backend` line of a training command's help, its description starting at column `column`. */
export function trainingBackendHelp(column: number): string {
  return `  ${'--backend NAME'.padEnd(column - 2)}kernels to train on: js (TypeScript) or wasm-simd (WebAssembly SIMD, several times faster); default ${DEFAULT_BACKEND}`;
}

/**
 * `--backend` of a command that trains: the backend that will run (wasm-simd falls back to js, with a note,
 * on an engine without WebAssembly SIMD).
 */
export function trainingBackend(values: Record<string, unknown>, out: Output): Backend {
  const { backend, note } = resolveBackend(backendFlag(values));
  if (note !== undefined) out.note(note);
  return backend;
}

/** The CLI's thread count when --threads is not given: one per core (os.availableParallelism), at most MAX_THREADS. */
export function defaultThreads(): number {
  return Math.min(availableParallelism(), MAX_THREADS);
}

/** The `--threads N` line of a computing command's help, its description starting at column `column`. */
export function threadsHelp(column: number): string {
  return `  ${'--threads N'.padEnd(column - 2)}threads for the WebAssembly kernels, from 1 to ${MAX_THREADS}; default: one per core (${defaultThreads()} here)`;
}

/**
 * Threads for each of `jobs` parallel runs out of `threads` in all, so a study with several jobs does not
 * run more kernel threads than it was given (at least one each).
 */
export function threadsPerJob(threads: number, jobs: number): number {
  return Math.max(1, Math.floor(threads / jobs));
}

/**
 * `--threads N` of a command that computes: the threads that will run (worker_threads, started on first
 * use; `threads: 1` on the js backend), with a note when that is fewer than asked.
 * Throws UsageError for anything but an integer from 1 to MAX_THREADS (0, -1, abc).
 */
export function threadsFlag(values: Record<string, unknown>, out: Output, backend: Backend | 'wasm-int8'): number {
  const requested = numberFlag(values, 'threads', defaultThreads(), { min: 1, max: MAX_THREADS, integer: true });
  if (threadHost() === null) setThreadHost(nodeThreadHost);
  if (backend === 'js') {
    if (requested > 1 && values['threads'] !== undefined) out.note(`--threads: the ${backend} backend runs on one thread`);
    return 1;
  }
  const { threads, note } = resolveThreads(requested);
  if (note !== undefined) out.note(note);
  return threads;
}
