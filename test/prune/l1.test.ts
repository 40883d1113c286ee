/**
 * Issue 17, item 5: soft-thresholding by lr·λ is the proximal step of plain SGD only. After an Adam step
 * the matching proximal step thresholds each weight by lr·λ/(√v̂ + ε) (ProxGen, Yun et al. 2021); after a
 * heavy-ball step by lr·λ/(1 − μ). Before the fix λ meant something different for every optimizer.
 */
import { describe, expect, it } from 'vitest';
import { backward, constant, crossEntropy } from '../../src/autograd/index.ts';
import { Adam, AdamW, cloneModel, mlp, SGD } from '../../src/nn/index.ts';
import { findTargets, proximalL1Thresholds, runPruning } from '../../src/prune/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { toyConfig, toyData, toyTrain as train, trainedToyModel } from './helpers.ts';

/** Three Adam steps on a tiny model, returning the model and the gradients each step saw. */
function adamSteps(make: typeof Adam | typeof AdamW): { adam: Adam; grads: Float32Array[]; weight: ReturnType<typeof findTargets>[number]['weight'] } {
  const model = mlp([4, 3, 2], { seed: 1 });
  const adam = new make(model.parameters(), { lr: 0.01 });
  const data = toyData(16, 4, 2, 0);
  const weight = findTargets(model)[0]!.weight;
  const grads: Float32Array[] = [];
  for (let s = 0; s < 3; s++) {
    adam.zeroGrad();
    backward(crossEntropy(model.forward(constant(new Tensor(data.x, [16, 4]))), data.y));
    grads.push(Float32Array.from(weight.grad!.data));
    adam.step();
  }
  return { adam, grads, weight };
}

describe('the proximal step of the optimizer in use', () => {
  for (const make of [Adam, AdamW]) {
    it(`${make.name}: τ_i = lr·λ/(√v̂_i + ε) with Adam's bias-corrected second moment`, () => {
      const { adam, grads, weight } = adamSteps(make);
      const tau = proximalL1Thresholds(adam, weight, 0.5);
      for (let i = 0; i < tau.length; i++) {
        let v = 0;
        for (const g of grads) v = 0.999 * v + 0.001 * g[i]! ** 2;
        const vHat = v / (1 - 0.999 ** 3);
        // Relative 1e-6: on the wasm-simd backend Adam keeps its moments in float32.
        expect(tau[i]! / ((0.01 * 0.5) / (Math.sqrt(vHat) + 1e-8))).toBeCloseTo(1, 6);
      }
    });
  }

  it('SGD: τ = lr·λ (ISTA), and lr·λ/(1 − μ) with heavy-ball momentum μ', () => {
    const p = mlp([2, 2], { seed: 0 }).parameters();
    expect(Array.from(proximalL1Thresholds(new SGD(p, { lr: 0.1 }), p[0]!, 0.2))).toEqual([expect.closeTo(0.02, 12), expect.closeTo(0.02, 12), expect.closeTo(0.02, 12), expect.closeTo(0.02, 12)]);
    expect(proximalL1Thresholds(new SGD(p, { lr: 0.1, momentum: 0.9 }), p[0]!, 0.2)[0]).toBeCloseTo(0.2, 12);
  });
});

describe('l1 end to end', () => {
  const dense = trainedToyModel();

  it('with Adam, a small λ already prunes the weights whose gradients cannot hold them (lr·λ alone pruned ~none)', () => {
    // lr·λ = 5e-7 per step would shrink by 4e-5 over the whole run; the preconditioned step prunes every
    // weight whose gradient is far below λ — here the inputs the toy task ignores.
    const result = runPruning(cloneModel(dense), { train }, toyConfig('l1', { optimizer: 'adam', options: { lambda: 1e-4 } }));
    expect(result.sparsity).toBeGreaterThan(0.2);
  });

  it('takes its strength as lambda (the option was called threshold)', () => {
    expect(() => runPruning(cloneModel(dense), { train }, toyConfig('l1', { options: { threshold: 1e-3 } }))).toThrow(/method 'l1' has no option 'threshold' \(its options: lambda\)/);
  });
});
