/**
 * ONNX tensors read from a file: TensorProto (dense initializers, Constant values, Reshape shapes) and
 * SparseTensorProto (sparse initializers). Only what an MLP needs is accepted — float weights (FLOAT, FLOAT16,
 * BFLOAT16, DOUBLE; widened or rounded to float32) and integer shapes and indices (INT64, INT32) — stored
 * inline, either as raw_data (little-endian) or in the typed repeated fields. Anything else (external data,
 * segments, strings, other element types) is refused with a ModelFormatError naming the tensor.
 *
 * onnx.proto field numbers (github.com/onnx/onnx/blob/main/onnx/onnx.proto):
 *   TensorProto        dims 1, data_type 2, segment 3, float_data 4, int32_data 5, string_data 6, int64_data 7,
 *                      name 8, raw_data 9, double_data 10, uint64_data 11, external_data 13, data_location 14
 *   SparseTensorProto  values 1, indices 2, dims 3
 */
import { ModelFormatError } from '../../errors.ts';
import { widenHalves } from '../import/number-formats.ts';
import { WireType } from './protobuf.ts';
import type { ProtoMessage } from './protobuf-reader.ts';

/** TensorProto.DataType values this reader knows by name. */
export const OnnxDataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;

const TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING', 9: 'BOOL',
  10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16',
};

/** The name of an ONNX element type, for messages. */
export function onnxTypeName(dataType: number): string {
  return TYPE_NAMES[dataType] ?? `type ${dataType}`;
}

/** A dense tensor: float weights as float32, or integers (shapes, indices, INT8/UINT8 codes) as safe integers. */
export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  readonly floats: Float32Array | null;
  readonly ints: readonly number[] | null;
}

/** A sparse tensor: its dense shape, its values, and one linear (row-major) index per value, increasing. */
export interface OnnxSparseTensor {
  readonly name: string;
  readonly dims: readonly number[];
  /** The element type the values were stored in (FLOAT, FLOAT16, ...), before widening. */
  readonly dataType: number;
  readonly values: Float32Array;
  readonly linearIndices: readonly number[];
}

const Field = { dims: 1, dataType: 2, segment: 3, floatData: 4, int32Data: 5, stringData: 6, int64Data: 7, name: 8, rawData: 9, doubleData: 10, uint64Data: 11, externalData: 13, dataLocation: 14 } as const;

function fail(code: string, message: string): never {
  throw new ModelFormatError(code, `ONNX: ${message}`);
}

