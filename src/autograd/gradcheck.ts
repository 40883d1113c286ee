import { Rng } from '../tensor/rng.ts';
import { Tensor } from '../tensor/tensor.ts';
import { backward, noGrad } from './graph.ts';
import { Var, variable } from './var.ts';

/**
 * Checks an op's analytical gradients against central finite differences, in float64.
 *
 * For a function f of tensors with a (possibly non-scalar) output, a random cotangent v is drawn and the
 * scalar L = Σ v ⊙ f(x) is differentiated: backward gives ∂L/∂x analytically, and each element is
 * compared with (L(x + h·e) − L(x − h·e)) / 2h. Tolerances follow torch.autograd.gradcheck's float64
 * defaults. Keep inputs away from kinks (ReLU at 0, ties in max) or the comparison is meaningless.
 */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
  /** Seed of the random cotangent (default 0). */
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  /** Largest |analytical − numerical| over all checked elements. */
  maxError: number;
  /** The worst element relative to its tolerance, for the error message. */
  worst: { input: number; index: number; analytical: number; numerical: number } | null;
}

export function gradcheck(fn: (...inputs: Var[]) => Var, inputs: readonly Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, seed = 0 } = options;
  const xs = inputs.map((t) => variable(t.as('float64').clone()));
  const out = fn(...xs);
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
        const analytical = x.grad === null ? 0 : x.grad.data[i]!;
        const error = Math.abs(analytical - numerical);
        const ratio = error / (atol + rtol * Math.abs(numerical));
        maxError = Math.max(maxError, error);
        if (ratio > worstRatio || Number.isNaN(ratio)) {
          worstRatio = Number.isNaN(ratio) ? Infinity : ratio;
          worst = { input: inputIndex, index: i, analytical, numerical };
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
