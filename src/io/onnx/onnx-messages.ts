/**
 * The ONNX protobuf messages the exporter writes (export.ts), built with the small protobuf writer: nodes and
 * their attributes, float, int8 and int64 initializers (dense or sparse), value infos. Field numbers are those of
 * onnx.proto, listed in export.ts's header.
 */
import { ProtoWriter } from './protobuf.ts';

// ---- onnx.proto constants ------------------------------------------------------------------------------

export const TENSOR_FLOAT = 1; // TensorProto.DataType.FLOAT
export const TENSOR_INT8 = 3; // TensorProto.DataType.INT8
const TENSOR_INT64 = 7; // TensorProto.DataType.INT64
const ATTRIBUTE_INT = 2; // AttributeProto.AttributeType.INT
const ATTRIBUTE_INTS = 7; // AttributeProto.AttributeType.INTS

export const Model = { irVersion: 1, producerName: 2, producerVersion: 3, graph: 7, opsetImport: 8 } as const;
const OpsetId = { domain: 1, version: 2 } as const;
export const Graph = { node: 1, name: 2, initializer: 5, input: 11, output: 12, sparseInitializer: 15 } as const;
const SparseTensor = { values: 1, indices: 2, dims: 3 } as const;
const Node = { input: 1, output: 2, name: 3, opType: 4, attribute: 5 } as const;
const Attribute = { name: 1, i: 3, ints: 8, type: 20 } as const;
const Tensor = { dims: 1, dataType: 2, int64Data: 7, name: 8, rawData: 9 } as const;
const ValueInfo = { name: 1, type: 2 } as const;
const Type = { tensorType: 1 } as const;
const TypeTensor = { elemType: 1, shape: 2 } as const;
const Shape = { dim: 1 } as const;
const Dimension = { dimValue: 1, dimParam: 2 } as const;


export function opsetImport(version: number): ProtoWriter {
  // domain "" (the default ai.onnx domain) is the field's default, so it is left out.
  return new ProtoWriter().varint(OpsetId.version, version);
}

export function intAttribute(name: string, value: number): ProtoWriter {
  return new ProtoWriter().string(Attribute.name, name).varint(Attribute.i, value).varint(Attribute.type, ATTRIBUTE_INT);
}

export function node(name: string, opType: string, inputs: readonly string[], output: string, attributes: readonly ProtoWriter[] = []): ProtoWriter {
  const w = new ProtoWriter();
  for (const input of inputs) w.string(Node.input, input);
  w.string(Node.output, output).string(Node.name, name).string(Node.opType, opType);
  for (const attribute of attributes) w.message(Node.attribute, attribute);
  return w;
}

export function floatInitializer(name: string, dims: readonly number[], values: Float32Array): ProtoWriter {
  // raw_data: fixed-width little-endian IEEE 754. A fresh copy, so later changes to `values` cannot leak in.
  return rawInitializer(name, dims, TENSOR_FLOAT, float32Bytes(values));
}

/** A TensorProto of `dataType` holding `raw` as raw_data (little-endian, as onnx.proto requires). */
export function rawInitializer(name: string, dims: readonly number[], dataType: number, raw: Uint8Array): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of dims) w.varint(Tensor.dims, d);
  return w.varint(Tensor.dataType, dataType).string(Tensor.name, name).bytes(Tensor.rawData, raw);
}

/** The linear indices of the nonzero entries of a row-major tensor. */
export function nonzeroIndices(values: ArrayLike<number>): number[] {
  const indices: number[] = [];
  for (let j = 0; j < values.length; j++) if (values[j] !== 0) indices.push(j);
  return indices;
}

/** Bytes of the varint of a non-negative integer. */
export function varintLength(value: number): number {
  let length = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

/** Whether a weight goes out sparse: by the option, and for 'auto' when its sparse form is smaller. */
export function writeSparse(weight: Float32Array, choice: 'auto' | 'always' | 'never'): boolean {
  if (choice !== 'auto') return choice === 'always';
  let sparseBytes = 0;
  for (let j = 0; j < weight.length; j++) if (weight[j] !== 0) sparseBytes += 4 + varintLength(j);
  return sparseBytes < 4 * weight.length;
}

/**
 * A SparseTensorProto: values [nnz] FLOAT (raw_data, named like the weight) and indices [nnz] INT64 (linear,
 * increasing, packed varints), for a dense tensor of `dims`.
 */
export function sparseFloatInitializer(name: string, dims: readonly number[], weight: Float32Array): ProtoWriter {
  const indices = nonzeroIndices(weight);
  return sparseRawInitializer(name, dims, TENSOR_FLOAT, float32Bytes(Float32Array.from(indices, (j) => weight[j]!)), indices);
}

/**
 * A SparseTensorProto for a dense tensor of `dims`: the stored values as raw_data of `dataType` (named like the
 * tensor) at `indices` (INT64, linear, increasing, packed varints).
 */
export function sparseRawInitializer(name: string, dims: readonly number[], dataType: number, rawValues: Uint8Array, indices: readonly number[]): ProtoWriter {
  const valuesTensor = rawInitializer(name, [indices.length], dataType, rawValues);
  const indicesTensor = new ProtoWriter().varint(Tensor.dims, indices.length).varint(Tensor.dataType, TENSOR_INT64);
  if (indices.length > 0) indicesTensor.packedVarints(Tensor.int64Data, indices);
  const sparse = new ProtoWriter().message(SparseTensor.values, valuesTensor).message(SparseTensor.indices, indicesTensor);
  for (const d of dims) sparse.varint(SparseTensor.dims, d);
  return sparse;
}

/** Little-endian IEEE 754 bytes of float32 values (a fresh copy). */
export function float32Bytes(values: Float32Array): Uint8Array {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  for (let j = 0; j < values.length; j++) view.setFloat32(j * 4, values[j]!, true);
  return raw;
}

/** A float32 tensor ValueInfoProto whose dims are numbers (fixed) or strings (symbolic). */
export function floatValueInfo(name: string, dims: readonly (number | string)[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) {
    const dim = typeof d === 'number' ? new ProtoWriter().varint(Dimension.dimValue, d) : new ProtoWriter().string(Dimension.dimParam, d);
    shape.message(Shape.dim, dim);
  }
  const tensorType = new ProtoWriter().varint(TypeTensor.elemType, TENSOR_FLOAT).message(TypeTensor.shape, shape);
  const type = new ProtoWriter().message(Type.tensorType, tensorType);
  return new ProtoWriter().string(ValueInfo.name, name).message(ValueInfo.type, type);
}

/** An INTS attribute (kernel_shape, strides, pads). */
export function intsAttribute(name: string, values: readonly number[]): ProtoWriter {
  return new ProtoWriter().string(Attribute.name, name).packedVarints(Attribute.ints, values).varint(Attribute.type, ATTRIBUTE_INTS);
}

/** An INT64 initializer (e.g. the target shape of a Reshape node), values as packed varints. */
export function int64Initializer(name: string, values: readonly number[]): ProtoWriter {
  return new ProtoWriter().varint(Tensor.dims, values.length).varint(Tensor.dataType, TENSOR_INT64).packedVarints(Tensor.int64Data, values).string(Tensor.name, name);
}