/** Reads a TensorProto; `maxElements` bounds its size before anything is allocated. */
export function readTensor(message: ProtoMessage, maxElements: number): OnnxTensor {
  const name = message.string(Field.name, 'name');
  const what = `tensor "${name}" (${message.path})`;
  for (const [field, reason] of [[Field.segment, 'segments'], [Field.externalData, 'external data'], [Field.stringData, 'strings'], [Field.uint64Data, 'uint64 data']] as const) {
    if (message.has(field)) fail('E_ONNX_UNSUPPORTED', `${what} uses ${reason}, which sparsegrad does not import (store the weights inline)`);
  }
  if (message.int64(Field.dataLocation, 'data_location') !== 0n) fail('E_ONNX_UNSUPPORTED', `${what} keeps its data in an external file; store the weights inline`);
  const dims = readDims(message.int64s(Field.dims, 'dims'), what, maxElements);
  const count = dims.reduce((a, b) => a * b, 1);
  const dataType = Number(message.int64(Field.dataType, 'data_type'));
  const raw = message.last(Field.rawData, WireType.LEN, 'raw_data')?.bytes;
  const typedFields = [Field.floatData, Field.int32Data, Field.int64Data, Field.doubleData].filter((f) => message.has(f));
  if (raw !== undefined && typedFields.length > 0) fail('E_ONNX_TENSOR', `${what} has both raw_data and typed data; a tensor holds its values once`);
  const lengthCheck = (length: number): void => {
    if (length !== count) fail('E_BAD_SHAPE', `${what} has ${length} values but its dims [${dims.join(', ')}] need ${count}`);
  };
  const rawElements = (size: number): DataView => {
    if (raw === undefined) return new DataView(new ArrayBuffer(0));
    if (raw.length % size !== 0) fail('E_BAD_SHAPE', `${what} has ${raw.length} bytes of raw_data, not a multiple of ${size}`);
    lengthCheck(raw.length / size);
    return new DataView(raw.buffer, raw.byteOffset, raw.length);
  };
  const noData = raw === undefined && typedFields.length === 0;
  if (noData) lengthCheck(0);
  switch (dataType) {
    case OnnxDataType.FLOAT: {
      onlyTyped(typedFields, Field.floatData, what, 'float_data');
      if (raw !== undefined) {
        const view = rawElements(4);
        return { name, dims, dataType, floats: Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true)), ints: null };
      }
      const floats = readFixed(message, Field.floatData, 'float_data', 4, what);
      lengthCheck(floats.length);
      return { name, dims, dataType, floats: Float32Array.from(floats), ints: null };
    }
    case OnnxDataType.FLOAT16:
    case OnnxDataType.BFLOAT16: {
      onlyTyped(typedFields, Field.int32Data, what, 'int32_data');
      let bits: number[];
      if (raw !== undefined) {
        const view = rawElements(2);
        bits = Array.from({ length: count }, (_, i) => view.getUint16(2 * i, true));
      } else {
        bits = message.int64s(Field.int32Data, 'int32_data').map((v) => {
          if (v < 0n || v > 0xffffn) fail('E_ONNX_TENSOR', `${what} holds ${v} in int32_data, not a 16-bit pattern`);
          return Number(v);
        });
        lengthCheck(bits.length);
      }
      return { name, dims, dataType, floats: widenHalves(bits, dataType === OnnxDataType.FLOAT16 ? 'F16' : 'BF16'), ints: null };
    }
    case OnnxDataType.DOUBLE: {
      onlyTyped(typedFields, Field.doubleData, what, 'double_data');
      let values: number[];
      if (raw !== undefined) {
        const view = rawElements(8);
        values = Array.from({ length: count }, (_, i) => view.getFloat64(8 * i, true));
      } else values = readFixed(message, Field.doubleData, 'double_data', 8, what);
      lengthCheck(values.length);
      return { name, dims, dataType, floats: Float32Array.from(values), ints: null };
    }
    case OnnxDataType.INT64:
    case OnnxDataType.INT32: {
      const field = dataType === OnnxDataType.INT64 ? Field.int64Data : Field.int32Data;
      onlyTyped(typedFields, field, what, dataType === OnnxDataType.INT64 ? 'int64_data' : 'int32_data');
      let values: bigint[];
      if (raw !== undefined) {
        const size = dataType === OnnxDataType.INT64 ? 8 : 4;
        const view = rawElements(size);
        values = Array.from({ length: count }, (_, i) => (size === 8 ? view.getBigInt64(8 * i, true) : BigInt(view.getInt32(4 * i, true))));
      } else {
        values = message.int64s(field, 'int data').map((v) => (dataType === OnnxDataType.INT32 ? BigInt.asIntN(32, v) : v));
        lengthCheck(values.length);
      }
      const ints = values.map((v) => {
        if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) fail('E_ONNX_TENSOR', `${what} holds ${v}, beyond the integers sparsegrad reads exactly`);
        return Number(v);
      });
      return { name, dims, dataType, floats: null, ints };
    }
    case OnnxDataType.INT8:
    case OnnxDataType.UINT8: {
      // The codes of a quantized weight (DequantizeLinear's input): raw bytes, or one value per int32_data entry.
      onlyTyped(typedFields, Field.int32Data, what, 'int32_data');
      const signed = dataType === OnnxDataType.INT8;
      let ints: number[];
      if (raw !== undefined) {
        const view = rawElements(1);
        ints = Array.from({ length: count }, (_, i) => (signed ? view.getInt8(i) : view.getUint8(i)));
      } else {
        ints = message.int64s(Field.int32Data, 'int32_data').map((v) => {
          const value = Number(BigInt.asIntN(32, v));
          if (signed ? value < -128 || value > 127 : value < 0 || value > 255) fail('E_ONNX_TENSOR', `${what} holds ${value} in int32_data, outside ${onnxTypeName(dataType)}`);
          return value;
        });
        lengthCheck(ints.length);
      }
      return { name, dims, dataType, floats: null, ints };
    }
    default:
      return fail('E_BAD_DTYPE', `${what} is ${onnxTypeName(dataType)}; sparsegrad imports FLOAT, FLOAT16, BFLOAT16 and DOUBLE weights, INT8/UINT8 codes behind DequantizeLinear, and INT64/INT32 shapes and indices`);
  }
}

