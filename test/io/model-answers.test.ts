/**
 * A model file must not give silent wrong answers (issue 12, item 4): finite weights that overflow float32
 * in inference are refused (E_OVERFLOW), and so is an architecture without a layer that maps inputs to
 * outputs. Whatever is accepted answers with finite numbers on inputs in [−1, 1].
 */
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.ts';
import { activationBound, MAX_ACTIVATION_BOUND } from '../../src/io/activation-bound.ts';
import { modelFromRecord } from '../../src/io/model-adapter.ts';
import { deserializeModel, denseToCsr, serializeModel, type ModelRecord } from '../../src/io/model-file.ts';
import { encodeSafetensors } from '../../src/io/safetensors.ts';
import type { ModelSpec } from '../../src/nn/spec.ts';
import { predict } from '../../src/nn/train.ts';
import { SMALL_SPEC, sampleRecord } from '../fixtures/model-files.ts';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ModelFormatError);
    return (error as ModelFormatError).code;
  }
  return 'accepted';
}

/** linear(2→2) with the given weights and biases, dense or CSR. */
function tinyModel(weights: number[], bias: number[], csr = false): ModelRecord {
  const spec: ModelSpec = { layers: [{ type: 'linear', inFeatures: 2, outFeatures: 2, bias: true }] };
  const dense = Float32Array.from(weights);
  const weight = csr ? { shape: [2, 2], csr: denseToCsr(2, 2, dense) } : { shape: [2, 2], dense };
  return { spec, params: new Map([['layers.0.weight', weight], ['layers.0.bias', { shape: [2], dense: Float32Array.from(bias) }]]) };
}

/** Every answer for inputs on the corners of [−1, 1]² and at 0 is finite. */
function answersAreFinite(record: ModelRecord): boolean {
  const x = Float32Array.from([-1, -1, -1, 1, 1, -1, 1, 1, 0, 0]);
  return predict(modelFromRecord(record), x, 5).data.every(Number.isFinite);
}

describe('finite weights that overflow in inference', () => {
  it('3e38 weights are refused on load and on save (they answered "class 0, probability NaN")', () => {
    const record = tinyModel([3e38, 3e38, 1, 1], [0, 0]);
    expect(answersAreFinite(record)).toBe(false); // what such a model does when it is run
    expect(codeOf(() => serializeModel(record))).toBe('E_OVERFLOW');
    const bytes = serializeModel(record, {}, { allowNonFinite: true }); // a file another writer could make
    expect(codeOf(() => deserializeModel(bytes))).toBe('E_OVERFLOW');
    expect(() => deserializeModel(bytes)).toThrow(/layer 0 \(linear 2→2\) can output values up to 6\.00e\+38 for inputs in \[-1, 1\]/);
    expect(codeOf(() => deserializeModel(bytes, { allowNonFinite: true }))).toBe('accepted');
  });

  it('the bound is exact at the edge: just below 2^127 is accepted and answers finitely, just above is refused', () => {
    const below = tinyModel([2 ** 125, 2 ** 125, 0, 0], [2 ** 125, 0]); // bound 3·2^125 < 2^127
    expect(activationBound(below.spec, below.params).bound).toBeLessThan(MAX_ACTIVATION_BOUND);
    expect(codeOf(() => deserializeModel(serializeModel(below)))).toBe('accepted');
    expect(answersAreFinite(below)).toBe(true);
    const above = tinyModel([2 ** 126, 2 ** 126, 0, 0], [2 ** 125, 0], true); // 2.5·2^126 > 2^127, stored CSR
    expect(codeOf(() => deserializeModel(serializeModel(above, { encoding: 'csr' }, { allowNonFinite: true })))).toBe('E_OVERFLOW');
  });

  it('follows the layers: a sum of safe layers can overflow, and tanh or sigmoid reset the bound', () => {
    const spec = (squash: 'relu' | 'tanh'): ModelSpec => ({
      layers: [
        { type: 'linear', inFeatures: 2, outFeatures: 2, bias: false },
        { type: squash },
        { type: 'linear', inFeatures: 2, outFeatures: 2, bias: false },
      ],
    });
    const big = { shape: [2, 2], dense: Float32Array.from([1e20, 1e20, 1e20, 1e20]) };
    const params = new Map([['layers.0.weight', big], ['layers.2.weight', big]]);
    expect(codeOf(() => serializeModel({ spec: spec('relu'), params }))).toBe('E_OVERFLOW'); // 2e20 · 2e20 = 4e40
    expect(codeOf(() => serializeModel({ spec: spec('tanh'), params }))).toBe('accepted'); // tanh ≤ 1: 2e20
    expect(answersAreFinite({ spec: spec('tanh'), params })).toBe(true);
  });

  it('ordinary models are far from the limit', () => {
    const record = sampleRecord(SMALL_SPEC, { seed: 3 });
    expect(activationBound(record.spec, record.params).bound).toBeLessThan(1e3);
  });
});

describe('an architecture must map inputs to outputs', () => {
  it('a file whose model has no linear layer is refused (it answered "class 265")', () => {
    const metadata = { format: 'sparsegrad', format_version: '1', model: '{"layers":[{"type":"relu"}]}' };
    const error = (() => {
      try {
        deserializeModel(encodeSafetensors(new Map(), metadata));
      } catch (caught) {
        return caught as ModelFormatError;
      }
      throw new Error('accepted');
    })();
    expect(error.code).toBe('E_BAD_SPEC');
    expect(error.message).toMatch(/has no linear layer; a model needs at least one layer that maps inputs to outputs/);
    expect(codeOf(() => serializeModel({ spec: { layers: [{ type: 'tanh' }, { type: 'dropout', p: 0.5 }] }, params: new Map() }))).toBe('E_BAD_SPEC');
  });
});
