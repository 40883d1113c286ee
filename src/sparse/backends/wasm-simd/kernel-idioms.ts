/*
 * Code fragments the inference kernels (kernels-*.ts) share: starting accumulators at the bias and ReLU.
 */
import { FunctionBuilder, op } from '../../../wasm/assembler.ts';
import { element } from '../../../wasm/emit.ts';

/** The vector accumulators of one output row start at its bias, splatted to all lanes. */
export function startAtBias(f: FunctionBuilder, bias: number, row: number, accumulators: readonly number[]): void {
  const first = accumulators[0]!;
  element(f, bias, row);
  f.emit(op.v128Load32Splat(0), op.set(first));
  for (const a of accumulators.slice(1)) f.emit(op.get(first), op.set(a));
}

/**
 * When `relu` is set: every accumulator = ReLU(accumulator), keeping NaN (as the TypeScript kernels'
 * `z < 0 ? 0 : z`). Vectors use the pseudo-maximum pmax(z, 0) = z < 0 ? 0 : z — one instruction on x64,
 * where f32x4.max, which must order ±0 and propagate NaN from either side, takes eight.
 */
export function applyRelu(f: FunctionBuilder, relu: number, accumulators: readonly number[], vector: boolean): void {
  f.emit(op.get(relu), op.if);
  for (const a of accumulators) {
    f.emit(op.get(a), vector ? op.v128Zero : op.f32zero, vector ? op.f32x4Pmax : op.f32Max, op.set(a));
  }
  f.emit(op.end);
}
