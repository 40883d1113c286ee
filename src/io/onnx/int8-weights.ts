/**
 * ONNX export of int8-quantized weights (issue 14): instead of a float32 initializer, a linear or conv layer's
 * weight goes out as its int8 codes and per-row (per-output-channel) scales, and a `DequantizeLinear` node
 * rebuilds the float weight in the graph, where the `Gemm` or `Conv` reads it:
 *
 *     layers.0.weight.int8 [300, 784] INT8 ──┐
 *     layers.0.weight.scale [300] FLOAT ─────┼─DequantizeLinear(axis = 0)── layers.0.weight ──Gemm── ...
 *     layers.0.weight.zero_point [300] INT8 ─┘
 *
 * DequantizeLinear-13 computes y = (x − zero_point) · scale in float32 per output row; with zero points of 0
 * that is fround(code · scale), exactly the value sparsegrad's int8 encoding stands for, so onnxruntime runs
 * the same float model the file holds (its dense kernels; the int8 only makes the file smaller). Pruned codes
 * are 0; a weight whose sparse form is smaller goes out as a sparse INT8 initializer (values and INT64 linear
 * indices), which runtimes expand when they load the model, as for float weights.
 *
 * Codebook (k-means) weights have no ONNX quantized form smaller than their float values (a Gather needs
 * int32/int64 indices), so they are exported as dequantized float32 (sparse where smaller) by export.ts.
 */
import { ConfigError, ShapeError } from '../../errors.ts';
import type { ModelRecord } from '../model-file.ts';
import { float32Bytes, intAttribute, node, nonzeroIndices, rawInitializer, sparseRawInitializer, TENSOR_FLOAT, TENSOR_INT8, varintLength } from './onnx-messages.ts';
import type { ProtoWriter } from './protobuf.ts';

/**
 * One weight's int8 codes over all of its entries (row-major, pruned entries 0) and one scale per output row
 * (linear [out, in]) or output channel (conv [out, in/groups, kh, kw]).
 */
export interface OnnxInt8Weight {
  readonly codes: Int8Array;
  readonly scales: Float32Array;
}


/**
 * The int8 weights of a model record, each expanded to all of its [out, in] entries (a CSR weight's codes
 * placed at its column indices, zeros elsewhere) — the `int8Weights` option of `exportOnnx`. Codebook and
 * float weights are left out (they are exported as float32).
 */
export function int8WeightsOfRecord(record: ModelRecord): Map<string, OnnxInt8Weight> {
  const weights = new Map<string, OnnxInt8Weight>();
  for (const [name, param] of record.params) {
    const q = param.quantized;
    if (q?.kind !== 'int8' || (param.shape.length !== 2 && param.shape.length !== 4)) continue;
    // A conv weight [out, in/groups, kh, kw] is the matrix [out, in/groups·kh·kw], as in its CSR form.
    const size = param.shape.reduce((a, b) => a * b, 1);
    const cols = param.shape[0] === 0 ? 0 : size / param.shape[0]!;
    const codes = new Int8Array(size);
    if (param.csr === undefined) {
      codes.set(q.codes);
      if (param.mask !== undefined) for (let j = 0; j < codes.length; j++) if (param.mask[j] === 0) codes[j] = 0; // pruned: 0 whatever its code
    } else {
      const { indptr, indices } = param.csr;
      for (let row = 0; row < param.csr.nRows; row++) for (let k = indptr[row]!; k < indptr[row + 1]!; k++) codes[row * cols + indices[k]!] = q.codes[k]!;
    }
    weights.set(name, { codes, scales: q.scales });
  }
  return weights;
}

/**
 * Checks that `int8` stands for `weight` ([rows, cols] row-major float32): one positive finite scale per row,
 * codes in [−127, 127], and fround(code · scale) equal to every weight value — so the exported graph computes
 * the model it was given. Throws ShapeError (lengths) or ConfigError naming the weight and the first mismatch.
 */
export function checkInt8Weight(name: string, int8: OnnxInt8Weight, weight: Float32Array, rows: number, cols: number): void {
  if (!(int8.codes instanceof Int8Array) || !(int8.scales instanceof Float32Array)) throw new ConfigError(`ONNX export: the int8 form of ${name} needs an Int8Array of codes and a Float32Array of scales`);
  if (int8.codes.length !== rows * cols || int8.scales.length !== rows) {
    throw new ShapeError(`ONNX export: the int8 form of ${name} has ${int8.codes.length} codes and ${int8.scales.length} scales, expected ${rows * cols} and ${rows}`);
  }
  for (let row = 0; row < rows; row++) {
    const scale = int8.scales[row]!;
    if (!(scale > 0 && Number.isFinite(scale))) throw new ConfigError(`ONNX export: the int8 scale of ${name} row ${row} is ${scale}; scales must be positive and finite`);
    for (let j = row * cols; j < (row + 1) * cols; j++) {
      const code = int8.codes[j]!;
      if (code < -127) throw new ConfigError(`ONNX export: the int8 code of ${name} at flat index ${j} is −128; codes are in [−127, 127]`);
      if (Math.fround(code * scale) !== weight[j]) {
        throw new ConfigError(`ONNX export: the int8 codes of ${name} do not stand for its weights: at flat index ${j}, ${code} × ${scale} ≠ ${weight[j]}`);
      }
    }
  }
}

/** The int8 initializers and the DequantizeLinear node of one weight; the node's output is `weightName`. */
export interface Int8WeightGraph {
  readonly initializers: ProtoWriter[];
  readonly sparseInitializers: ProtoWriter[];
  readonly node: ProtoWriter;
}

/**
 * Builds the graph pieces for a checked int8 weight of shape `dims` (linear [out, in] or conv
 * [out, in/groups, kh, kw]): `<weightName>.int8` of that shape (a sparse INT8 initializer when `sparse`),
 * `.scale` FLOAT [out], `.zero_point` INT8 [out] zeros, and the node DequantizeLinear(axis = 0) writing
 * `weightName` — one scale per output row or channel.
 */
export function int8WeightGraph(weightName: string, int8: OnnxInt8Weight, dims: readonly number[], sparse: boolean): Int8WeightGraph {
  const rows = dims[0]!;
  const codesName = `${weightName}.int8`;
  const scaleName = `${weightName}.scale`;
  const zeroName = `${weightName}.zero_point`;
  const initializers = [rawInitializer(scaleName, [rows], TENSOR_FLOAT, float32Bytes(int8.scales)), rawInitializer(zeroName, [rows], TENSOR_INT8, new Uint8Array(rows))];
  const sparseInitializers: ProtoWriter[] = [];
  if (sparse) {
    const indices = nonzeroIndices(int8.codes);
    sparseInitializers.push(sparseRawInitializer(codesName, dims, TENSOR_INT8, Uint8Array.from(indices, (j) => int8.codes[j]! & 0xff), indices));
  } else {
    initializers.unshift(rawInitializer(codesName, dims, TENSOR_INT8, new Uint8Array(int8.codes.buffer, int8.codes.byteOffset, int8.codes.length).slice()));
  }
  const dequantize = node(`${weightName}.dequantize`, 'DequantizeLinear', [codesName, scaleName, zeroName], weightName, [intAttribute('axis', 0)]);
  return { initializers, sparseInitializers, node: dequantize };
}

/** Whether the sparse form of int8 codes (1 byte per nonzero + its varint index) is smaller than 1 byte each. */
export function int8SparseIsSmaller(codes: Int8Array): boolean {
  let bytes = 0;
  for (let j = 0; j < codes.length; j++) if (codes[j] !== 0) bytes += 1 + varintLength(j);
  return bytes < codes.length;
}
