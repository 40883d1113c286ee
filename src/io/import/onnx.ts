/**
 * ONNX graph → sparsegrad model. The graph must be a chain from its one input to its one output, each node
 * consuming the previous node's output:
 *
 *     Gemm(x, W, b?)                           transA = 0, transB 0 or 1, alpha and beta folded into W and b
 *     MatMul(x, W) [Add(·, b)]                 W [in, out]; an Add of a constant bias right after it is its bias
 *     Conv(x, W, b?)                           2-D, on images of a fixed [C, H, W] (onnx-windows.ts)
 *     MaxPool | AveragePool                    2-D windows (onnx-windows.ts)
 *     Relu | Sigmoid | Tanh                    after a layer
 *     Flatten | Reshape                        at the input (an image batch [N, 1, 28, 28] → [N, 784], or rows
 *                                              → [N, C, H, W]), and from images to features after a conv/pool
 *     Identity                                 skipped
 *     Constant                                 a constant tensor (a weight or a Reshape shape)
 *     DequantizeLinear(codes, scale, zp?)      on constants only: folded into the float weight (dequantize.ts)
 *
 * A graph whose input is an image batch and whose first layer is a Conv or a pool becomes a model that starts
 * with a `reshape` to that image shape (sparsegrad models read rows of features).
 * Weights come from initializers, sparse initializers (which stay sparse: CSR in the record) or Constant
 * nodes, and every initializer must be used. The graph computes in one floating-point type (FLOAT, FLOAT16,
 * BFLOAT16 or DOUBLE, as ONNX's type constraints demand: the input, every weight and bias); the imported
 * model computes in float32. Anything else — another operator, a branch, a second input, a
 * weight computed at run time — is refused with a ModelFormatError that names the node and operator
 * (E_ONNX_UNSUPPORTED) or the problem with the graph (E_ONNX_GRAPH, E_BAD_SHAPE).
 */
import { ConfigError, ModelFormatError } from '../../errors.ts';
import type { Conv2dSpec, Pool2dSpec } from '../../nn/spec.ts';
import { specShapes } from '../../nn/spec-shapes.ts';
import { CSRMatrix } from '../../sparse/csr-matrix.ts';
import type { ModelLimits, ModelRecord } from '../model-file.ts';
import { DEFAULT_MAX_PARAMS } from '../model-architecture.ts';
import { decodeOnnxModel, type OnnxModel, type OnnxNode } from '../onnx/onnx-graph.ts';
import { OnnxDataType, onnxTypeName, type OnnxSparseTensor, type OnnxTensor } from '../onnx/onnx-tensor.ts';
import { foldDequantize } from './dequantize.ts';
import { convSpec, poolSpec } from './onnx-windows.ts';
import { csrFromLinear, importedRecord, type ImportedConv, type ImportedLayer, type ImportedLinear, type ImportedPlainLayer } from './record.ts';

const ACTIVATIONS: Record<string, 'relu' | 'sigmoid' | 'tanh'> = { Relu: 'relu', Sigmoid: 'sigmoid', Tanh: 'tanh' };
const ACTIVATION_TYPES: readonly string[] = Object.values(ACTIVATIONS);

function fail(code: string, message: string): never {
  throw new ModelFormatError(code, `ONNX: ${message}`);
}

function describe(node: OnnxNode): string {
  return `node ${node.index}${node.name === '' ? '' : ` "${node.name}"`} (${node.opType})`;
}

/** Reads an ONNX file of a chain of layers (see the file comment) into a checked ModelRecord. Throws ModelFormatError. */
export function importOnnx(bytes: Uint8Array, limits: ModelLimits = {}): ModelRecord {
  const model = decodeOnnxModel(bytes, { maxFileBytes: limits.maxFileBytes ?? 1024 ** 3, maxElements: limits.maxParams ?? DEFAULT_MAX_PARAMS });
  return importedRecord(readChain(model), { imported: { from: 'onnx', producer: model.producer, opset: model.opset } }, limits);
}

