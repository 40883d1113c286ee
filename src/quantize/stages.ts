/**
 * The file size after each stage of Deep Compression (Table 1 of Han, Mao & Dally 2016): dense float32 →
 * pruned (float32, CSR where smaller) → quantized (codes, CSR structure as relative-index gaps) →
 * entropy-coded (+ Huffman). Each is the length of the model file the serializer writes at that stage.
 */

import { modelToRecord, type ToRecordOptions } from '../io/model-adapter.ts';
import { serializeModel, type ModelRecord, type SerializeOptions } from '../io/model-file.ts';
import type { Sequential } from '../nn/sequential.ts';
import type { ModelQuantization } from './quantize-model.ts';

/** The file size after each stage, in bytes (null: the stage was not run). */
export interface CompressionStages {
  readonly dense: number;
  readonly pruned: number;
  readonly quantized: number | null;
  readonly entropyCoded: number | null;
}

/**
 * Serialized sizes of `model` at each stage (architecture and weights; `training` metadata only if given):
 * dense float32 (every weight, no masks), pruned (float32, CSR where smaller), and, with codes, quantized
 * (codes, CSR structure as relative-index gaps, biases and codebooks as F16 where every value is a float16
 * value) and entropy-coded (+ Huffman). The model is read, not changed.
 */
export function compressionStages(model: Sequential, quantization: ModelQuantization | null, training?: Record<string, unknown>): CompressionStages {
  const withTraining = (record: ModelRecord): ModelRecord => (training === undefined ? record : { ...record, training });
  const size = (options: ToRecordOptions, serialize: SerializeOptions): number => serializeModel(withTraining(modelToRecord(model, options)), serialize).length;
  // The baseline is the dense float32 model: every weight, no masks.
  const denseRecord = modelToRecord(model, { encoding: 'dense' });
  const unmasked = new Map([...denseRecord.params].map(([name, { mask: _mask, ...param }]) => [name, param]));
  return {
    dense: serializeModel(withTraining({ ...denseRecord, params: unmasked }), { encoding: 'dense' }).length,
    pruned: size({ encoding: 'auto' }, { encoding: 'auto' }),
    quantized: quantization === null ? null : size({ encoding: 'auto', quantization }, { encoding: 'auto', indices: 'gaps' }),
    entropyCoded: quantization === null ? null : size({ encoding: 'auto', quantization }, { encoding: 'auto', indices: 'gaps', huffman: true }),
  };
}
