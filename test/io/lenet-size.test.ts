/**
 * The product's size target on a realistic model: at 95 % sparsity the pruned LeNet-300-100 (784-300-100-10)
 * file must be at least 12x smaller than the dense one. With 8 bytes per stored weight (I32 column index +
 * F32 value) CSR cannot get there (about 9.6x); U16 column indices (6 bytes per weight) do.
 */
import { describe, expect, it } from 'vitest';
import { modelFromRecord, modelToRecord } from '../../src/io/model-adapter.ts';
import { deserializeModel, readModelHeader, serializeModel } from '../../src/io/model-file.ts';
import { cloneModel, mlp } from '../../src/nn/index.ts';
import { findTargets, pruneTargets } from '../../src/prune/index.ts';
import { Rng } from '../../src/tensor/rng.ts';

/** LeNet-300-100's weights and biases: 266,200 + 410 = 266,610 parameters. */
const WEIGHTS = 784 * 300 + 300 * 100 + 100 * 10;
const PARAMS = WEIGHTS + 300 + 100 + 10;

describe('model file size: LeNet-300-100 at 95 % sparsity', () => {
  it('the pruned file (auto encoding) is at least 12x smaller than the dense one', () => {
    const model = mlp([784, 300, 100, 10], { seed: 0 });
    const unpruned = cloneModel(model);
    pruneTargets(findTargets(model), 0.95, { criterion: 'magnitude', scope: 'global', granularity: { kind: 'weight' }, rng: new Rng(0) });

    const dense = serializeModel(modelToRecord(unpruned, { encoding: 'dense' }), { encoding: 'dense' });
    const pruned = serializeModel(modelToRecord(model, { encoding: 'auto' }), { encoding: 'auto' });
    const ratio = dense.length / pruned.length;
    console.info(`LeNet-300-100 @ 95 %: dense ${dense.length} bytes, pruned ${pruned.length} bytes, ${ratio.toFixed(2)}x smaller`);

    // The dense file is 4 bytes per parameter plus a header of well under a kilobyte (~1.07 MB in all).
    const denseHeader = readModelHeader(dense);
    expect(dense.length - denseHeader.container.dataStart).toBe(4 * PARAMS);
    expect(denseHeader.container.dataStart).toBeLessThan(1024);
    expect(ratio).toBeGreaterThanOrEqual(12);

    // It really is the pruned model at 95 %, stored as CSR with 16-bit column indices (every width here is < 65,536).
    const header = readModelHeader(pruned);
    const weights = header.params.filter((p) => p.name.endsWith('.weight'));
    expect(weights.map((p) => p.encoding)).toEqual(['csr', 'csr', 'csr']);
    expect(weights.reduce((sum, p) => sum + p.nnz!, 0)).toBe(Math.round(0.05 * WEIGHTS));
    for (const info of header.container.tensors.filter((t) => t.name.endsWith('.csr.indices'))) expect(info.dtype, info.name).toBe('U16');

    // And it loads back to the same weights and masks.
    const reloaded = modelFromRecord(deserializeModel(pruned));
    const original = model.namedParameters();
    reloaded.namedParameters().forEach(([name, p], i) => {
      const [originalName, q] = original[i]!;
      expect(name).toBe(originalName);
      expect(Array.from(p.value.data), name).toEqual(Array.from(q.value.data));
      expect(p.mask === null ? null : Array.from(p.mask), name).toEqual(q.mask === null ? null : Array.from(q.mask));
    });
  });
});
