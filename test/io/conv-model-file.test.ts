/**
 * Model files with convolutional layers: the architecture (conv2d, pooling, flatten, reshape) is checked as
 * strictly as linear layers are; conv2d weights are stored dense or as CSR of [out, in/groups·kh·kw]; files
 * round-trip byte-identically; the overflow bound covers convolutions. The fuzzing of conv files is in
 * fuzz.test.ts (its seed files include CONV_SPEC models).
 */
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.ts';
import { modelFromRecord, modelToRecord } from '../../src/io/model-adapter.ts';
import { deserializeModel, readModelHeader, serializeModel, validateModelSpec } from '../../src/io/model-file.ts';
import { architectureSpec, buildModel, Conv2d, predict, Rng } from '../../src/index.ts';
import { CONV_SPEC, headerObject, sampleRecord } from '../fixtures/model-files.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof ModelFormatError) return `${error.code}: ${error.message}`;
    throw error;
  }
  return 'accepted';
}

describe('convolutional model files', () => {
  it('round-trip byte-identically, dense and CSR, with and without masks', () => {
    for (const [options, encoding] of [[{ seed: 1 }, 'dense'], [{ seed: 2, sparsity: 0.6 }, 'csr'], [{ seed: 3, sparsity: 0.5, masks: true }, 'csr'], [{ seed: 4, sparsity: 0.5, masks: true }, 'dense']] as const) {
      const bytes = serializeModel(sampleRecord(CONV_SPEC, options), { encoding });
      const again = serializeModel(deserializeModel(bytes), { encoding });
      expect(Buffer.from(again).equals(Buffer.from(bytes)), `${encoding} ${JSON.stringify(options)}`).toBe(true);
    }
  });

  it('store a conv2d weight as CSR of [out, in/groups·kh·kw] and say so in the metadata', () => {
    const bytes = serializeModel(sampleRecord(CONV_SPEC, { seed: 5, sparsity: 0.7 }), { encoding: 'csr' });
    const metadata = headerObject(bytes)['__metadata__'] as Record<string, string>;
    expect(JSON.parse(metadata['encodings']!)['layers.1.weight']).toEqual({ kind: 'csr', shape: [3, 2, 3, 3] });
    const record = deserializeModel(bytes);
    const weight = record.params.get('layers.1.weight')!;
    expect(weight.shape).toEqual([3, 2, 3, 3]);
    expect([weight.csr!.nRows, weight.csr!.nCols]).toEqual([3, 18]);
    const header = readModelHeader(bytes);
    expect(header.params.find((p) => p.name === 'layers.1.weight')).toMatchObject({ encoding: 'csr', shape: [3, 2, 3, 3] });
  });

  it('a pruned LeNet-5 goes through a file and answers the same', () => {
    const model = buildModel(architectureSpec('lenet5'), new Rng(0));
    for (const layer of model.layers) {
      if (!(layer instanceof Conv2d)) continue;
      layer.weight.setMask(Uint8Array.from({ length: layer.weight.value.size }, (_, i) => ((i * 7919) % 10 < 8 ? 0 : 1)));
    }
    const bytes = serializeModel(modelToRecord(model));
    const loaded = modelFromRecord(deserializeModel(bytes));
    expect((loaded.layers[1] as Conv2d).weight.mask).toEqual((model.layers[1] as Conv2d).weight.mask);
    expect(readModelHeader(bytes).params.find((p) => p.name === 'layers.4.weight')!.encoding).toBe('csr');
    const x = Float32Array.from({ length: 2 * 784 }, (_, i) => (i % 11) / 10);
    expect(Array.from(predict(loaded, x, 2).data)).toEqual(Array.from(predict(model, x, 2).data));
    expect(Buffer.from(serializeModel(modelToRecord(loaded))).equals(Buffer.from(bytes))).toBe(true);
  });

  it('refuses architectures whose image layers are malformed or do not chain', () => {
    const conv = { type: 'conv2d', inChannels: 1, outChannels: 2, kernelSize: [3, 3], stride: [1, 1], padding: [0, 0], groups: 1, bias: true };
    const reshape = { type: 'reshape', shape: [1, 5, 5] };
    const spec = (...layers: unknown[]) => ({ layers });
    expect(code(() => validateModelSpec(spec(conv)))).toMatch(/E_BAD_SPEC.*start the model with a reshape/);
    expect(code(() => validateModelSpec(spec(reshape, { ...conv, groups: 2 })))).toMatch(/E_BAD_SPEC.*2 groups, which must divide/);
    expect(code(() => validateModelSpec(spec(reshape, { ...conv, kernelSize: [3] })))).toMatch(/kernelSize \[3\]; it must be a \[height, width\] pair/);
    expect(code(() => validateModelSpec(spec(reshape, { ...conv, stride: [0, 1] })))).toMatch(/stride/);
    expect(code(() => validateModelSpec(spec(reshape, { ...conv, extra: 1 })))).toMatch(/must have exactly/);
    expect(code(() => validateModelSpec(spec(reshape, conv, { type: 'linear', inFeatures: 18, outFeatures: 2, bias: true })))).toMatch(/put a flatten layer before it/);
    expect(code(() => validateModelSpec(spec(reshape, conv, { type: 'flatten' }, { type: 'linear', inFeatures: 17, outFeatures: 2, bias: true })))).toMatch(/takes 17 features but gets \[18\]/);
    expect(code(() => validateModelSpec(spec(reshape, { type: 'maxpool2d', kernelSize: [2, 2], stride: [2, 2], padding: [2, 0] }, conv)))).toMatch(/more than half/);
    expect(code(() => validateModelSpec(spec({ type: 'reshape', shape: [1, -5, 5] }, conv)))).toMatch(/positive integers/);
    expect(code(() => validateModelSpec(spec(reshape, { type: 'flatten', axis: 1 }, conv)))).toMatch(/only a "type" field/);
    expect(code(() => validateModelSpec(spec(reshape, { ...conv, outChannels: 2 ** 20, inChannels: 2 ** 10, kernelSize: [5, 5] }), { maxParams: 1e6 }))).toMatch(/more than 1000000 parameters/);
    expect(code(() => validateModelSpec(spec(reshape, conv)))).toBe('accepted'); // a fully convolutional model
  });

  it('refuses convolution weights that would overflow float32 (E_OVERFLOW)', () => {
    const record = sampleRecord(CONV_SPEC, { seed: 6 });
    record.params.get('layers.4.weight')!.dense!.fill(3e37);
    expect(code(() => serializeModel(record))).toMatch(/E_OVERFLOW.*layer (4|7)/);
  });
});
