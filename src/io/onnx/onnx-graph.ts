/**
 * An ONNX file decoded into plain data (the graph's nodes, initializers, inputs and outputs), with the strict
 * protobuf reader of protobuf-reader.ts. This is the file-format half of ONNX import; which graphs make a
 * model is decided in src/io/import/onnx.ts.
 *
 * onnx.proto field numbers (github.com/onnx/onnx/blob/main/onnx/onnx.proto):
 *   ModelProto          ir_version 1, producer_name 2, producer_version 3, graph 7, opset_import 8, functions 25
 *   OperatorSetIdProto  domain 1, version 2
 *   GraphProto          node 1, name 2, initializer 5, input 11, output 12, value_info 13, sparse_initializer 15
 *   NodeProto           input 1, output 2, name 3, op_type 4, attribute 5, domain 7
 *   AttributeProto      name 1, f 2, i 3, s 4, t 5, g 6, floats 7, ints 8, type 20, ref_attr_name 21
 *   ValueInfoProto      name 1, type 2;  TypeProto tensor_type 1;  TypeProto.Tensor elem_type 1, shape 2
 *   TensorShapeProto    dim 1;  Dimension dim_value 1, dim_param 2
 */
import { ModelFormatError } from '../../errors.ts';
import { isUint8Array } from '../../tensor/typed-array.ts';
import { decodeMessage, type ProtoMessage } from './protobuf-reader.ts';
import { readSparseTensor, readTensor, type OnnxSparseTensor, type OnnxTensor } from './onnx-tensor.ts';

/** An attribute of a node: its name and, by its type, one value. */
export interface OnnxAttribute {
  readonly name: string;
  /** AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, FLOATS 6, INTS 7 (others are refused). */
  readonly type: number;
  readonly f: number;
  readonly i: number;
  readonly s: string;
  readonly ints: readonly number[];
  readonly t: OnnxTensor | null;
}

/** One node: its operator, its input and output tensor names, its attributes. */
export interface OnnxNode {
  readonly index: number;
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: ReadonlyMap<string, OnnxAttribute>;
}

/** A graph input or output: its name, element type (null if untyped) and shape (null if unknown). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly elemType: number | null;
  /** Per dimension: a fixed size, a symbolic name, or null (unknown). */
  readonly dims: readonly (number | string | null)[] | null;
}

