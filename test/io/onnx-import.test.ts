/**
 * The ONNX reader's strictness, case by case: graphs the importer must refuse (each with a typed error naming
 * the node, operator or tensor) and malformed protobuf (truncation, wrong wire types, groups, long varints).
 * Graphs are built here with the library's protobuf writer; field numbers as in src/io/onnx/onnx-graph.ts.
 */
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.ts';
import { importModel } from '../../src/io/import/index.ts';
import { ProtoWriter } from '../../src/io/onnx/protobuf.ts';
import { FLOAT, FLOAT16, INT64, intAttribute, model, node, tensor, valueInfo, type GraphSpec } from './onnx-builders.ts';

const W = { name: 'W', dims: [2, 3], values: [1, 2, 3, 4, 5, 6] };
const B = { name: 'B', dims: [2], values: [0.5, -0.5] };
const gemm = (input = 'x', output = 'y'): ProtoWriter => node('Gemm', [input, 'W', 'B'], [output], [intAttribute('transB', 1)]);

function refusal(bytes: Uint8Array): ModelFormatError {
  try {
    importModel(bytes, { from: 'onnx' });
  } catch (error) {
    expect(error).toBeInstanceOf(ModelFormatError);
    return error as ModelFormatError;
  }
  throw new Error('expected the import to be refused');
}

describe('ONNX import: the baseline graph imports', () => {
  it('Gemm(x, W, B) with transB = 1', () => {
    const record = importModel(model({ nodes: [gemm()], initializers: [W, B] }));
    expect(record.spec.layers).toEqual([{ type: 'linear', inFeatures: 3, outFeatures: 2, bias: true }]);
    expect(Array.from(record.params.get('layers.0.weight')!.dense!)).toEqual(W.values);
  });
});