/** The graph's layers, input to output. */
function readChain(model: OnnxModel): ImportedLayer[] {
  const dense = new Map<string, OnnxTensor>(model.initializers);
  const sparse = new Map<string, OnnxSparseTensor>(model.sparseInitializers);
  const used = new Set<string>();
  const folded = new Set<string>(); // outputs of DequantizeLinear nodes, which a layer must use
  const nodes: OnnxNode[] = [];
  const defineOnce = (name: string, node: OnnxNode): void => {
    if (dense.has(name) || sparse.has(name)) fail('E_ONNX_GRAPH', `${describe(node)} redefines "${name}"`);
  };
  for (const node of model.nodes) {
    if (node.opType === 'DequantizeLinear') {
      const [codes, scale, zeroPoint] = node.inputs;
      if (node.outputs.length !== 1 || node.inputs.length < 2 || node.inputs.length > 3) fail('E_ONNX_GRAPH', `${describe(node)} needs 2 or 3 inputs and one output`);
      const x = codes === undefined ? undefined : sparse.get(codes) ?? dense.get(codes);
      if (x === undefined) fail('E_ONNX_UNSUPPORTED', `${describe(node)} dequantizes "${codes ?? ''}", which the graph computes; DequantizeLinear is imported on constant weights only (quantized activations are not)`);
      const constantInput = (name: string, role: string): OnnxTensor => {
        const tensor = dense.get(name);
        if (tensor === undefined) fail('E_ONNX_UNSUPPORTED', `${describe(node)}: its ${role} "${name}" must be a dense constant`);
        used.add(name);
        return tensor;
      };
      used.add(codes!);
      const output = node.outputs[0]!;
      defineOnce(output, node);
      const tensor = foldDequantize({
        what: describe(node), output, x,
        scale: constantInput(scale!, 'scale'),
        zeroPoint: zeroPoint === undefined || zeroPoint === '' ? null : constantInput(zeroPoint, 'zero point'),
        axis: node.attributes.get('axis')?.i,
      });
      if ('linearIndices' in tensor) sparse.set(output, tensor);
      else dense.set(output, tensor);
      folded.add(output);
      continue;
    }
    if (node.opType !== 'Constant') {
      nodes.push(node);
      continue;
    }
    const value = node.attributes.get('value');
    if (node.attributes.size !== 1 || value === undefined || value.t === null || node.outputs.length !== 1) {
      fail('E_ONNX_UNSUPPORTED', `${describe(node)}: only a Constant with one tensor "value" is imported`);
    }
    defineOnce(node.outputs[0]!, node);
    dense.set(node.outputs[0]!, value.t!);
    used.add(node.outputs[0]!); // a Constant node is part of the graph, never "unused data"
  }
  const constant = (name: string | undefined, node: OnnxNode, role: string): OnnxTensor => {
    const tensor = name === undefined ? undefined : dense.get(name);
    if (tensor === undefined) fail('E_ONNX_UNSUPPORTED', `${describe(node)}: its ${role} "${name ?? ''}" must be a constant (an initializer or a Constant node), not computed by the graph`);
    used.add(name!);
    return tensor;
  };
  const weightInput = (name: string | undefined, node: OnnxNode): OnnxTensor | OnnxSparseTensor => {
    const sparseTensor = name === undefined ? undefined : sparse.get(name);
    if (sparseTensor === undefined) return constant(name, node, 'weight');
    used.add(name!);
    return sparseTensor;
  };

  const inputs = model.inputs.filter((input) => !dense.has(input.name) && !sparse.has(input.name));
  if (inputs.length !== 1) fail('E_ONNX_GRAPH', `the graph must have exactly one input besides its initializers, it has ${inputs.length}${inputs.length > 0 ? ` (${inputs.map((i) => `"${i.name}"`).join(', ')})` : ''}`);
  if (model.outputs.length !== 1) fail('E_ONNX_GRAPH', `the graph must have exactly one output, it has ${model.outputs.length}`);
  const input = inputs[0]!;
  const floatTypes: number[] = [OnnxDataType.FLOAT, OnnxDataType.FLOAT16, OnnxDataType.BFLOAT16, OnnxDataType.DOUBLE];
  if (input.elemType !== null && !floatTypes.includes(input.elemType)) fail('E_BAD_DTYPE', `the graph input "${input.name}" is ${onnxTypeName(input.elemType)}; it must be floating point`);
  // ONNX binds Gemm's, MatMul's and Add's inputs to one type T: every weight and bias must have the input's type.
  let graphType = input.elemType;
  const sameType = (tensor: { readonly name: string; readonly dataType: number }, node: OnnxNode): void => {
    graphType ??= tensor.dataType;
    if (tensor.dataType !== graphType) fail('E_BAD_DTYPE', `${describe(node)}: "${tensor.name}" is ${onnxTypeName(tensor.dataType)} but the graph computes in ${onnxTypeName(graphType)}; ONNX requires one type`);
  };
  // The per-sample shape of the current tensor when known (fixed dims after the batch dimension): [features]
  // between fully connected layers, [channels, height, width] around convolutions. `rank` counts the batch.
  const trailing = input.dims === null ? null : input.dims.slice(1);
  let shape: number[] | null = trailing !== null && trailing.every((d) => typeof d === 'number') ? (trailing as number[]) : null;
  let rank = input.dims?.length ?? null;
  const features = (): number | null => (shape === null ? null : shape.reduce((a, b) => a * b, 1));
  const isImage = (): boolean => shape !== null && shape.length === 3;

  const layers: ImportedLayer[] = [];
  const plain = (node: OnnxNode, spec: ImportedPlainLayer['spec']): void => {
    layers.push({ kind: 'plain', source: describe(node), spec });
  };
  // A window layer (conv or pool) needs [C, H, W]; the model's input is a row of C·H·W features, so the first
  // one starts the model with a reshape to the graph input's image shape.
  const imageInput = (node: OnnxNode): [number, number, number] => {
    if (!isImage()) fail('E_ONNX_UNSUPPORTED', `${describe(node)} needs images [batch, channels, height, width] with fixed channels, height and width; it gets ${shape === null ? 'a tensor of unknown shape' : `[batch, ${shape.join(', ')}]`}`);
    if (layers.length === 0) plain(node, { type: 'reshape', shape: [...shape!] });
    return shape as [number, number, number];
  };
  const windowOutput = (node: OnnxNode, spec: Conv2dSpec | Pool2dSpec): number[] => {
    try {
      return [...specShapes({ layers: [{ type: 'reshape', shape: shape! }, spec] }).outputs[1]!];
    } catch (error) {
      if (error instanceof ConfigError) fail('E_BAD_SHAPE', `${describe(node)}: ${error.message}`);
      throw error;
    }
  };

  let current = input.name;
  for (let n = 0; n < nodes.length; n++) {
    const node = nodes[n]!;
    if (node.inputs[0] !== current) {
      fail('E_ONNX_GRAPH', `${describe(node)} reads "${node.inputs[0] ?? ''}", not "${current}", the output of the node before it; only a chain of layers is imported`);
    }
    if (node.outputs.length !== 1) fail('E_ONNX_UNSUPPORTED', `${describe(node)} has ${node.outputs.length} outputs; each imported node has one`);
    const last = layers[layers.length - 1];
    switch (node.opType) {
      case 'Flatten':
      case 'Reshape': {
        if (layers.length === 0) {
          // At the input: the model reads rows of features, or images it reshapes itself.
          const target = node.opType === 'Flatten' ? null : constant(node.inputs[1], node, 'shape');
          if (target !== null && target.ints?.length === 4) {
            shape = imageShape(node, target, features());
            plain(node, { type: 'reshape', shape: [...shape] });
            rank = 4;
            break;
          }
          const width = target === null ? flattenFeatures(node, input.dims) : reshapeFeatures(node, target, features());
          shape = width === null ? null : [width];
        } else if (isImage()) {
          // After a convolution or pooling layer: [C, H, W] → C·H·W features.
          if (node.opType === 'Flatten') flattenFeatures(node, null);
          else reshapeFeatures(node, constant(node.inputs[1], node, 'shape'), features());
          plain(node, { type: 'flatten' });
          shape = [features()!];
        } else {
          fail('E_ONNX_UNSUPPORTED', `${describe(node)} comes after a fully connected layer; ${node.opType} is imported at the input or after a convolution or pooling layer`);
        }
        rank = 2;
        break;
      }
      case 'Conv': {
        const [channels] = imageInput(node);
        const weight = weightInput(node.inputs[1], node);
        const bias = node.inputs[2] !== undefined && node.inputs[2] !== '' ? constant(node.inputs[2], node, 'bias') : null;
        sameType(weight, node);
        if (bias !== null) sameType(bias, node);
        const spec = convSpec(node, describe(node), weight.dims, channels);
        layers.push(convLayer(node, spec, weight, bias === null ? null : biasValues(bias, spec.outChannels, node)));
        shape = windowOutput(node, spec);
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        imageInput(node);
        const spec = poolSpec(node, describe(node));
        plain(node, spec);
        shape = windowOutput(node, spec);
        break;
      }
      case 'Gemm':
      case 'MatMul': {
        if (rank !== null && rank !== 2) fail('E_ONNX_UNSUPPORTED', `${describe(node)} gets a rank-${rank} tensor; a Flatten or Reshape to [batch, features] must come first`);
        const weight = weightInput(node.inputs[1], node);
        const gemmBias = node.opType === 'Gemm' && node.inputs[2] !== undefined && node.inputs[2] !== '' ? constant(node.inputs[2], node, 'bias') : null;
        sameType(weight, node);
        if (gemmBias !== null) sameType(gemmBias, node);
        let layer = node.opType === 'Gemm' ? gemmLayer(node, weight, gemmBias) : matmulLayer(node, weight);
        const next = nodes[n + 1];
        if (node.opType === 'MatMul' && next?.opType === 'Add' && next.inputs.includes(node.outputs[0]!)) {
          const biasName = next.inputs.find((name) => name !== node.outputs[0]);
          if (next.inputs.length !== 2 || biasName === undefined) fail('E_ONNX_UNSUPPORTED', `${describe(next)} must add a constant bias to the MatMul's output`);
          const bias = constant(biasName, next, 'bias');
          sameType(bias, next);
          layer = { ...layer, bias: biasValues(bias, layer.outFeatures, next) };
          n++;
          current = next.outputs[0]!;
        } else current = node.outputs[0]!;
        const width = features();
        if (width !== null && layer.inFeatures !== width) fail('E_BAD_SHAPE', `${describe(node)} takes ${layer.inFeatures} inputs but gets ${width}`);
        layers.push(layer);
        shape = [layer.outFeatures];
        rank = 2;
        continue;
      }
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh': {
        if (last === undefined || (last.kind === 'plain' && last.spec.type === 'reshape')) fail('E_ONNX_UNSUPPORTED', `${describe(node)} comes before any layer; an activation is imported after a layer`);
        if (last.kind === 'plain' && ACTIVATION_TYPES.includes(last.spec.type)) fail('E_ONNX_UNSUPPORTED', `${describe(node)} follows another activation; one activation per layer is imported`);
        plain(node, { type: ACTIVATIONS[node.opType]! });
        break;
      }
      case 'Identity':
        break;
      default:
        fail('E_ONNX_UNSUPPORTED', node.opType === 'Add'
          ? `${describe(node)}: Add is imported only as the bias right after a MatMul`
          : `${describe(node)}: the operator ${node.opType} is not imported (supported: Gemm, MatMul + Add, Conv, MaxPool, AveragePool, Relu, Sigmoid, Tanh, Flatten/Reshape, Identity, Constant, DequantizeLinear of a constant weight)`);
    }
    current = node.outputs[0]!;
  }
  if (current !== model.outputs[0]!.name) fail('E_ONNX_GRAPH', `the chain of nodes ends at "${current}", but the graph's output is "${model.outputs[0]!.name}"`);
  const outputDims = model.outputs[0]!.dims;
  const declared = outputDims?.[outputDims.length - 1];
  const width = features();
  if (typeof declared === 'number' && width !== null && declared !== width) fail('E_BAD_SHAPE', `the graph output declares ${declared} features, the layers give ${width}`);
  for (const name of [...model.initializers.keys(), ...model.sparseInitializers.keys()]) {
    if (!used.has(name)) fail('E_ONNX_GRAPH', `the initializer "${name}" is not used by any imported node; a graph with other parts than the MLP is not imported`);
  }
  for (const name of folded) {
    if (!used.has(name)) fail('E_ONNX_GRAPH', `the DequantizeLinear output "${name}" is not used by any imported node; a graph with other parts than the MLP is not imported`);
  }
  return layers;
}