/** The decoded file. */
export interface OnnxModel {
  readonly irVersion: number;
  /** The default-domain (ai.onnx) opset the graph was written for. */
  readonly opset: number;
  readonly producer: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: ReadonlyMap<string, OnnxTensor>;
  readonly sparseInitializers: ReadonlyMap<string, OnnxSparseTensor>;
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

/** Limits for an untrusted ONNX file. */
export interface OnnxLimits {
  /** Largest file, in bytes. Default 1 GiB. */
  readonly maxFileBytes?: number;
  /** Largest number of elements in one tensor. Default 2^26 (as the model file's parameter limit). */
  readonly maxElements?: number;
  /** Largest number of nodes, and of initializers. Default 16,384. */
  readonly maxNodes?: number;
}

/** Oldest default-domain opset whose Gemm, MatMul, Add, Relu, Sigmoid, Tanh, Flatten and Reshape mean what the importer assumes. */
export const ONNX_IMPORT_MIN_OPSET = 7;
/** Newest default-domain opset the importer was checked against (those operators unchanged up to it). */
export const ONNX_IMPORT_MAX_OPSET = 22;

const DEFAULT_DOMAINS = ['', 'ai.onnx'];
const ATTRIBUTE_TYPES = new Set([1, 2, 3, 4, 6, 7]);

function fail(code: string, message: string): never {
  throw new ModelFormatError(code, `ONNX: ${message}`);
}

/**
 * Decodes an ONNX ModelProto. Throws ModelFormatError: E_ONNX_PROTOBUF (malformed bytes), E_ONNX_UNSUPPORTED
 * (a feature the importer does not take: other opset domains, subgraph or reference attributes, external
 * data), E_ONNX_GRAPH (missing graph, duplicate names), and the tensor errors of onnx-tensor.ts.
 */
export function decodeOnnxModel(bytes: Uint8Array, limits: OnnxLimits = {}): OnnxModel {
  if (!isUint8Array(bytes)) fail('E_ONNX_PROTOBUF', 'expected the bytes of an ONNX file (a Uint8Array)');
  const maxFileBytes = limits.maxFileBytes ?? 1024 ** 3;
  const maxElements = limits.maxElements ?? 2 ** 26;
  const maxNodes = limits.maxNodes ?? 16384;
  if (bytes.length > maxFileBytes) fail('E_FILE_TOO_LARGE', `the file is ${bytes.length} bytes, over the limit of ${maxFileBytes}`);
  if (bytes.length === 0) fail('E_ONNX_PROTOBUF', 'the file is empty');
  const model = decodeMessage(bytes, 'ModelProto');
  const irVersion = Number(model.int64(1, 'ir_version'));
  if (irVersion < 3) fail('E_ONNX_UNSUPPORTED', `ir_version ${irVersion}: not an ONNX model this importer reads (IR version 3 or later)`);

  let opset: number | null = null;
  for (const entry of model.messages(8, 'opset_import')) {
    const domain = entry.string(1, 'domain');
    if (!DEFAULT_DOMAINS.includes(domain)) continue; // other domains matter only if a node uses them (refused below)
    if (opset !== null) fail('E_ONNX_GRAPH', 'the default opset domain is imported twice');
    opset = Number(entry.int64(2, 'version'));
  }
  if (opset === null) fail('E_ONNX_GRAPH', 'the model imports no default-domain opset (opset_import)');
  if (opset < ONNX_IMPORT_MIN_OPSET || opset > ONNX_IMPORT_MAX_OPSET) {
    fail('E_ONNX_UNSUPPORTED', `opset ${opset} is outside the ${ONNX_IMPORT_MIN_OPSET}–${ONNX_IMPORT_MAX_OPSET} the importer knows`);
  }
  const graph = model.message(7, 'graph');
  if (graph === undefined) fail('E_ONNX_GRAPH', 'the model has no graph');

  const nodeMessages = graph.messages(1, 'node');
  const initializerMessages = graph.messages(5, 'initializer');
  const sparseMessages = graph.messages(15, 'sparse_initializer');
  if (nodeMessages.length > maxNodes || initializerMessages.length + sparseMessages.length > maxNodes) {
    fail('E_ONNX_GRAPH', `the graph has ${nodeMessages.length} nodes and ${initializerMessages.length + sparseMessages.length} initializers, over the limit of ${maxNodes}`);
  }
  const initializers = new Map<string, OnnxTensor>();
  const sparseInitializers = new Map<string, OnnxSparseTensor>();
  const claim = (name: string, what: string): void => {
    if (name === '') fail('E_ONNX_GRAPH', `an ${what} has no name`);
    if (initializers.has(name) || sparseInitializers.has(name)) fail('E_ONNX_GRAPH', `two initializers are named "${name}"`);
  };
  for (const message of initializerMessages) {
    const tensor = readTensor(message, maxElements);
    claim(tensor.name, 'initializer');
    initializers.set(tensor.name, tensor);
  }
  for (const message of sparseMessages) {
    const tensor = readSparseTensor(message, maxElements);
    claim(tensor.name, 'sparse initializer');
    sparseInitializers.set(tensor.name, tensor);
  }
  return {
    irVersion,
    opset,
    producer: model.string(2, 'producer_name'),
    nodes: nodeMessages.map((message, index) => readNode(message, index, maxElements)),
    initializers,
    sparseInitializers,
    inputs: graph.messages(11, 'input').map(readValueInfo),
    outputs: graph.messages(12, 'output').map(readValueInfo),
  };
}

function readNode(message: ProtoMessage, index: number, maxElements: number): OnnxNode {
  const opType = message.string(4, 'op_type');
  const name = message.string(3, 'name');
  const label = `node ${index}${name === '' ? '' : ` "${name}"`} (${opType || 'no op_type'})`;
  const domain = message.string(7, 'domain');
  if (!DEFAULT_DOMAINS.includes(domain)) fail('E_ONNX_UNSUPPORTED', `${label} is from the operator domain "${domain}"; sparsegrad imports only standard ONNX operators`);
  const attributes = new Map<string, OnnxAttribute>();
  for (const attribute of message.messages(5, 'attribute')) {
    const read = readAttribute(attribute, label, maxElements);
    if (attributes.has(read.name)) fail('E_ONNX_GRAPH', `${label} has two attributes named "${read.name}"`);
    attributes.set(read.name, read);
  }
  return { index, name, opType, domain, inputs: message.strings(1, 'input'), outputs: message.strings(2, 'output'), attributes };
}

function readAttribute(message: ProtoMessage, label: string, maxElements: number): OnnxAttribute {
  const name = message.string(1, 'name');
  if (message.string(21, 'ref_attr_name') !== '') fail('E_ONNX_UNSUPPORTED', `${label}: attribute "${name}" refers to a function attribute`);
  let type = Number(message.int64(20, 'type'));
  // IR version 1 files may leave the type out; it follows from the one value field present.
  if (type === 0) type = message.has(2) ? 1 : message.has(3) ? 2 : message.has(4) ? 3 : message.has(5) ? 4 : message.has(7) ? 6 : message.has(8) ? 7 : 0;
  if (!ATTRIBUTE_TYPES.has(type)) fail('E_ONNX_UNSUPPORTED', `${label}: attribute "${name}" has type ${type} (graphs, sparse tensors, lists of strings or tensors are not imported)`);
  const tensor = type === 4 ? message.message(5, 't') : undefined;
  const exact = (v: bigint): number => {
    if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) fail('E_ONNX_GRAPH', `${label}: attribute "${name}" holds ${v}, beyond the integers sparsegrad reads exactly`);
    return Number(v);
  };
  return {
    name, type, f: message.float(2, 'f', 0), i: exact(message.int64(3, 'i')), s: message.string(4, 's'), ints: message.int64s(8, 'ints').map(exact),
    t: tensor === undefined ? null : readTensor(tensor, maxElements),
  };
}

function readValueInfo(message: ProtoMessage): OnnxValueInfo {
  const name = message.string(1, 'name');
  const tensorType = message.message(2, 'type')?.message(1, 'tensor_type');
  if (tensorType === undefined) return { name, elemType: null, dims: null };
  const shape = tensorType.message(2, 'shape');
  const dims = shape === undefined ? null : shape.messages(1, 'dim').map((dim): number | string | null => {
    if (dim.has(1)) {
      const size = dim.int64(1, 'dim_value');
      return size >= 0n && size <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(size) : null;
    }
    const param = dim.string(2, 'dim_param');
    return param === '' ? null : param;
  });
  return { name, elemType: tensorType.has(1) ? Number(tensorType.int64(1, 'elem_type')) : null, dims };
}