describe('ONNX import: graphs it refuses, with the reason', () => {
  const sparse = (indices: number[], dims = [2, 3]): ProtoWriter =>
    new ProtoWriter().message(1, tensor({ name: 'W', dims: [indices.length], values: indices.map(() => 1) })).message(2, tensor({ name: '', dims: [indices.length], values: indices, type: INT64 })).varint(3, dims[0]!).varint(3, dims[1]!);
  it.each([
    ['an unknown operator, named', { nodes: [node('LSTM', ['x', 'W'], ['y'])], initializers: [W] }, 'E_ONNX_UNSUPPORTED', /\(LSTM\): the operator LSTM is not imported/],
    ['a branch (a node that does not read the previous output)', { nodes: [node('Relu', ['x'], ['r']), node('Gemm', ['x', 'W', 'B'], ['y'], [intAttribute('transB', 1)])], initializers: [W, B] }, 'E_ONNX_UNSUPPORTED', /comes before any layer/],
    ['a node that reads another tensor', { nodes: [node('Gemm', ['x', 'W', 'B'], ['h'], [intAttribute('transB', 1)]), node('Relu', ['x'], ['y'])], initializers: [W, B] }, 'E_ONNX_GRAPH', /reads "x", not "h"/],
    ['two graph inputs', { nodes: [gemm()], initializers: [W, B], inputs: [valueInfo('x', ['N', 3]), valueInfo('z', ['N', 3])] }, 'E_ONNX_GRAPH', /exactly one input/],
    ['an unused initializer', { nodes: [gemm()], initializers: [W, B, { name: 'spare', dims: [1], values: [0] }] }, 'E_ONNX_GRAPH', /"spare" is not used/],
    ['layers that do not chain', { nodes: [gemm('x', 'h'), node('Gemm', ['h', 'W', 'B'], ['y'], [intAttribute('transB', 1)])], initializers: [W, B] }, 'E_BAD_SHAPE', /takes 3 inputs but gets 2/],
    ['an input width the weight does not take', { nodes: [gemm()], initializers: [W, B], inputs: [valueInfo('x', ['N', 4])] }, 'E_BAD_SHAPE', /takes 3 inputs but gets 4/],
    ['dims that lie about the data', { nodes: [gemm()], initializers: [{ ...W, dims: [2, 4] }, B] }, 'E_BAD_SHAPE', /has 6 values but its dims \[2, 4\] need 8/],
    ['a weight computed by the graph', { nodes: [node('Gemm', ['x', 'x', 'B'], ['y'], [intAttribute('transB', 1)])], initializers: [B] }, 'E_ONNX_UNSUPPORTED', /weight "x" must be a constant/],
    ['transA = 1', { nodes: [node('Gemm', ['x', 'W', 'B'], ['y'], [intAttribute('transA', 1), intAttribute('transB', 1)])], initializers: [W, B] }, 'E_ONNX_UNSUPPORTED', /transA = 1/],
    ['an operator from another domain', { nodes: [node('Gemm', ['x', 'W', 'B'], ['y'], [intAttribute('transB', 1)], 'com.microsoft')], initializers: [W, B] }, 'E_ONNX_UNSUPPORTED', /domain "com.microsoft"/],
    ['an opset newer than the importer knows', { nodes: [gemm()], initializers: [W, B], opset: 99 }, 'E_ONNX_UNSUPPORTED', /opset 99/],
    ['no default-domain opset', { nodes: [gemm()], initializers: [W, B], domain: 'ai.onnx.ml' }, 'E_ONNX_GRAPH', /no default-domain opset/],
    ['weights of another type than the graph', { nodes: [gemm()], initializers: [{ ...W, type: FLOAT16 }, B] }, 'E_BAD_DTYPE', /"W" is FLOAT16 but the graph computes in FLOAT/],
    ['a Flatten after a fully connected layer', { nodes: [gemm('x', 'h'), node('Flatten', ['h'], ['y'])], initializers: [W, B] }, 'E_ONNX_UNSUPPORTED', /comes after a fully connected layer/],
    ['a Reshape that fixes the batch', { nodes: [node('Reshape', ['x', 'S'], ['r']), gemm('r')], initializers: [W, B, { name: 'S', dims: [2], values: [4, 3], type: INT64 }] }, 'E_ONNX_UNSUPPORTED', /batch dimension must stay free/],
    ['an Add that is not a bias', { nodes: [node('Add', ['x', 'x'], ['y'])] }, 'E_ONNX_UNSUPPORTED', /Add is imported only as the bias/],
    ['a chain that does not reach the output', { nodes: [gemm('x', 'h')], initializers: [W, B] }, 'E_ONNX_GRAPH', /ends at "h", but the graph's output is "y"/],
    ['sparse indices that do not increase', { nodes: [node('Gemm', ['x', 'W'], ['y'], [intAttribute('transB', 1)])], sparse: [sparse([4, 1])] }, 'E_BAD_OFFSETS', /indices must increase/],
    ['sparse indices out of range', { nodes: [node('Gemm', ['x', 'W'], ['y'], [intAttribute('transB', 1)])], sparse: [sparse([1, 6])] }, 'E_BAD_OFFSETS', /index 6 of value 1 is outside the 6 elements/],
  ] as [string, GraphSpec, string, RegExp][])('%s', (_, graph, code, message) => {
    const error = refusal(model(graph));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('refuses weights kept in an external file', () => {
    const external = new ProtoWriter().varint(1, 2).varint(1, 3).varint(2, FLOAT).string(8, 'W').varint(14, 1);
    const graph = new ProtoWriter().message(1, gemm()).message(5, external).message(5, tensor(B)).message(11, valueInfo('x', ['N', 3])).message(12, valueInfo('y', ['N', 2]));
    const bytes = new ProtoWriter().varint(1, 7).message(7, graph).message(8, new ProtoWriter().varint(2, 13)).finish();
    expect(refusal(bytes).message).toMatch(/external file/);
  });
});

describe('ONNX import: malformed protobuf', () => {
  const good = model({ nodes: [gemm()], initializers: [W, B] });
  it.each([
    ['an empty file', new Uint8Array(0), /empty/],
    ['a truncated file', good.subarray(0, good.length - 5), /runs? past|remain|truncated/],
    ['ir_version written as a string (wrong wire type)', new ProtoWriter().string(1, '7').finish(), /ir_version \(field 1\) has wire type 2, expected 0/],
    ['a start-group wire type', Uint8Array.of(0x0b), /groups are not supported/],
    ['wire type 7', Uint8Array.of(0x0f), /not a protobuf wire type/],
    ['field number 0', Uint8Array.of(0x00, 0x01), /invalid field number 0/],
    ['a varint longer than 10 bytes', Uint8Array.of(0x08, ...new Array<number>(11).fill(0xff)), /varint/],
    ['a varint past 64 bits', Uint8Array.of(0x08, ...new Array<number>(9).fill(0xff), 0x7f), /overflows 64 bits/],
    ['a length past the end', Uint8Array.of(0x08, 0x07, 0x3a, 0x7f, 0x00), /declares 127 bytes but only 1 remain/],
    ['a string that is not UTF-8', new ProtoWriter().varint(1, 7).message(8, new ProtoWriter().bytes(1, Uint8Array.of(0xc3, 0x28)).varint(2, 13)).finish(), /not valid UTF-8/],
  ] as [string, Uint8Array, RegExp][])('%s', (_, bytes, message) => {
    const error = refusal(bytes);
    expect(error.code).toMatch(/^E_ONNX_PROTOBUF$|^E_ONNX_GRAPH$/);
    expect(error.message).toMatch(message);
  });

  it('skips unknown fields of every wire type, as protobuf prescribes', () => {
    const bytes = new Uint8Array([...good, ...new ProtoWriter().varint(100, 5).float(101, 1.5).string(102, 'x').double(103, 2).finish()]);
    expect(importModel(bytes, { from: 'onnx' }).spec.layers.length).toBe(1);
  });
});