function flattenFeatures(node: OnnxNode, dims: readonly (number | string | null)[] | null): number | null {
  const axis = node.attributes.get('axis')?.i ?? 1;
  if (axis !== 1 && !(dims !== null && axis === 1 - dims.length)) fail('E_ONNX_UNSUPPORTED', `${describe(node)} flattens from axis ${axis}; only axis 1 (keep the batch dimension) is imported`);
  if (dims === null || !dims.slice(1).every((d) => typeof d === 'number')) return null;
  return (dims.slice(1) as number[]).reduce((a, b) => a * b, 1);
}

/** A Reshape's target shape (INT64, as ONNX requires; E_BAD_DTYPE otherwise), or null when it holds no integers. */
function shapeInts(node: OnnxNode, shape: OnnxTensor): readonly number[] | null {
  if (shape.dataType !== OnnxDataType.INT64) fail('E_BAD_DTYPE', `${describe(node)}: its shape "${shape.name}" is ${onnxTypeName(shape.dataType)}; ONNX requires INT64`);
  return shape.ints;
}

/** Refuses a Reshape target that fixes the batch dimension (anything but -1, or 0 copying it when allowzero is off). */
function checkFreeBatch(node: OnnxNode, target: readonly number[]): void {
  const batch = target[0];
  const zeroCopies = (node.attributes.get('allowzero')?.i ?? 0) === 0;
  if (!(batch === -1 || (batch === 0 && zeroCopies))) fail('E_ONNX_UNSUPPORTED', `${describe(node)} reshapes to [${target.join(', ')}]; the batch dimension must stay free (-1 or 0)`);
}

