/**
 * modelToRecord / modelFromRecord, the adapter between live models and model-file records: which encoding
 * each parameter gets, how masks travel (a mask tensor for dense weights, the CSR structure itself for CSR
 * ones, nothing for an all-kept mask), training metadata, and the errors for records that lack a parameter.
 * Mutation testing found these only exercised indirectly (through CLI and compile tests outside the io scope).
 */
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.ts';
import { modelFromRecord, modelToRecord } from '../../src/io/model-adapter.ts';
import { csrToDense, denseToCsr, type ModelRecord, type ParamRecord } from '../../src/io/model-file.ts';
import { mlp, type Sequential } from '../../src/nn/index.ts';

/** A 4-3-2 MLP whose first weight is 75 % pruned (mask and zeros) and whose last weight has an all-kept mask. */
function prunedModel(): Sequential {
  const model = mlp([4, 3, 2], { seed: 3 });
  const [first, , last] = model.parameters();
  first!.setMask(Uint8Array.from({ length: 12 }, (_, i) => (i % 4 === 0 ? 1 : 0)));
  last!.setMask(new Uint8Array(6).fill(1));
  return model;
}

const weights = (model: Sequential): number[][] => model.parameters().map((p) => Array.from(p.value.data));
const masks = (model: Sequential): (number[] | null)[] => model.parameters().map((p) => (p.mask === null ? null : Array.from(p.mask)));

describe('modelToRecord', () => {
  it('dense encoding: every parameter dense (copied), masks as mask tensors', () => {
    const model = prunedModel();
    const record = modelToRecord(model, { encoding: 'dense' });
    expect(record.spec).toEqual(model.spec());
    expect([...record.params.keys()]).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']);
    const w0 = record.params.get('layers.0.weight')!;
    expect(w0.shape).toEqual([3, 4]);
    expect(Array.from(w0.dense!)).toEqual(weights(model)[0]);
    expect(Array.from(w0.mask!)).toEqual(masks(model)[0]);
    expect(w0.csr).toBeUndefined();
    expect(record.params.get('layers.0.bias')!.mask).toBeUndefined();
    model.parameters()[0]!.value.data[0] = 99; // the record holds copies
    model.parameters()[0]!.mask![1] = 1;
    expect(w0.dense![0]).not.toBe(99);
    expect(w0.mask![1]).toBe(0);
    expect('training' in record).toBe(false);
  });

  it('csr encoding: 2-D weights as CSR built from their masks (no mask tensor), biases stay dense; training kept', () => {
    const model = prunedModel();
    const record = modelToRecord(model, { encoding: 'csr', training: { epochs: 3 } });
    const w0 = record.params.get('layers.0.weight')!;
    expect(w0.dense).toBeUndefined();
    expect(w0.mask).toBeUndefined();
    expect(w0.csr!.values.length).toBe(3); // the kept entries, one per row
    expect(Array.from(csrToDense(w0.csr!))).toEqual(weights(model)[0]);
    expect(record.params.get('layers.0.bias')!.dense).toBeInstanceOf(Float32Array);
    expect(record.params.get('layers.0.bias')!.csr).toBeUndefined();
    expect(record.training).toEqual({ epochs: 3 });
  });

  it('auto (the default) picks CSR only where it is smaller', () => {
    const record = modelToRecord(prunedModel());
    expect(record.params.get('layers.0.weight')!.csr).toBeDefined(); // 75 % pruned
    expect(record.params.get('layers.2.weight')!.dense).toBeDefined(); // fully kept
  });
});

describe('modelFromRecord', () => {
  for (const encoding of ['dense', 'csr'] as const) {
    it(`rebuilds the same weights and masks from a ${encoding} record; an all-kept mask becomes no mask`, () => {
      const model = prunedModel();
      const rebuilt = modelFromRecord(modelToRecord(model, { encoding }));
      expect(rebuilt.spec()).toEqual(model.spec());
      expect(weights(rebuilt)).toEqual(weights(model));
      expect(masks(rebuilt)).toEqual([masks(model)[0], null, null, null]);
    });
  }

  it('a CSR weight without a mask tensor is masked by its structure (a stored zero stays trainable); an explicit mask wins', () => {
    const spec = mlp([3, 2], { seed: 1 }).spec();
    const weight = Float32Array.from([1, 0, 0, 0, 2, 0]);
    const structure = Uint8Array.from([1, 1, 0, 0, 1, 0]); // entry 1 is stored, with value 0
    const csr = denseToCsr(2, 3, weight, structure);
    const bias = { shape: [2], dense: new Float32Array(2) };
    const fromStructure = modelFromRecord({ spec, params: new Map<string, ParamRecord>([['layers.0.weight', { shape: [2, 3], csr }], ['layers.0.bias', bias]]) });
    expect(Array.from(fromStructure.parameters()[0]!.mask!)).toEqual(Array.from(structure));
    const explicit = Uint8Array.from([1, 0, 0, 0, 1, 0]);
    const fromMask = modelFromRecord({ spec, params: new Map<string, ParamRecord>([['layers.0.weight', { shape: [2, 3], csr, mask: explicit }], ['layers.0.bias', bias]]) });
    expect(Array.from(fromMask.parameters()[0]!.mask!)).toEqual(Array.from(explicit));
    expect(Array.from(fromMask.parameters()[0]!.value.data)).toEqual(Array.from(weight));
  });

  it('refuses a record that lacks a parameter or its data, naming it', () => {
    const record = modelToRecord(prunedModel(), { encoding: 'dense' });
    const without: ModelRecord = { spec: record.spec, params: new Map([...record.params].filter(([name]) => name !== 'layers.2.bias')) };
    expect(() => modelFromRecord(without)).toThrow(ModelFormatError);
    expect(() => modelFromRecord(without)).toThrow('the model file has no parameter layers.2.bias');
    const empty: ModelRecord = { spec: record.spec, params: new Map([...record.params].map(([name, p]) => [name, name === 'layers.0.bias' ? { shape: p.shape } : p])) };
    expect(() => modelFromRecord(empty)).toThrow('parameter layers.0.bias has neither dense nor CSR data');
  });
});
