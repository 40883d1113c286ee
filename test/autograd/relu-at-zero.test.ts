/**
 * The ReLU subgradient at exactly 0 is 0, as in PyTorch (`torch.relu(torch.zeros(1)).backward()` leaves
 * grad 0). Gradcheck cannot see this: it keeps inputs away from the kink. So the convention is tested
 * directly, with a non-zero upstream gradient at every 0 input (+0 and −0), on each backend and dtype,
 * through autograd, the tensor op and the SIMD kernel itself. Sizes put zeros both in the 4-lane vector loop
 * and in the scalar tail of the SIMD kernel.
 */
import { describe, expect, it } from 'vitest';
import { backward, relu, variable } from '../../src/autograd/index.ts';
import { BACKENDS, withBackend } from '../../src/tensor/backend.ts';
import { reluBackward } from '../../src/tensor/ops.ts';
import { Tensor, type DType } from '../../src/tensor/tensor.ts';
import { simdInstance, simdReluBackward } from '../../src/tensor/wasm/index.ts';

// 11 inputs: lanes 0–7 run in the vector loop, 8–10 in the scalar tail; zeros in both.
const X = [0, -1, -0, 2, 1e-30, 0, -1e-30, 3, 0, -0, 5];
// Upstream gradient: non-zero everywhere, so a kept 0 input would show.
const DY = X.map((_, i) => i + 1);
// dy where x > 0, else +0.
const EXPECTED = X.map((x, i) => (x > 0 ? DY[i]! : 0));

const arrayOf = (values: readonly number[], dtype: DType): Float32Array | Float64Array => (dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values));

describe('ReLU gradient at exactly 0 (subgradient 0, as in PyTorch)', () => {
  for (const backend of BACKENDS) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`through autograd on ${backend}, ${dtype}`, () => {
        const x = variable(new Tensor(arrayOf(X, dtype), [X.length]));
        withBackend(backend, () => backward(relu(x), new Tensor(arrayOf(DY, dtype), [X.length])));
        // toEqual tells +0 from −0: the gradient at a pruned (zero) input is +0, like PyTorch's.
        expect(Array.from(x.grad!.data)).toEqual(EXPECTED);
      });

      it(`reluBackward on ${backend}, ${dtype}`, () => {
        const dx = withBackend(backend, () => reluBackward(new Tensor(arrayOf(X, dtype), [X.length]), new Tensor(arrayOf(DY, dtype), [X.length])));
        expect(Array.from(dx.data)).toEqual(EXPECTED);
      });
    }
  }

  it('the SIMD kernel itself, at every length up to 11 (vector loop and scalar tail)', () => {
    const simd = simdInstance()!;
    for (let n = 1; n <= X.length; n++) {
      const dx = new Float32Array(n).fill(Number.NaN);
      simdReluBackward(simd, n, Float32Array.from(X.slice(0, n)), Float32Array.from(DY.slice(0, n)), dx);
      expect(Array.from(dx), `n=${n}`).toEqual(EXPECTED.slice(0, n));
    }
  });
});
