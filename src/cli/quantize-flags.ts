/**
 * What `quantize` and `prune --quantize` share: parsing the quantization flags, quantizing and fine-tuning a
 * model, saving it in the compact encodings, and the size after each stage of Deep Compression (Table 1 of
 * Han, Mao & Dally 2016): dense float32 → pruned (float32 CSR) → quantized (codes + relative indices) →
 * entropy-coded (Huffman).
 */

import type { Dataset } from '../data/dataset.ts';
import { modelToRecord, type ToRecordOptions } from '../io/model-adapter.ts';
import { serializeModel, type ParamEncoding } from '../io/model-file.ts';
import type { Sequential } from '../nn/sequential.ts';
import type { FitOptions } from '../nn/train.ts';
import { saveModelFile } from '../node/model-io.ts';
import type { OutputOptions } from '../node/output-path.ts';
import { quantizeAndFineTune, type CompressionStages, type FineTuneQuantizedResult, type ModelQuantization, type QuantizeMethod } from '../quantize/index.ts';
export { compressionStages } from '../quantize/index.ts';
import type { Backend } from '../tensor/backend.ts';
import { UsageError } from './args.ts';

/** The flags `prune` takes to chain quantization after pruning. */
export const PRUNE_QUANTIZE_FLAGS = {
  quantize: { type: 'string' }, 'quantize-epochs': { type: 'string' }, 'quantize-lr': { type: 'string' }, entropy: { type: 'string' },
} as const;

/** Their lines in `prune --help`. */
export const PRUNE_QUANTIZE_HELP = `  --quantize Q         after pruning, quantize: int8, or kmeans:B (weight sharing with a B-bit codebook, B in
                       1…8), fine-tuned with the weights kept quantized; saved in the compact encodings
  --quantize-epochs E  fine-tuning epochs after quantizing, default 1;  --quantize-lr X  default 0.0001
  --entropy NAME       huffman (default with --quantize) or none
`;

/** A parsed `--quantize int8|kmeans:B` (or `--method` + `--bits`). */
export interface QuantizeChoice {
  readonly method: QuantizeMethod;
  /** Codebook bits for kmeans; null for int8. */
  readonly bits: number | null;
}

/** Parses `int8` or `kmeans:B` (B in 1…8). UsageError otherwise. */
export function parseQuantizeFlag(text: string): QuantizeChoice {
  if (text === 'int8') return { method: 'int8', bits: null };
  const match = /^kmeans:([1-8])$/.exec(text);
  if (match === null) throw new UsageError(`--quantize must be int8 or kmeans:B with B in 1…8 bits, got '${text}'`);
  return { method: 'kmeans', bits: Number(match[1]) };
}

/** A short label: 'int8' or 'kmeans 5-bit'. */
export function quantizeLabel(choice: QuantizeChoice): string {
  return choice.method === 'int8' ? 'int8' : `kmeans ${choice.bits}-bit`;
}

/** Settings of the fine-tuning run after quantization. */
export interface QuantizeRun {
  readonly epochs: number;
  readonly lr: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly backend: Backend;
  readonly threads: number;
  /** Progress callbacks of the training run. */
  readonly callbacks?: Pick<FitOptions, 'onEpoch' | 'onProgress'>;
}

/** Quantizes `model` in place and fine-tunes it on `train` (trained quantization or QAT; 0 epochs = PTQ). */
export function quantizeForCli(model: Sequential, train: Dataset, choice: QuantizeChoice, run: QuantizeRun): FineTuneQuantizedResult {
  return quantizeAndFineTune(model, train, {
    method: choice.method,
    ...(choice.bits === null ? {} : { bits: choice.bits }),
    epochs: run.epochs,
    lr: run.lr,
    batchSize: run.batchSize,
    seed: run.seed,
    fit: { backend: run.backend, threads: run.threads, ...run.callbacks },
  });
}

/** The stages as JSON rows with their compression ratio against the dense file. */
export function stageRows(stages: CompressionStages): { stage: string; bytes: number; ratio: number }[] {
  const rows: [string, number | null][] = [['dense', stages.dense], ['pruned', stages.pruned], ['quantized', stages.quantized], ['entropy-coded', stages.entropyCoded]];
  return rows.filter((row): row is [string, number] => row[1] !== null).map(([stage, bytes]) => ({ stage, bytes, ratio: stages.dense / bytes }));
}

/**
 * Saves a quantized model in its smallest form (auto layout, relative-index gaps, and Huffman unless
 * `entropy` is 'none') through the output rules; returns the file size.
 */
export async function saveQuantized(path: string, model: Sequential, quantization: ModelQuantization, encoding: ParamEncoding | 'auto', entropy: 'huffman' | 'none', options: ToRecordOptions & OutputOptions): Promise<number> {
  const { followSymlinks, ...recordOptions } = options;
  const bytes = serializeModel(modelToRecord(model, { ...recordOptions, encoding, quantization }), { encoding, indices: 'gaps', huffman: entropy === 'huffman' });
  await saveModelFile(path, bytes, { followSymlinks: followSymlinks === true });
  return bytes.length;
}

/** Parses `--entropy huffman|none` (default huffman). */
export function parseEntropy(text: string): 'huffman' | 'none' {
  if (text !== 'huffman' && text !== 'none') throw new UsageError(`--entropy must be huffman or none, got '${text}'`);
  return text;
}