/** The [C, H, W] of a Reshape at the input to [-1 or 0, C, H, W]; `known` is the input's width when fixed. */
function imageShape(node: OnnxNode, shape: OnnxTensor, known: number | null): number[] {
  const target = shapeInts(node, shape)!;
  checkFreeBatch(node, target);
  const image = target.slice(1);
  if (!image.every((d) => Number.isSafeInteger(d) && d > 0)) fail('E_ONNX_UNSUPPORTED', `${describe(node)} reshapes to [${target.join(', ')}]; channels, height and width must be given`);
  const size = image.reduce((a, b) => a * b, 1);
  if (known !== null && known !== size) fail('E_BAD_SHAPE', `${describe(node)} reshapes ${known} features to [${image.join(', ')}] = ${size}`);
  return image;
}

/** The imported conv layer of a Conv node: its weight dense [O, C/g, kh, kw], or CSR over [O, C/g·kh·kw] when sparse. */
function convLayer(node: OnnxNode, spec: Conv2dSpec, weight: OnnxTensor | OnnxSparseTensor, bias: Float32Array | null): ImportedConv {
  const source = describe(node);
  const columns = (spec.inChannels / spec.groups) * spec.kernelSize[0] * spec.kernelSize[1];
  if ('linearIndices' in weight) {
    return { kind: 'conv2d', source, spec, weight: csrFromLinear(spec.outChannels, columns, weight.linearIndices, weight.values, false, `the sparse weight "${weight.name}" of ${source}`), bias };
  }
  if (weight.floats === null) fail('E_BAD_DTYPE', `${source}: its weight "${weight.name}" is ${onnxTypeName(weight.dataType)}; weights must be floating point`);
  return { kind: 'conv2d', source, spec, weight: Float32Array.from(weight.floats), bias };
}

