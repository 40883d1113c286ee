/**
 * ONNX export: a `ModelSpec` plus its parameters → the bytes of an ONNX `ModelProto`, which onnxruntime
 * (or any ONNX runtime) can load. Browser-safe: builds a `Uint8Array`, writes no file.
 *
 * The graph, for a spec linear(784→300) → relu → dropout → linear(300→10):
 *
 *     x [batch, 784] ──Gemm(transB=1)── layers.0.output ──Relu── layers.1.output ──Gemm(transB=1)── logits [batch, 10]
 *                        │  │                                                        │  │
 *          layers.0.weight  layers.0.bias                               layers.3.weight  layers.3.bias
 *             [300, 784]      [300]                                        [10, 300]       [10]
 *
 * - `linear` → `Gemm(A = input, B = weight, C = bias, transB = 1)`: Y = A·Bᵀ + C, so the weight initializer
 *   keeps our own [out, in] row-major layout. A layer without bias is the same `Gemm` with the optional C
 *   left out (allowed since opset 11). `MatMul` was not used for that case: it computes A·B and would
 *   need a transposed [in, out] copy of the weight, i.e. a second layout for one kind of layer.
 * - `relu` / `sigmoid` / `tanh` → `Relu` / `Sigmoid` / `Tanh`.
 * - `dropout` is the identity at inference and is left out of the graph.
 * - Weights are float32 initializers. A pruned weight (one whose sparse form is smaller, by default) is a
 *   `sparse_initializer`: its nonzero values (`raw_data`) and their linear row-major indices (INT64, as packed
 *   varints in `int64_data`: 3 bytes each for LeNet's 235,200 entries, against 8 in raw_data), so a 95 %-sparse
 *   LeNet-300-100 takes ~7 bytes per kept weight instead of 4 per weight. onnxruntime densifies sparse
 *   initializers when it loads a model (microsoft/onnxruntime#5578), so this makes the file smaller, not the
 *   run faster. Dense weights and biases go in `raw_data` (little-endian).
 * - Initializers are not listed as graph inputs (allowed since IR version 4), so they are constants that
 *   onnxruntime may fold and pre-pack, not inputs a caller could override.
 * - Names are fixed by layer index (`layers.<i>.weight`, `layers.<i>.output`, node `layers.<i>.gemm`), so
 *   the same model always gives the same bytes.
 *
 * onnx.proto field numbers used (github.com/onnx/onnx/blob/main/onnx/onnx.proto):
 *   ModelProto          ir_version 1 (int64), producer_name 2, producer_version 3, graph 7, opset_import 8
 *   OperatorSetIdProto  domain 1, version 2 (int64)
 *   GraphProto          node 1, name 2, initializer 5, input 11, output 12, sparse_initializer 15
 *   SparseTensorProto   values 1 (TensorProto), indices 2 (TensorProto), dims 3 (int64)
 *   NodeProto           input 1, output 2, name 3, op_type 4, attribute 5
 *   AttributeProto      name 1, i 3 (int64), type 20 (AttributeType INT = 2)
 *   TensorProto         dims 1 (repeated int64), data_type 2 (FLOAT = 1, INT64 = 7), int64_data 7, name 8, raw_data 9
 *   ValueInfoProto      name 1, type 2
 *   TypeProto           tensor_type 1;  TypeProto.Tensor  elem_type 1, shape 2
 *   TensorShapeProto    dim 1;  TensorShapeProto.Dimension  dim_value 1 (int64), dim_param 2 (string)
 * Fields are written in field-number order, as protobuf libraries do. `dims` is written unpacked (it is
 * not declared [packed = true] in the proto2 file).
 */
import { ConfigError, DTypeError, NonFiniteError, ShapeError } from '../../errors.ts';
import type { LayerSpec, ModelSpec } from '../../nn/spec.ts';
import { checkInt8Weight, int8SparseIsSmaller, int8WeightGraph, type OnnxInt8Weight } from './int8-weights.ts';
import { ProtoWriter } from './protobuf.ts';

