/*
 * Control-flow and addressing idioms shared by every hand-assembled kernel, so each kernel file reads as
 * its algorithm rather than as raw opcodes.
 */
import { FunctionBuilder, op } from './assembler.ts';

/** `block loop; exit when the i32 pushed by exitWhen is non-zero; body; repeat`. */
export function whileLoop(f: FunctionBuilder, exitWhen: () => void, body: () => void): void {
  f.emit(op.block, op.loop);
  exitWhen();
  f.emit(op.brIf(1));
  body();
  f.emit(op.br(0), op.end, op.end);
}

/** local += amount (i32). */
export function increment(f: FunctionBuilder, local: number, amount: number | (() => void)): void {
  f.emit(op.get(local));
  if (typeof amount === 'number') f.emit(op.i32(amount));
  else amount();
  f.emit(op.i32Add, op.set(local));
}

/** address = base + index·4 (an element of a float32 or int32 array). */
export function element(f: FunctionBuilder, base: number, index: number): void {
  f.emit(op.get(base), op.get(index), op.i32(2), op.i32Shl, op.i32Add);
}
