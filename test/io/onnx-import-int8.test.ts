/**
 * ONNX import of int8 weights behind DequantizeLinear (src/io/import/dequantize.ts): sparsegrad's own int8
 * export comes back with exactly the float weights it stands for (dense and sparse codes), the ONNX rule
 * y = (x − zero_point) · scale holds per tensor and per axis with INT8 and UINT8 codes, and every graph that
 * does not describe one dequantization of a constant weight is refused with a typed error.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.ts';
import { importModel } from '../../src/io/import/index.ts';
import { modelFromRecord, modelToRecord } from '../../src/io/model-adapter.ts';
import { csrToDense, deserializeModel, serializeModel } from '../../src/io/model-file.ts';
import { exportOnnx } from '../../src/io/onnx/export.ts';
import { int8WeightsOfRecord } from '../../src/io/onnx/int8-weights.ts';
import { quantizeModel } from '../../src/quantize/index.ts';
import { FLOAT, INT8, intAttribute, model, node, sparseTensor, UINT8, valueInfo, type GraphSpec } from './onnx-builders.ts';

function dense(record: ReturnType<typeof importModel>, name: string): number[] {
  const p = record.params.get(name)!;
  return Array.from(p.csr !== undefined ? csrToDense(p.csr) : p.dense!);
}

describe('ONNX import: sparsegrad’s int8 export round-trips', () => {
  // The 95 %-sparse LeNet-300-100 of the browser example, int8 per row, through a model file.
  const pruned = modelFromRecord(deserializeModel(readFileSync(new URL('../../examples/browser/models/sparse.safetensors', import.meta.url))));
  const record = deserializeModel(serializeModel(modelToRecord(pruned, { quantization: quantizeModel(pruned, { method: 'int8' }) })));
  const floats = modelFromRecord(record); // the dequantized float model the int8 file stands for
  const params = new Map(floats.namedParameters().map(([name, p]) => [name, Float32Array.from(p.value.data)] as const));

  it.each(['auto', 'never'] as const)('with sparseInitializers %s: the imported weights are the dequantized ones, bit for bit', (sparseInitializers) => {
    const bytes = exportOnnx(record.spec, params, { int8Weights: int8WeightsOfRecord(record), sparseInitializers });
    const imported = importModel(bytes, { from: 'onnx' });
    expect(imported.spec.layers.filter((l) => l.type === 'linear').length).toBe(3);
    for (const [name, values] of params) {
      const got = dense(imported, name);
      expect(got.length, name).toBe(values.length);
      let differing = 0;
      for (let i = 0; i < got.length; i++) if (!Object.is(got[i], values[i])) differing++;
      expect(differing, name).toBe(0);
    }
    // Sparse codes with zero points of 0 stay sparse: the 95 %-sparse first layer arrives as CSR.
    if (sparseInitializers === 'auto') expect(imported.params.get('layers.0.weight')!.csr).toBeTruthy();
  });
});

const B = { name: 'B', dims: [2], values: [0.5, -0.5] };
const dq = (codes: string, scale: string, zero?: string, axis?: number): ReturnType<typeof node> =>
  node('DequantizeLinear', zero === undefined ? [codes, scale] : [codes, scale, zero], ['W'], axis === undefined ? [] : [intAttribute('axis', axis)]);
const gemm = node('Gemm', ['x', 'W', 'B'], ['y'], [intAttribute('transB', 1)]);

describe('ONNX import: the DequantizeLinear rule', () => {
  it('per axis 0 (one scale per output row), INT8 codes and zero points', () => {
    const record = importModel(model({
      nodes: [dq('Q', 'S', 'Z', 0), gemm],
      initializers: [{ name: 'Q', dims: [2, 3], values: [-128, 0, 127, 5, -5, 1], type: INT8 }, { name: 'S', dims: [2], values: [0.5, 0.25] }, { name: 'Z', dims: [2], values: [0, 1], type: INT8 }, B],
    }), { from: 'onnx' });
    expect(dense(record, 'layers.0.weight')).toEqual([-64, 0, 63.5, 1, -1.5, 0]);
    expect(Array.from(record.params.get('layers.0.bias')!.dense!)).toEqual(B.values);
  });

  it('per tensor, UINT8 codes with zero point 128, under a MatMul (weight [in, out])', () => {
    const record = importModel(model({
      nodes: [dq('Q', 'S', 'Z'), node('MatMul', ['x', 'W'], ['y'])],
      initializers: [{ name: 'Q', dims: [3, 2], values: [128, 129, 0, 255, 130, 126], type: UINT8 }, { name: 'S', dims: [], values: [0.125] }, { name: 'Z', dims: [], values: [128], type: UINT8 }],
    }), { from: 'onnx' });
    // [in, out] = [[0, 1/8], [-16, 127/8], [2/8, -2/8]] → stored [out, in]
    expect(dense(record, 'layers.0.weight')).toEqual([0, -16, 0.25, 0.125, 15.875, -0.25]);
  });

  it('per axis 1 (the default axis) on a [in, out] weight', () => {
    const record = importModel(model({
      nodes: [dq('Q', 'S'), node('MatMul', ['x', 'W'], ['y'])],
      initializers: [{ name: 'Q', dims: [3, 2], values: [1, 2, 3, 4, 5, 6], type: INT8 }, { name: 'S', dims: [2], values: [1, 10] }],
    }), { from: 'onnx' });
    expect(dense(record, 'layers.0.weight')).toEqual([1, 3, 5, 20, 40, 60]);
  });

  it('sparse codes with a zero point other than 0 become dense (the implicit zeros are −zp·scale)', () => {
    const record = importModel(model({
      nodes: [dq('Q', 'S', 'Z', 0), gemm],
      initializers: [{ name: 'S', dims: [2], values: [1, 2] }, { name: 'Z', dims: [2], values: [0, 3], type: INT8 }, B],
      sparse: [sparseTensor({ name: 'Q', dims: [2], values: [7, 4], type: INT8 }, [1, 5], [2, 3])],
    }), { from: 'onnx' });
    expect(dense(record, 'layers.0.weight')).toEqual([0, 7, 0, -6, -6, 2]);
  });
});

describe('ONNX import: DequantizeLinear graphs it refuses, with the reason', () => {
  const Q = { name: 'Q', dims: [2, 3], values: [1, 2, 3, 4, 5, 6], type: INT8 };
  const S = { name: 'S', dims: [2], values: [1, 2] };
  it.each([
    ['quantized activations (a DequantizeLinear of the input)', { nodes: [node('DequantizeLinear', ['x', 'S'], ['d']), gemm], initializers: [S, B] }, 'E_ONNX_UNSUPPORTED', /dequantizes "x", which the graph computes/],
    ['a scale of the wrong length', { nodes: [dq('Q', 'S3', undefined, 0), gemm], initializers: [Q, { name: 'S3', dims: [3], values: [1, 1, 1] }, B] }, 'E_BAD_SHAPE', /must be \[2\]/],
    ['a zero point of another type than the codes', { nodes: [dq('Q', 'S', 'Z', 0), gemm], initializers: [Q, S, { name: 'Z', dims: [2], values: [0, 0], type: UINT8 }, B] }, 'E_BAD_DTYPE', /zero point "Z" is UINT8 but its codes are INT8/],
    ['a zero point of another shape than the scale', { nodes: [dq('Q', 'S', 'Z', 0), gemm], initializers: [Q, S, { name: 'Z', dims: [1], values: [0], type: INT8 }, B] }, 'E_BAD_SHAPE', /they must match/],
    ['a NaN scale', { nodes: [dq('Q', 'SN', undefined, 0), gemm], initializers: [Q, { name: 'SN', dims: [2], values: [1, NaN] }, B] }, 'E_ONNX_TENSOR', /scales must be finite/],
    ['an axis outside the codes', { nodes: [dq('Q', 'S', undefined, 2), gemm], initializers: [Q, S, B] }, 'E_ONNX_GRAPH', /axis 2, outside the 2 dimensions/],
    ['float "codes"', { nodes: [dq('QF', 'S', undefined, 0), gemm], initializers: [{ ...Q, name: 'QF', type: FLOAT }, S, B] }, 'E_BAD_DTYPE', /takes INT8 or UINT8 codes/],
    ['UINT8 codes past 255', { nodes: [dq('Q', 'S', undefined, 0), gemm], initializers: [{ ...Q, type: UINT8, values: [1, 2, 3, 4, 5, 256] }, S, B] }, 'E_ONNX_TENSOR', /holds 256 in int32_data, outside UINT8/],
    ['INT8 codes used as a weight without DequantizeLinear', { nodes: [node('Gemm', ['x', 'Q', 'B'], ['y'], [intAttribute('transB', 1)])], initializers: [Q, B] }, 'E_BAD_DTYPE', /"Q" is INT8 but the graph computes in FLOAT/],
    ['a dequantized tensor no layer uses', { nodes: [dq('Q', 'S', undefined, 0), node('DequantizeLinear', ['Q', 'S'], ['spare'], [intAttribute('axis', 0)]), gemm], initializers: [Q, S, B] }, 'E_ONNX_GRAPH', /DequantizeLinear output "spare" is not used/],
    ['an output defined twice', { nodes: [dq('Q', 'S', undefined, 0), dq('Q', 'S', undefined, 0), gemm], initializers: [Q, S, B] }, 'E_ONNX_GRAPH', /redefines "W"/],
    ['a Reshape shape that is not INT64', { nodes: [node('Reshape', ['x', 'R'], ['r']), gemm], initializers: [{ name: 'R', dims: [2], values: [-1, 3], type: INT8 }, { ...Q, name: 'W', type: FLOAT }, B] }, 'E_BAD_DTYPE', /ONNX requires INT64/],
  ] as [string, GraphSpec, string, RegExp][])('%s', (_, graph, code, message) => {
    let error: unknown;
    try {
      importModel(model({ inputs: [valueInfo('x', ['N', 3])], ...graph }), { from: 'onnx' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelFormatError);
    expect((error as ModelFormatError).code).toBe(code);
    expect((error as ModelFormatError).message).toMatch(message);
  });
});
