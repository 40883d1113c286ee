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
 * - `conv2d` → `Conv(X, W, B?)` with group, kernel_shape, pads [ph, pw, ph, pw] and strides; the weight
 *   initializer keeps its [out, in/groups, kh, kw] layout (and is sparse when pruned, like a linear weight).
 * - `maxpool2d` → `MaxPool`, `avgpool2d` → `AveragePool` with count_include_pad = 1 (zero padding counts
 *   in the mean, as in PyTorch and in sparsegrad; ONNX's default would leave it out).
 * - `flatten` → `Flatten(axis = 1)`; `reshape` → `Reshape(input, shape)` with an INT64 initializer
 *   `layers.<i>.shape` = [-1, ...shape], so the graph input stays a row of features [batch, in] for every model.
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
 *   AttributeProto      name 1, i 3 (int64), ints 8 (packed int64), type 20 (AttributeType INT = 2, INTS = 7)
 *   TensorProto         dims 1 (repeated int64), data_type 2 (FLOAT = 1, INT64 = 7), int64_data 7, name 8, raw_data 9
 *   ValueInfoProto      name 1, type 2
 *   TypeProto           tensor_type 1;  TypeProto.Tensor  elem_type 1, shape 2
 *   TensorShapeProto    dim 1;  TensorShapeProto.Dimension  dim_value 1 (int64), dim_param 2 (string)
 * Fields are written in field-number order, as protobuf libraries do. `dims` is written unpacked (it is
 * not declared [packed = true] in the proto2 file).
 */
import { ConfigError, DTypeError, NonFiniteError, ShapeError } from '../../errors.ts';
import { LAYER_TYPES, type Conv2dSpec, type LayerSpec, type ModelSpec, type Pool2dSpec } from '../../nn/spec.ts';
import { specShapes } from '../../nn/spec-shapes.ts';
import { checkInt8Weight, int8SparseIsSmaller, int8WeightGraph, type OnnxInt8Weight } from './int8-weights.ts';
import { floatInitializer, floatValueInfo, Graph, int64Initializer, intAttribute, intsAttribute, Model, node, opsetImport, sparseFloatInitializer, writeSparse } from './onnx-messages.ts';
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

// ---- validation ----------------------------------------------------------------------------------------

type LinearSpec = Extract<LayerSpec, { type: 'linear' }>;

/** One layer with weights (linear or conv2d) after validation, with its parameter arrays. */
interface CheckedWeights {
  readonly index: number;
  readonly spec: LinearSpec | Conv2dSpec;
  /** The weight's shape: [out, in] or [outChannels, inChannels/groups, kh, kw]. */
  readonly dims: readonly number[];
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

/** Throws unless the window fields of a conv2d or pooling layer are [h, w] pairs of integers ≥ 1 (padding ≥ 0). */
function checkWindow(layer: Partial<Conv2dSpec>, i: number): void {
  const pair = (p: unknown, min: number): boolean => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isSafeInteger(v) && v >= min);
  if (!pair(layer.kernelSize, 1) || !pair(layer.stride, 1) || !pair(layer.padding, 0)) {
    throw new ConfigError(`ONNX export: layers[${i}] (${String(layer.type)}) needs kernelSize and stride pairs of integers ≥ 1 and a padding pair ≥ 0`);
  }
}

/**
 * Checks the spec (known layer types, positive integer sizes, consecutive layers that fit together, at least
 * one linear or conv2d layer) and the parameters (present, Float32Array, right length, finite, none extra).
 */
function checkModel(spec: ModelSpec, params: ReadonlyMap<string, Float32Array>): CheckedWeights[] {
  if (spec === null || typeof spec !== 'object' || !Array.isArray(spec.layers)) throw new ConfigError('ONNX export: spec.layers must be an array of layer specs');
  const weighted: CheckedWeights[] = [];
  const expectedNames = new Set<string>();
  let images = false; // has conv2d / pooling / reshape / flatten layers: shapes are checked by specShapes
  const addWeights = (i: number, layer: LinearSpec | Conv2dSpec, dims: readonly number[], outputs: number): void => {
    const weightName = `layers.${i}.weight`;
    const biasName = `layers.${i}.bias`;
    expectedNames.add(weightName);
    if (layer.bias) expectedNames.add(biasName);
    weighted.push({ index: i, spec: layer, dims, weight: getParameter(params, weightName, dims), bias: layer.bias ? getParameter(params, biasName, [outputs]) : null });
  };
  spec.layers.forEach((layer: LayerSpec, i) => {
    const type = (layer as { type?: unknown } | null)?.type;
    switch (type) {
      case 'relu':
      case 'sigmoid':
      case 'tanh':
      case 'dropout':
        return;
      case 'flatten':
        images = true;
        return;
      case 'reshape': {
        const shape = (layer as { shape?: unknown }).shape;
        if (!Array.isArray(shape) || shape.length === 0 || !shape.every(isPositiveInt)) throw new ConfigError(`ONNX export: layers[${i}] (reshape) needs a shape of positive integers`);
        images = true;
        return;
      }
      case 'maxpool2d':
      case 'avgpool2d':
        checkWindow(layer as Partial<Conv2dSpec>, i);
        images = true;
        return;
      case 'conv2d': {
        const conv = layer as Conv2dSpec;
        checkWindow(conv, i);
        if (!isPositiveInt(conv.inChannels) || !isPositiveInt(conv.outChannels) || !isPositiveInt(conv.groups) || typeof conv.bias !== 'boolean') {
          throw new ConfigError(`ONNX export: layers[${i}] (conv2d) needs positive integer inChannels, outChannels and groups and a boolean bias flag`);
        }
        if (conv.inChannels % conv.groups !== 0 || conv.outChannels % conv.groups !== 0) throw new ConfigError(`ONNX export: layers[${i}] (conv2d): groups ${conv.groups} must divide both channel counts`);
        images = true;
        addWeights(i, conv, [conv.outChannels, conv.inChannels / conv.groups, ...conv.kernelSize], conv.outChannels);
        return;
      }
      case 'linear': {
        const { inFeatures, outFeatures, bias } = layer as LinearSpec;
        if (!isPositiveInt(inFeatures) || !isPositiveInt(outFeatures)) {
          throw new ConfigError(`ONNX export: layers[${i}] (linear) needs positive integer inFeatures and outFeatures, got ${String(inFeatures)} and ${String(outFeatures)}`);
        }
        if (typeof bias !== 'boolean') throw new ConfigError(`ONNX export: layers[${i}] (linear) needs a boolean bias flag, got ${String(bias)}`);
        const previous = weighted[weighted.length - 1];
        if (previous !== undefined && previous.spec.type === 'linear' && previous.spec.outFeatures !== inFeatures) {
          throw new ShapeError(
            `ONNX export: layers[${i}] (linear) expects ${inFeatures} input features but layers[${previous.index}] (linear) gives ${previous.spec.outFeatures}`,
          );
        }
        addWeights(i, layer as LinearSpec, [outFeatures, inFeatures], outFeatures);
        return;
      }
      default:
        throw new ConfigError(`ONNX export: layers[${i}] has unknown type ${JSON.stringify(type)}; expected ${LAYER_TYPES.join(', ')}`);
    }
  });
  if (weighted.length === 0) throw new ConfigError('ONNX export: the model has no linear or conv2d layer, so its input and output widths are unknown');
  if (images) {
    try {
      specShapes(spec);
    } catch (error) {
      if (error instanceof ConfigError) throw new ShapeError(`ONNX export: ${error.message}`);
      throw error;
    }
  }
  for (const name of params.keys()) {
    if (!expectedNames.has(name)) {
      throw new ConfigError(`ONNX export: unexpected parameter ${name}: the spec has no such parameter (expected ${[...expectedNames].join(', ')})`);
    }
  }
  return weighted;
}

const ACTIVATION_OPS = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh' } as const;

/** kernel_shape, pads (begin h, begin w, end h, end w) and strides of a Conv, MaxPool or AveragePool node. */
function windowAttributes(layer: Conv2dSpec | Pool2dSpec): ProtoWriter[] {
  const [ph, pw] = layer.padding;
  return [intsAttribute('kernel_shape', layer.kernelSize), intsAttribute('pads', [ph, pw, ph, pw]), intsAttribute('strides', layer.stride)];
}

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

  const weighted = checkModel(spec, params);
  const shapes = weighted.some((w) => w.spec.type === 'conv2d') || spec.layers.some((l) => l.type === 'reshape' || l.type === 'flatten') ? specShapes(spec) : null;
  const first = weighted[0]!.spec;
  const last = weighted[weighted.length - 1]!.spec;
  const inFeatures = shapes?.inputFeatures ?? (first.type === 'linear' ? first.inFeatures : 0);
  const outShape = shapes?.outputs[shapes.outputs.length - 1] ?? (last.type === 'linear' ? [last.outFeatures] : []);
  const weightsAt = new Map(weighted.map((l) => [l.index, l]));
  // int8 weights (issue 14): codes over the weight's entries and one scale per output row (linear [out, in])
  // or per output channel (conv [out, in/groups, kh, kw], seen as the matrix [out, in/groups·kh·kw]).
  const int8Weights = options.int8Weights ?? new Map<string, OnnxInt8Weight>();
  for (const [name, int8] of int8Weights) {
    const layer = weighted.find((l) => `layers.${l.index}.weight` === name);
    if (layer === undefined) throw new ConfigError(`ONNX export: int8Weights names ${name}, which is not a linear or conv layer's weight`);
    const rows = layer.dims[0]!;
    checkInt8Weight(name, int8, layer.weight, rows, rows === 0 ? 0 : layer.weight.length / rows);
  }

  // The last layer that becomes a node writes the graph output; dropout layers write nothing.
  let lastNodeLayer = -1;
  spec.layers.forEach((layer, i) => {
    if (layer.type !== 'dropout') lastNodeLayer = i;
  });

  const nodes: ProtoWriter[] = [];
  const initializers: ProtoWriter[] = [];
  const sparseInitializers: ProtoWriter[] = [];
  /** The weight (dense or sparse, by size) and bias initializers of layer i; returns their names. */
  const weightInputs = (i: number): string[] => {
    const checked = weightsAt.get(i)!;
    const weightName = `layers.${i}.weight`;
    const int8 = int8Weights.get(weightName);
    if (int8 !== undefined) {
      // int8 codes and per-row scales behind a DequantizeLinear node whose output is the float weight.
      const sparse = sparseChoice === 'auto' ? int8SparseIsSmaller(int8.codes) : sparseChoice === 'always';
      const pieces = int8WeightGraph(weightName, int8, checked.dims, sparse);
      initializers.push(...pieces.initializers);
      sparseInitializers.push(...pieces.sparseInitializers);
      nodes.push(pieces.node);
    } else if (writeSparse(checked.weight, sparseChoice)) sparseInitializers.push(sparseFloatInitializer(weightName, checked.dims, checked.weight));
    else initializers.push(floatInitializer(weightName, checked.dims, checked.weight));
    if (checked.bias === null) return [weightName];
    const biasName = `layers.${i}.bias`;
    initializers.push(floatInitializer(biasName, [checked.dims[0]!], checked.bias));
    return [weightName, biasName];
  };
  let current = ONNX_INPUT_NAME;
  spec.layers.forEach((layer, i) => {
    if (layer.type === 'dropout') return;
    const output = i === lastNodeLayer ? ONNX_OUTPUT_NAME : `layers.${i}.output`;
    if (layer.type === 'linear') {
      nodes.push(node(`layers.${i}.gemm`, 'Gemm', [current, ...weightInputs(i)], output, [intAttribute('transB', 1)]));
    } else if (layer.type === 'conv2d') {
      nodes.push(node(`layers.${i}.conv`, 'Conv', [current, ...weightInputs(i)], output, [intAttribute('group', layer.groups), ...windowAttributes(layer)]));
    } else if (layer.type === 'maxpool2d') {
      nodes.push(node(`layers.${i}.maxpool`, 'MaxPool', [current], output, windowAttributes(layer)));
    } else if (layer.type === 'avgpool2d') {
      // Zero padding counts in the mean, as in PyTorch's default (ONNX's default would leave it out).
      nodes.push(node(`layers.${i}.avgpool`, 'AveragePool', [current], output, [intAttribute('count_include_pad', 1), ...windowAttributes(layer)]));
    } else if (layer.type === 'flatten') {
      nodes.push(node(`layers.${i}.flatten`, 'Flatten', [current], output, [intAttribute('axis', 1)]));
    } else if (layer.type === 'reshape') {
      const shapeName = `layers.${i}.shape`;
      initializers.push(int64Initializer(shapeName, [-1, ...layer.shape]));
      nodes.push(node(`layers.${i}.reshape`, 'Reshape', [current, shapeName], output));
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
  graph.message(Graph.output, floatValueInfo(ONNX_OUTPUT_NAME, [ONNX_BATCH_DIM, ...outShape]));
  for (const t of sparseInitializers) graph.message(Graph.sparseInitializer, t);

  const model = new ProtoWriter().varint(Model.irVersion, ONNX_IR_VERSION).string(Model.producerName, 'sparsegrad');
  if (options.producerVersion !== undefined) model.string(Model.producerVersion, options.producerVersion);
  model.message(Model.graph, graph).message(Model.opsetImport, opsetImport(opset));
  return model.finish();
}
