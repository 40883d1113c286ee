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
                       1…8; kmeans:4,layers.0=3 gives layers.0 its own width), fine-tuned with the weights
                       kept quantized; saved in the compact encodings. Add ,f16 (kmeans:4,f16) to round
                       biases and centroids to float16 after fine-tuning: stored in 2 bytes instead of 4
  --quantize-epochs E  fine-tuning epochs after quantizing, default 1;  --quantize-lr X  default 0.0001
  --entropy NAME       huffman (default with --quantize) or none
`;

/** A parsed `--quantize int8|kmeans:B[,LAYER=B…][,f16]` (or `--method` + `--bits` + `--layer-bits` + `--float16`). */
export interface QuantizeChoice {
  readonly method: QuantizeMethod;
  /** Codebook bits for kmeans; null for int8. */
  readonly bits: number | null;
  /** kmeans: widths of particular layers (`layers.0` or `layers.0.weight`), others take `bits`; null if none. */
  readonly layerBits: Readonly<Record<string, number>> | null;
  /** Round biases and kmeans centroids to float16 after fine-tuning (QuantizeOptions.float16). */
  readonly float16: boolean;
}

/** The `--quantize` token that asks for float16 biases and centroids. */
const FLOAT16_TOKEN = 'f16';

/**
 * Parses `int8`, `kmeans:B`, or `kmeans:B,LAYER=B,…` (every B in 1…8; a layer once), each optionally with the
 * token `f16` (once; e.g. `kmeans:4,layers.0=3,f16`, `int8,f16`). UsageError otherwise; whether each LAYER is
 * a weight of the model is checked when quantizing (ConfigError).
 */
export function parseQuantizeFlag(text: string): QuantizeChoice {
  const [head, ...items] = text.split(',');
  const float16Items = items.filter((item) => item === FLOAT16_TOKEN);
  if (float16Items.length > 1) throw new UsageError(`--quantize: ${FLOAT16_TOKEN} is given twice in '${text}'`);
  const layers = items.filter((item) => item !== FLOAT16_TOKEN);
  // Near misses (F16, fp16, float16, f16=1) would otherwise read as a layer name: say what the token is.
  const misspelt = layers.find((item) => /^(f|fp|float|half)[-_]?16/i.test(item));
  if (misspelt !== undefined) throw new UsageError(`--quantize: '${misspelt}' is not a quantizer option; write ${FLOAT16_TOKEN} for float16 biases and centroids (e.g. kmeans:4,${FLOAT16_TOKEN})`);
  const float16 = float16Items.length === 1;
  if (head === 'int8' && layers.length === 0) return { method: 'int8', bits: null, layerBits: null, float16 };
  const match = /^kmeans:([1-8])$/.exec(head!);
  if (match === null) throw new UsageError(`--quantize must be int8, kmeans:B or kmeans:B,LAYER=B,… with every B in 1…8 bits, optionally with ,${FLOAT16_TOKEN}; got '${text}'`);
  return { method: 'kmeans', bits: Number(match[1]), layerBits: layers.length === 0 ? null : parseLayerBits(layers, '--quantize'), float16 };
}

/** `LAYER=B` items (B in 1…8, each layer once) as a record. UsageError naming `flag` otherwise. */
export function parseLayerBits(items: readonly string[], flag: string): Record<string, number> {
  const layerBits: Record<string, number> = {};
  for (const item of items) {
    const match = /^([A-Za-z0-9_.]+)=([1-8])$/.exec(item);
    if (match === null) throw new UsageError(`${flag}: '${item}' is not LAYER=B with B in 1…8 bits (e.g. layers.0=3)`);
    if (Object.hasOwn(layerBits, match[1]!)) throw new UsageError(`${flag}: ${match[1]} is given twice`);
    layerBits[match[1]!] = Number(match[2]);
  }
  return layerBits;
}

/** A short label: 'int8', 'kmeans 5-bit', 'kmeans 4-bit, layers.0 3-bit' or 'kmeans 4-bit, f16'. */
export function quantizeLabel(choice: QuantizeChoice): string {
  const half = choice.float16 ? ', f16' : '';
  if (choice.method === 'int8') return `int8${half}`;
  const layers = Object.entries(choice.layerBits ?? {}).map(([layer, bits]) => `, ${layer} ${bits}-bit`).join('');
  return `kmeans ${choice.bits}-bit${layers}${half}`;
}

/**
 * What --json and the file's training metadata record of a choice besides method and bits: the per-layer
 * widths and float16, each only when used (so records of runs without them keep their old shape).
 */
export function quantizeExtras(choice: QuantizeChoice): { layerBits?: Readonly<Record<string, number>>; float16?: true } {
  return { ...(choice.layerBits === null ? {} : { layerBits: choice.layerBits }), ...(choice.float16 ? { float16: true as const } : {}) };
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
    ...(choice.layerBits === null ? {} : { layerBits: choice.layerBits }),
    float16: choice.float16,
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