/** Reads a SparseTensorProto: values [NNZ] and indices [NNZ] (linear) or [NNZ, rank] (coordinates), increasing. */
export function readSparseTensor(message: ProtoMessage, maxElements: number): OnnxSparseTensor {
  const valuesMessage = message.message(1, 'values');
  const indicesMessage = message.message(2, 'indices');
  if (valuesMessage === undefined || indicesMessage === undefined) fail('E_ONNX_TENSOR', `${message.path} needs both values and indices`);
  const values = readTensor(valuesMessage, maxElements);
  const what = `sparse tensor "${values.name}" (${message.path})`;
  const dims = readDims(message.int64s(3, 'dims'), what, maxElements);
  const denseCount = dims.reduce((a, b) => a * b, 1);
  const codes = values.dataType === OnnxDataType.INT8 || values.dataType === OnnxDataType.UINT8;
  if (values.floats === null && !codes) fail('E_BAD_DTYPE', `${what} has ${onnxTypeName(values.dataType)} values; weights must be floating point (or INT8/UINT8 codes behind DequantizeLinear)`);
  if (values.dims.length !== 1) fail('E_BAD_SHAPE', `${what}: values must be 1-D [NNZ], got [${values.dims.join(', ')}]`);
  const nnz = values.dims[0]!;
  if (nnz > denseCount) fail('E_BAD_SHAPE', `${what} stores ${nnz} values in a tensor of ${denseCount} elements`);
  const indices = readTensor(indicesMessage, nnz * Math.max(1, dims.length));
  if (indices.ints === null || (indices.dataType !== OnnxDataType.INT64 && indices.dataType !== OnnxDataType.INT32)) fail('E_BAD_DTYPE', `${what} has ${onnxTypeName(indices.dataType)} indices; they must be INT64 or INT32`);
  let linear: number[];
  if (indices.dims.length === 1 && indices.dims[0] === nnz) linear = [...indices.ints];
  else if (indices.dims.length === 2 && indices.dims[0] === nnz && indices.dims[1] === dims.length) {
    linear = Array.from({ length: nnz }, (_, k) => {
      let index = 0;
      for (let d = 0; d < dims.length; d++) {
        const coordinate = indices.ints![k * dims.length + d]!;
        if (coordinate < 0 || coordinate >= dims[d]!) fail('E_BAD_OFFSETS', `${what}: value ${k} has coordinate ${coordinate} in dimension ${d} of size ${dims[d]}`);
        index = index * dims[d]! + coordinate;
      }
      return index;
    });
  } else return fail('E_BAD_SHAPE', `${what}: indices must be [NNZ] or [NNZ, ${dims.length}] with NNZ = ${nnz}, got [${indices.dims.join(', ')}]`);
  for (let k = 0; k < linear.length; k++) {
    const index = linear[k]!;
    if (index < 0 || index >= denseCount) fail('E_BAD_OFFSETS', `${what}: index ${index} of value ${k} is outside the ${denseCount} elements of [${dims.join(', ')}]`);
    if (k > 0 && index <= linear[k - 1]!) fail('E_BAD_OFFSETS', `${what}: indices must increase (ONNX requires ascending order), but value ${k} has index ${index} after ${linear[k - 1]}`);
  }
  // INT8/UINT8 codes are kept as float32 values (exact); their dataType says they still need dequantizing.
  return { name: values.name, dims, dataType: values.dataType, values: values.floats ?? Float32Array.from(values.ints!), linearIndices: linear };
}

function readDims(dims: readonly bigint[], what: string, maxElements: number): number[] {
  let count = 1;
  return dims.map((dim) => {
    if (dim < 0n || dim > BigInt(maxElements)) fail('E_BAD_SHAPE', `${what} has a dimension ${dim} (dims must be from 0 to ${maxElements})`);
    count *= Number(dim);
    if (count > maxElements) fail('E_BAD_SHAPE', `${what} has more than ${maxElements} elements, the limit`);
    return Number(dim);
  });
}

function onlyTyped(present: readonly number[], allowed: number, what: string, name: string): void {
  const other = present.find((f) => f !== allowed);
  if (other !== undefined) fail('E_ONNX_TENSOR', `${what} keeps its values in field ${other}, not in ${name} (field ${allowed}) or raw_data`);
}

/** A repeated float (4) or double (8) field, in either encoding: one fixed-width field per value, or packed. */
function readFixed(message: ProtoMessage, number: number, name: string, size: 4 | 8, what: string): number[] {
  const fixedType = size === 4 ? WireType.I32 : WireType.I64;
  const out: number[] = [];
  const read = (bytes: Uint8Array, at: number): number => {
    const view = new DataView(bytes.buffer, bytes.byteOffset + at, size);
    return size === 4 ? view.getFloat32(0, true) : view.getFloat64(0, true);
  };
  for (const field of message.raw(number)) {
    if (field.wireType === fixedType) out.push(read(field.bytes, 0));
    else if (field.wireType === WireType.LEN) {
      if (field.bytes.length % size !== 0) fail('E_ONNX_TENSOR', `${what}: packed ${name} has ${field.bytes.length} bytes, not a multiple of ${size}`);
      for (let at = 0; at < field.bytes.length; at += size) out.push(read(field.bytes, at));
    } else fail('E_ONNX_PROTOBUF', `${what}: ${name} has wire type ${field.wireType}, expected ${fixedType} or packed (2)`);
  }
  return out;
}