/** IR version 8 (ONNX 1.10–1.12); onnxruntime 1.30 reads IR versions up to 11. */
export const ONNX_IR_VERSION = 8;
/** Default-domain opset written unless `opsetVersion` says otherwise. */
export const ONNX_DEFAULT_OPSET = 17;
/** Oldest opset accepted: Gemm-13, Relu-13 (14 only adds types), Sigmoid-13, Tanh-13 have the semantics used here. */
export const ONNX_MIN_OPSET = 13;
/** Newest opset accepted with IR version 8. */
export const ONNX_MAX_OPSET = 17;

/** Names of the graph's input and output. */
export const ONNX_INPUT_NAME = 'x';
export const ONNX_OUTPUT_NAME = 'logits';
/** Symbolic name of the batch dimension of the input and output. */
export const ONNX_BATCH_DIM = 'batch';

/** Settings of `exportOnnx`. */
export interface OnnxExportOptions {
  /** Default-domain opset version, 13..17. Default 17. */
  readonly opsetVersion?: number;
  /** Written as ModelProto.producer_version. Absent by default, so the bytes depend on the model only. */
  readonly producerVersion?: string;
  /** GraphProto.name. Default 'sparsegrad'. */
  readonly graphName?: string;
  /**
   * When a weight is written as a sparse_initializer: 'auto' (default) when that is smaller than the dense
   * form (a pruned weight), 'always', or 'never' (every weight dense, zeros included).
   */
  readonly sparseInitializers?: 'auto' | 'always' | 'never';
  /**
   * Weights to export as int8 codes + per-row scales behind a `DequantizeLinear` node (int8-weights.ts), by
   * name (`int8WeightsOfRecord` reads them from a model record); each must reproduce its float weight exactly.
   * Other weights are float32.
   */
  readonly int8Weights?: ReadonlyMap<string, OnnxInt8Weight>;
}

// ---- onnx.proto constants ------------------------------------------------------------------------------

const TENSOR_FLOAT = 1; // TensorProto.DataType.FLOAT
const TENSOR_INT64 = 7; // TensorProto.DataType.INT64
const ATTRIBUTE_INT = 2; // AttributeProto.AttributeType.INT

const Model = { irVersion: 1, producerName: 2, producerVersion: 3, graph: 7, opsetImport: 8 } as const;
const OpsetId = { domain: 1, version: 2 } as const;
const Graph = { node: 1, name: 2, initializer: 5, input: 11, output: 12, sparseInitializer: 15 } as const;
const SparseTensor = { values: 1, indices: 2, dims: 3 } as const;
const Node = { input: 1, output: 2, name: 3, opType: 4, attribute: 5 } as const;
const Attribute = { name: 1, i: 3, type: 20 } as const;
const Tensor = { dims: 1, dataType: 2, int64Data: 7, name: 8, rawData: 9 } as const;
const ValueInfo = { name: 1, type: 2 } as const;
const Type = { tensorType: 1 } as const;
const TypeTensor = { elemType: 1, shape: 2 } as const;
const Shape = { dim: 1 } as const;
const Dimension = { dimValue: 1, dimParam: 2 } as const;

// ---- validation ----------------------------------------------------------------------------------------

type LinearSpec = Extract<LayerSpec, { type: 'linear' }>;

/** One linear layer after validation, with its parameter arrays. */
interface CheckedLinear {
  readonly index: number;
  readonly spec: LinearSpec;
  readonly weight: Float32Array;
  readonly bias: Float32Array | null;
}

function isPositiveInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
}

