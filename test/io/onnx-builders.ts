/**
 * Builders of small ONNX graphs for the importer's tests, with the library's protobuf writer; field numbers as
 * in src/io/onnx/onnx-graph.ts and onnx-tensor.ts.
 */
import { ProtoWriter } from '../../src/io/onnx/protobuf.ts';

export const FLOAT = 1;
export const UINT8 = 2;
export const INT8 = 3;
export const INT64 = 7;
export const FLOAT16 = 10;

export interface TensorSpec { name: string; dims: number[]; values: number[]; type?: number }

/** A TensorProto: FLOAT in float_data, INT64 in int64_data, FLOAT16 as ones, INT8 as raw bytes, UINT8 in int32_data. */
export function tensor({ name, dims, values, type = FLOAT }: TensorSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of dims) w.varint(1, d);
  w.varint(2, type).string(8, name);
  if (type === INT64 || type === UINT8) w.packedVarints(type === INT64 ? 7 : 5, values);
  else if (type === INT8) w.bytes(9, Uint8Array.from(values, (v) => v & 0xff));
  else if (type === FLOAT16) w.packedVarints(5, values.map(() => 0x3c00)); // 1.0 in half precision
  else w.packedFloats(4, values);
  return w;
}

export function node(opType: string, inputs: string[], outputs: string[], attributes: ProtoWriter[] = [], domain?: string): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of inputs) w.string(1, i);
  for (const o of outputs) w.string(2, o);
  w.string(4, opType);
  for (const a of attributes) w.message(5, a);
  if (domain !== undefined) w.string(7, domain);
  return w;
}

export const intAttribute = (name: string, value: number): ProtoWriter => new ProtoWriter().string(1, name).varint(3, value).varint(20, 2);

export function valueInfo(name: string, dims: (number | string)[], type = FLOAT): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new ProtoWriter().varint(1, d) : new ProtoWriter().string(2, d));
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, new ProtoWriter().varint(1, type).message(2, shape)));
}

/** A SparseTensorProto: values (a TensorSpec) at increasing linear indices of a tensor of `dims`. */
export function sparseTensor(values: TensorSpec, indices: number[], dims: number[]): ProtoWriter {
  const w = new ProtoWriter().message(1, tensor(values)).message(2, tensor({ name: '', dims: [indices.length], values: indices, type: INT64 }));
  for (const d of dims) w.varint(3, d);
  return w;
}

export interface GraphSpec {
  nodes: ProtoWriter[];
  initializers?: TensorSpec[];
  sparse?: ProtoWriter[];
  inputs?: ProtoWriter[];
  outputs?: ProtoWriter[];
  opset?: number;
  domain?: string;
}

/** A ModelProto of one graph; by default input x [N, 3] and output y [N, 2], opset 13. */
export function model({ nodes, initializers = [], sparse = [], inputs = [valueInfo('x', ['N', 3])], outputs = [valueInfo('y', ['N', 2])], opset = 13, domain }: GraphSpec): Uint8Array {
  const graph = new ProtoWriter();
  for (const n of nodes) graph.message(1, n);
  graph.string(2, 'test');
  for (const t of initializers) graph.message(5, tensor(t));
  for (const i of inputs) graph.message(11, i);
  for (const o of outputs) graph.message(12, o);
  for (const s of sparse) graph.message(15, s);
  const opsetImport = new ProtoWriter();
  if (domain !== undefined) opsetImport.string(1, domain);
  opsetImport.varint(2, opset);
  return new ProtoWriter().varint(1, 7).message(7, graph).message(8, opsetImport).finish();
}

/** An INTS attribute (AttributeProto type 7: ints in field 8). */
export const intsAttribute = (name: string, values: number[]): ProtoWriter => {
  const w = new ProtoWriter().string(1, name);
  for (const v of values) w.varint(8, v);
  return w.varint(20, 7);
};
