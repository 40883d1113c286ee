import { Rng } from '../tensor/rng.ts';
import { Tensor, type DType } from '../tensor/tensor.ts';
import { backward, noGrad } from './graph.ts';
import { Var, variable } from './var.ts';

/** Options of `gradcheck`: the finite-difference step, tolerances, the cotangent's seed and the analytical pass's dtype. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5; 1e-4 with dtype 'float32'). */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
  /** Seed of the random cotangent (default 0). */
  seed?: number;
  /** Element type of the analytical pass (default 'float64'; see `gradcheck` for 'float32'). */
  dtype?: DType;
}

/** What `gradcheck` found. */
export interface GradcheckResult {
  /** True when every element is within atol + rtol·|numerical|. */
  ok: boolean;
  /** Largest |analytical − numerical| over all checked elements. */
  maxError: number;
  /** The worst element relative to its tolerance, for the error message. */
  worst: { input: number; index: number; analytical: number; numerical: number } | null;
}

/**
 * Checks an op's analytical gradients against central finite differences, in float64.
 *
 * For a function f of tensors with a (possibly non-scalar) output, a random cotangent v is drawn and the
 * scalar L = Σ v ⊙ f(x) is differentiated: backward gives ∂L/∂x analytically, and each element is
 * compared with (L(x + h·e) − L(x − h·e)) / 2h. Tolerances follow torch.autograd.gradcheck's float64
 * defaults. Keep inputs away from kinks (ReLU at 0, ties in max) or the comparison is meaningless.
 *
 * With `dtype: 'float32'` the analytical pass runs in float32 on the current backend (this is how the
 * 'wasm-simd' kernels, which compute in float32, are checked) while the finite differences stay float64, at
 * the same point (the inputs rounded to float32). Then the default tolerances are atol 1e-4, rtol 1e-3:
 * float32 carries ~7 significant digits and these small cases sum at most a few dozen terms, so a correct
 * gradient agrees to ~1e-6 relative; a wrong one is off by O(1).
 *
 * `fn` receives one Var per input tensor (copies of `inputs` in the analytical dtype) and returns any Var built
 * from them. Cost: 2·(total input elements) + 1 evaluations of fn. Throws an Error when fn's output does not
 * depend on the inputs (nothing to check), and whatever fn throws.
 *
 * @example
 * ```ts
 * import { gradcheck, matmul, relu, sum, tensor } from 'sparsegrad';
 *
 * const x = tensor([[1, -2], [3, 4]]);
 * const w = tensor([[0.5, -1], [2, 0.25]]);
 * const result = gradcheck((a, b) => sum(relu(matmul(a!, b!))), [x, w]);
 * console.log(result.ok, result.maxError); // true ~1e-10
 * ```
 */
export function gradcheck(fn: (...inputs: Var[]) => Var, inputs: readonly Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  const dtype = options.dtype ?? 'float64';
  const { eps = 1e-6, atol = dtype === 'float32' ? 1e-4 : 1e-5, rtol = 1e-3, seed = 0 } = options;
  const analytical = inputs.map((t) => variable(t.as(dtype).clone()));
  // The finite differences run in float64 at exactly the point of the analytical pass.
  const xs = dtype === 'float64' ? analytical : analytical.map((x) => variable(x.value.as('float64')));
  const out = fn(...analytical);
  const rng = new Rng(seed);
  const cotangent = new Tensor(Float64Array.from({ length: out.value.size }, () => rng.normal()), out.shape);
  const project = (y: Tensor): number => {
    let acc = 0;
    for (let i = 0; i < y.size; i++) acc += y.data[i]! * cotangent.data[i]!;
    return acc;
  };
  if (!out.requiresGrad) throw new Error('gradcheck: the function output does not depend on its inputs');
  backward(out, cotangent.as(out.value.dtype));

  let maxError = 0;
  let worstRatio = -1;
  let worst: GradcheckResult['worst'] = null;
  noGrad(() => {
    xs.forEach((x, inputIndex) => {
      const data = x.value.data;
      for (let i = 0; i < data.length; i++) {
        const original = data[i]!;
        data[i] = original + eps;
        const plus = project(fn(...xs).value);
        data[i] = original - eps;
        const minus = project(fn(...xs).value);
        data[i] = original;
        const numerical = (plus - minus) / (2 * eps);
        const grad = analytical[inputIndex]!.grad;
        const derivative = grad === null ? 0 : grad.data[i]!;
        const error = Math.abs(derivative - numerical);
        const ratio = error / (atol + rtol * Math.abs(numerical));
        maxError = Math.max(maxError, error);
        if (ratio > worstRatio || Number.isNaN(ratio)) {
          worstRatio = Number.isNaN(ratio) ? Infinity : ratio;
          worst = { input: inputIndex, index: i, analytical: derivative, numerical };
        }
      }
    });
  });
  return { ok: worstRatio <= 1, maxError, worst };
}

/** gradcheck that throws an Error describing the worst element when the check fails. */
export function assertGradcheck(name: string, fn: (...inputs: Var[]) => Var, inputs: readonly Tensor[], options: GradcheckOptions = {}): void {
  const result = gradcheck(fn, inputs, options);
  if (!result.ok) {
    const w = result.worst!;
    throw new Error(`gradcheck '${name}' failed: input ${w.input} element ${w.index}: analytical ${w.analytical} vs numerical ${w.numerical}`);
  }
}