function reshapeFeatures(node: OnnxNode, shape: OnnxTensor, known: number | null): number | null {
  const target = shapeInts(node, shape);
  if (target === null || target.length !== 2) fail('E_ONNX_UNSUPPORTED', `${describe(node)} reshapes to ${target === null ? 'a non-integer shape' : `[${target.join(', ')}]`}; only [-1, features] or [0, features] (or, at the input, [-1, C, H, W]) is imported`);
  checkFreeBatch(node, target);
  const [batch, width] = target as [number, number];
  if (width === -1 && batch === -1) fail('E_BAD_SHAPE', `${describe(node)} reshapes to [-1, -1]`);
  if (width === -1) return known;
  if (width <= 0) fail('E_BAD_SHAPE', `${describe(node)} reshapes to ${width} features`);
  if (known !== null && known !== width) fail('E_BAD_SHAPE', `${describe(node)} reshapes ${known} features to ${width}`);
  return width;
}

function gemmLayer(node: OnnxNode, weight: OnnxTensor | OnnxSparseTensor, bias: OnnxTensor | null): ImportedLinear {
  const attribute = (name: string, fallback: number): number => {
    const a = node.attributes.get(name);
    return a === undefined ? fallback : a.type === 1 ? a.f : a.i;
  };
  if (attribute('transA', 0) !== 0) fail('E_ONNX_UNSUPPORTED', `${describe(node)} has transA = 1; the input must not be transposed`);
  const transB = attribute('transB', 0);
  if (transB !== 0 && transB !== 1) fail('E_ONNX_GRAPH', `${describe(node)} has transB = ${transB}`);
  const alpha = attribute('alpha', 1);
  const beta = attribute('beta', 1);
  if (!Number.isFinite(alpha) || !Number.isFinite(beta)) fail('E_ONNX_GRAPH', `${describe(node)} has alpha ${alpha} and beta ${beta}; both must be finite`);
  const layer = linearLayer(node, weight, transB === 1);
  if (alpha !== 1) scale(layer.weight, alpha);
  const biasValuesScaled = bias === null ? null : biasValues(bias, layer.outFeatures, node);
  if (biasValuesScaled !== null && beta !== 1) for (let i = 0; i < biasValuesScaled.length; i++) biasValuesScaled[i]! *= beta;
  return { ...layer, bias: biasValuesScaled };
}

