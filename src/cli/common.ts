import { statSync } from 'node:fs';
import type { DataSplit } from '../data/dataset.ts';
import { modelFromRecord, modelToRecord, type ToRecordOptions } from '../io/model-adapter.ts';
import type { ParamEncoding } from '../io/model-file.ts';
import type { Sequential } from '../nn/sequential.ts';
import type { EpochStats, ProgressEvent } from '../nn/train.ts';
import { loadDataset } from '../node/data.ts';
import { loadModelFile, saveModel } from '../node/model-io.ts';
import { DEFAULT_BACKEND, resolveBackend, type Backend } from '../tensor/backend.ts';
import { backendFlag, UsageError } from './args.ts';
import { bar, percent, type Output } from './output.ts';

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

/** Saves a model atomically; returns the file size in bytes. */
export async function saveModelTo(path: string, model: Sequential, encoding: ParamEncoding | 'auto', options: ToRecordOptions = {}): Promise<number> {
  await saveModel(path, modelToRecord(model, { ...options, encoding }), { encoding });
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