function getParameter(params: ReadonlyMap<string, Float32Array>, name: string, expectedShape: readonly number[]): Float32Array {
  const value = params.get(name);
  const shapeText = `[${expectedShape.join(', ')}]`;
  if (value === undefined) throw new ConfigError(`ONNX export: missing parameter ${name} (expected shape ${shapeText})`);
  if (!(value instanceof Float32Array)) {
    const kind = (value as unknown as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof value;
    throw new DTypeError(`ONNX export: parameter ${name} must be a Float32Array, got ${kind}`);
  }
  const expected = expectedShape.reduce((a, b) => a * b, 1);
  if (value.length !== expected) {
    throw new ShapeError(`ONNX export: parameter ${name} has ${value.length} elements, expected shape ${shapeText} = ${expected} elements`);
  }
  for (let j = 0; j < value.length; j++) {
    if (!Number.isFinite(value[j]!)) throw new NonFiniteError(`ONNX export: parameter ${name} has a non-finite value ${value[j]} at flat index ${j}`);
  }
  return value;
}

/**
 * Checks the spec (known layer types, positive integer sizes, consecutive linear layers that fit together,
 * at least one linear layer) and the parameters (present, Float32Array, right length, finite, none extra).
 */
function checkModel(spec: ModelSpec, params: ReadonlyMap<string, Float32Array>): CheckedLinear[] {
  if (spec === null || typeof spec !== 'object' || !Array.isArray(spec.layers)) throw new ConfigError('ONNX export: spec.layers must be an array of layer specs');
  const linears: CheckedLinear[] = [];
  const expectedNames = new Set<string>();
  spec.layers.forEach((layer: LayerSpec, i) => {
    const type = (layer as { type?: unknown } | null)?.type;
    switch (type) {
      case 'relu':
      case 'sigmoid':
      case 'tanh':
      case 'dropout':
        return;
      case 'linear': {
        const { inFeatures, outFeatures, bias } = layer as LinearSpec;
        if (!isPositiveInt(inFeatures) || !isPositiveInt(outFeatures)) {
          throw new ConfigError(`ONNX export: layers[${i}] (linear) needs positive integer inFeatures and outFeatures, got ${String(inFeatures)} and ${String(outFeatures)}`);
        }
        if (typeof bias !== 'boolean') throw new ConfigError(`ONNX export: layers[${i}] (linear) needs a boolean bias flag, got ${String(bias)}`);
        const previous = linears[linears.length - 1];
        if (previous !== undefined && previous.spec.outFeatures !== inFeatures) {
          throw new ShapeError(
            `ONNX export: layers[${i}] (linear) expects ${inFeatures} input features but layers[${previous.index}] (linear) gives ${previous.spec.outFeatures}`,
          );
        }
        const weightName = `layers.${i}.weight`;
        const biasName = `layers.${i}.bias`;
        expectedNames.add(weightName);
        if (bias) expectedNames.add(biasName);
        linears.push({
          index: i,
          spec: layer as LinearSpec,
          weight: getParameter(params, weightName, [outFeatures, inFeatures]),
          bias: bias ? getParameter(params, biasName, [outFeatures]) : null,
        });
        return;
      }
      default:
        throw new ConfigError(`ONNX export: layers[${i}] has unknown type ${JSON.stringify(type)}; expected linear, relu, sigmoid, tanh or dropout`);
    }
  });
  if (linears.length === 0) throw new ConfigError('ONNX export: the model has no linear layer, so its input and output widths are unknown');
  for (const name of params.keys()) {
    if (!expectedNames.has(name)) {
      throw new ConfigError(`ONNX export: unexpected parameter ${name}: the spec has no such parameter (expected ${[...expectedNames].join(', ')})`);
    }
  }
  return linears;
}

// ---- message builders ----------------------------------------------------------------------------------

function opsetImport(version: number): ProtoWriter {
  // domain "" (the default ai.onnx domain) is the field's default, so it is left out.
  return new ProtoWriter().varint(OpsetId.version, version);
}

function intAttribute(name: string, value: number): ProtoWriter {
  return new ProtoWriter().string(Attribute.name, name).varint(Attribute.i, value).varint(Attribute.type, ATTRIBUTE_INT);
}

function node(name: string, opType: string, inputs: readonly string[], output: string, attributes: readonly ProtoWriter[] = []): ProtoWriter {
  const w = new ProtoWriter();
  for (const input of inputs) w.string(Node.input, input);
  w.string(Node.output, output).string(Node.name, name).string(Node.opType, opType);
  for (const attribute of attributes) w.message(Node.attribute, attribute);
  return w;
}

function floatInitializer(name: string, dims: readonly number[], values: Float32Array): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of dims) w.varint(Tensor.dims, d);
  w.varint(Tensor.dataType, TENSOR_FLOAT).string(Tensor.name, name);
  // raw_data: fixed-width little-endian IEEE 754. A fresh copy, so later changes to `values` cannot leak in.
  return w.bytes(Tensor.rawData, float32Bytes(values));
}

/** The nonzero entries of a row-major weight: their linear indices and values. */
function nonzeros(values: Float32Array): { indices: number[]; values: Float32Array } {
  const indices: number[] = [];
  for (let j = 0; j < values.length; j++) if (values[j] !== 0) indices.push(j);
  return { indices, values: Float32Array.from(indices, (j) => values[j]!) };
}