function matmulLayer(node: OnnxNode, weight: OnnxTensor | OnnxSparseTensor): ImportedLinear {
  if (node.inputs.length !== 2) fail('E_ONNX_GRAPH', `${describe(node)} needs two inputs`);
  return linearLayer(node, weight, false);
}

/** The layer of a weight stored [out, in] (`outFirst`, Gemm with transB = 1) or [in, out] (MatMul, Gemm transB = 0). */
function linearLayer(node: OnnxNode, weight: OnnxTensor | OnnxSparseTensor, outFirst: boolean): ImportedLinear {
  if (weight.dims.length !== 2) fail('E_BAD_SHAPE', `${describe(node)}: its weight "${weight.name}" has shape [${weight.dims.join(', ')}]; it must be 2-D`);
  const [outFeatures, inFeatures] = (outFirst ? weight.dims : [weight.dims[1], weight.dims[0]]) as [number, number];
  if (outFeatures === 0 || inFeatures === 0) fail('E_BAD_SHAPE', `${describe(node)}: its weight "${weight.name}" is empty`);
  const source = describe(node);
  if ('linearIndices' in weight) {
    const csr = csrFromLinear(outFeatures, inFeatures, weight.linearIndices, weight.values, !outFirst, `the sparse weight "${weight.name}" of ${source}`);
    return { kind: 'linear', source, inFeatures, outFeatures, weight: csr, mask: null, bias: null, activation: 'none' };
  }
  if (weight.floats === null) fail('E_BAD_DTYPE', `${describe(node)}: its weight "${weight.name}" is ${onnxTypeName(weight.dataType)}; weights must be floating point`);
  let dense = Float32Array.from(weight.floats); // a copy: alpha may scale it, and an initializer may serve two nodes
  if (!outFirst) {
    dense = new Float32Array(outFeatures * inFeatures);
    for (let i = 0; i < inFeatures; i++) for (let o = 0; o < outFeatures; o++) dense[o * inFeatures + i] = weight.floats[i * outFeatures + o]!;
  }
  return { kind: 'linear', source, inFeatures, outFeatures, weight: dense, mask: null, bias: null, activation: 'none' };
}

/** A bias of `outFeatures` values from a constant of shape [out], [1, out], [] or [1] (a scalar is broadcast). */
function biasValues(tensor: OnnxTensor, outFeatures: number, node: OnnxNode): Float32Array {
  if (tensor.floats === null) fail('E_BAD_DTYPE', `${describe(node)}: its bias "${tensor.name}" is ${onnxTypeName(tensor.dataType)}; it must be floating point`);
  const dims = tensor.dims;
  const count = tensor.floats.length;
  const fits = (dims.length === 1 && dims[0] === outFeatures) || (dims.length === 2 && dims[0] === 1 && dims[1] === outFeatures);
  if (fits) return Float32Array.from(tensor.floats);
  if (count === 1 && dims.length <= 2) return new Float32Array(outFeatures).fill(tensor.floats[0]!);
  return fail('E_BAD_SHAPE', `${describe(node)}: its bias "${tensor.name}" has shape [${dims.join(', ')}]; it must be [${outFeatures}], [1, ${outFeatures}] or a scalar`);
}

function scale(weight: Float32Array | CSRMatrix, factor: number): void {
  const values = weight instanceof CSRMatrix ? weight.values : weight;
  for (let i = 0; i < values.length; i++) values[i]! *= factor;
}