/** Bytes of the varint of a non-negative integer. */
function varintLength(value: number): number {
  let length = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

/** Whether a weight goes out sparse: by the option, and for 'auto' when its sparse form is smaller. */
function writeSparse(weight: Float32Array, choice: 'auto' | 'always' | 'never'): boolean {
  if (choice !== 'auto') return choice === 'always';
  let sparseBytes = 0;
  for (let j = 0; j < weight.length; j++) if (weight[j] !== 0) sparseBytes += 4 + varintLength(j);
  return sparseBytes < 4 * weight.length;
}

/**
 * A SparseTensorProto: values [nnz] FLOAT (raw_data, named like the weight) and indices [nnz] INT64 (linear,
 * increasing, packed varints), for a dense tensor of `dims`.
 */
function sparseFloatInitializer(name: string, dims: readonly number[], weight: Float32Array): ProtoWriter {
  const { indices, values } = nonzeros(weight);
  const valuesTensor = new ProtoWriter().varint(Tensor.dims, values.length).varint(Tensor.dataType, TENSOR_FLOAT).string(Tensor.name, name);
  valuesTensor.bytes(Tensor.rawData, float32Bytes(values));
  const indicesTensor = new ProtoWriter().varint(Tensor.dims, indices.length).varint(Tensor.dataType, TENSOR_INT64);
  if (indices.length > 0) indicesTensor.packedVarints(Tensor.int64Data, indices);
  const sparse = new ProtoWriter().message(SparseTensor.values, valuesTensor).message(SparseTensor.indices, indicesTensor);
  for (const d of dims) sparse.varint(SparseTensor.dims, d);
  return sparse;
}

/** Little-endian IEEE 754 bytes of float32 values (a fresh copy). */
function float32Bytes(values: Float32Array): Uint8Array {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  for (let j = 0; j < values.length; j++) view.setFloat32(j * 4, values[j]!, true);
  return raw;
}

/** A float32 tensor ValueInfoProto whose dims are numbers (fixed) or strings (symbolic). */
function floatValueInfo(name: string, dims: readonly (number | string)[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) {
    const dim = typeof d === 'number' ? new ProtoWriter().varint(Dimension.dimValue, d) : new ProtoWriter().string(Dimension.dimParam, d);
    shape.message(Shape.dim, dim);
  }
  const tensorType = new ProtoWriter().varint(TypeTensor.elemType, TENSOR_FLOAT).message(TypeTensor.shape, shape);
  const type = new ProtoWriter().message(Type.tensorType, tensorType);
  return new ProtoWriter().string(ValueInfo.name, name).message(ValueInfo.type, type);
}

const ACTIVATION_OPS = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh' } as const;

/**
 * Serialises the model as an ONNX ModelProto (IR version 8, default-domain opset 17 unless set).
 * Input `x`: float32 [batch, in]; output `logits`: float32 [batch, out]. Throws ConfigError, ShapeError,
 * DTypeError or NonFiniteError, naming the layer or parameter, when spec and parameters do not fit.
 * `params` maps each parameter name (`layers.<i>.weight` [out, in], `layers.<i>.bias` [out]) to its
 * row-major values; pruned weights are exported as zeros of a dense initializer.
 *
 * @example
 * ```ts
 * import { exportOnnx, mlp } from 'sparsegrad';
 * import { writeFileAtomically } from 'sparsegrad/node';
 *
 * const model = mlp([784, 100, 10], { seed: 0 });
 * const params = new Map(model.namedParameters().map(([name, p]) => [name, Float32Array.from(p.value.data)] as const));
 * const bytes = exportOnnx(model.spec(), params);       // an ONNX ModelProto: onnxruntime runs it
 * await writeFileAtomically('model.onnx', bytes);
 * console.log(bytes.length);                            // 318483: nearly all of it the float32 weights
 * ```
 */
export function exportOnnx(spec: ModelSpec, params: ReadonlyMap<string, Float32Array>, options: OnnxExportOptions = {}): Uint8Array {
  const opset = options.opsetVersion ?? ONNX_DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < ONNX_MIN_OPSET || opset > ONNX_MAX_OPSET) {
    throw new ConfigError(`ONNX export: opsetVersion must be an integer in [${ONNX_MIN_OPSET}, ${ONNX_MAX_OPSET}], got ${opset}`);
  }
  const graphName = options.graphName ?? 'sparsegrad';
  if (typeof graphName !== 'string' || graphName.length === 0) throw new ConfigError('ONNX export: graphName must be a non-empty string');
  const sparseChoice = options.sparseInitializers ?? 'auto';
  if (!['auto', 'always', 'never'].includes(sparseChoice)) throw new ConfigError(`ONNX export: sparseInitializers must be auto, always or never, got ${String(sparseChoice)}`);

  const linears = checkModel(spec, params);
  const int8Weights = options.int8Weights ?? new Map<string, OnnxInt8Weight>();
  for (const [name, int8] of int8Weights) {
    const linear = linears.find((l) => `layers.${l.index}.weight` === name);
    if (linear === undefined) throw new ConfigError(`ONNX export: int8Weights names ${name}, which is not a linear layer's weight`);
    checkInt8Weight(name, int8, linear.weight, linear.spec.outFeatures, linear.spec.inFeatures);
  }
  const inFeatures = linears[0]!.spec.inFeatures;
  const outFeatures = linears[linears.length - 1]!.spec.outFeatures;
  const linearAt = new Map(linears.map((l) => [l.index, l]));

  // The last layer that becomes a node writes the graph output; dropout layers write nothing.
  let lastNodeLayer = -1;
  spec.layers.forEach((layer, i) => {
    if (layer.type !== 'dropout') lastNodeLayer = i;
  });

  const nodes: ProtoWriter[] = [];
  const initializers: ProtoWriter[] = [];
  const sparseInitializers: ProtoWriter[] = [];
  let current = ONNX_INPUT_NAME;
  spec.layers.forEach((layer, i) => {
    if (layer.type === 'dropout') return;
    const output = i === lastNodeLayer ? ONNX_OUTPUT_NAME : `layers.${i}.output`;
    if (layer.type === 'linear') {
      const linear = linearAt.get(i)!;
      const weightName = `layers.${i}.weight`;
      const inputs = [current, weightName];
      const dims = [layer.outFeatures, layer.inFeatures];
      const int8 = int8Weights.get(weightName);
      if (int8 !== undefined) {
        const sparse = sparseChoice === 'auto' ? int8SparseIsSmaller(int8.codes) : sparseChoice === 'always';
        const pieces = int8WeightGraph(weightName, int8, layer.outFeatures, layer.inFeatures, sparse);
        initializers.push(...pieces.initializers);
        sparseInitializers.push(...pieces.sparseInitializers);
        nodes.push(pieces.node);
      } else if (writeSparse(linear.weight, sparseChoice)) sparseInitializers.push(sparseFloatInitializer(weightName, dims, linear.weight));
      else initializers.push(floatInitializer(weightName, dims, linear.weight));
      if (linear.bias !== null) {
        const biasName = `layers.${i}.bias`;
        inputs.push(biasName);
        initializers.push(floatInitializer(biasName, [layer.outFeatures], linear.bias));
      }
      nodes.push(node(`layers.${i}.gemm`, 'Gemm', inputs, output, [intAttribute('transB', 1)]));
    } else {
      const opType = ACTIVATION_OPS[layer.type];
      nodes.push(node(`layers.${i}.${layer.type}`, opType, [current], output));
    }
    current = output;
  });

  const graph = new ProtoWriter();
  for (const n of nodes) graph.message(Graph.node, n);
  graph.string(Graph.name, graphName);
  for (const t of initializers) graph.message(Graph.initializer, t);
  graph.message(Graph.input, floatValueInfo(ONNX_INPUT_NAME, [ONNX_BATCH_DIM, inFeatures]));
  graph.message(Graph.output, floatValueInfo(ONNX_OUTPUT_NAME, [ONNX_BATCH_DIM, outFeatures]));
  for (const t of sparseInitializers) graph.message(Graph.sparseInitializer, t);

  const model = new ProtoWriter().varint(Model.irVersion, ONNX_IR_VERSION).string(Model.producerName, 'sparsegrad');
  if (options.producerVersion !== undefined) model.string(Model.producerVersion, options.producerVersion);
  model.message(Model.graph, graph).message(Model.opsetImport, opsetImport(opset));
  return model.finish();
}
