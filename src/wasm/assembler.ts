/*
 * A minimal WebAssembly binary writer, enough to hand-assemble the SIMD kernels (src/sparse/backends/wasm-simd/kernels.ts
 * and the training kernels) from TypeScript with no toolchain and no dependency: one imported memory, functions whose parameters are all
 * i32 (sizes, flags and byte addresses) and that return nothing, exported by name.
 *
 * Format reference: the WebAssembly core spec, "Binary Format" (module = magic, version, sections; each
 * section = id, byte length, payload; integers in LEB128) and the SIMD proposal's opcode table (prefix 0xfd
 * followed by a LEB128 opcode). Only the instructions the kernels use are listed in `op`.
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValueType = typeof I32 | typeof F32 | typeof V128;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const simd = (code: number): number[] => [0xfd, ...uleb(code)];
/** Memory access immediate: log2 of the alignment, then the constant byte offset added to the address. */
const memarg = (alignLog2: number, offset: number): number[] => [alignLog2, ...uleb(offset)];

/** The instructions the kernels use, as byte sequences. Stack effects are in the comments. */
export const op = {
  block: [0x02, 0x40], // start of a block without result; `br` to it jumps past its `end`
  if: [0x04, 0x40], // [i32] → [], runs the instructions up to its `end` when non-zero
  loop: [0x03, 0x40], // start of a loop; `br` to it jumps back to its start
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)], // [i32] → [], branch when non-zero
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  i32: (value: number) => [0x41, ...sleb(value)],
  f32zero: [0x43, 0, 0, 0, 0],
  i32Load: (offset = 0) => [0x28, ...memarg(2, offset)], // [addr] → [i32]
  f32Load: (offset = 0) => [0x2a, ...memarg(2, offset)], // [addr] → [f32]
  f32Store: (offset = 0) => [0x38, ...memarg(2, offset)], // [addr, f32] → []
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32Shl: [0x74],
  i32GeU: [0x4f],
  i32GtU: [0x4b],
  i32And: [0x71],
  i32GeS: [0x4e],
  f32Ne: [0x5c],
  f32Add: [0x92],
  f32Mul: [0x94],
  f32Max: [0x97],
  v128Load: (offset = 0) => [...simd(0x00), ...memarg(4, offset)], // [addr] → [v128]
  v128Store: (offset = 0) => [...simd(0x0b), ...memarg(4, offset)], // [addr, v128] → []
  v128Load32Splat: (offset = 0) => [...simd(0x09), ...memarg(2, offset)], // [addr] → [f32 in all 4 lanes]
  v128Zero: [...simd(0x0c), ...new Array<number>(16).fill(0)], // v128.const 0
  f32x4ExtractLane: (lane: number) => [...simd(0x1f), lane], // [v128] → [f32]
  f32x4Add: simd(0xe4),
  f32x4Mul: simd(0xe6),
  f32x4Max: simd(0xe9),
};

/** One function: its i32 parameters, its extra locals (numbered after the parameters) and its body. */
export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly localTypes: ValueType[] = [];

  constructor(readonly name: string, readonly paramCount: number) {}

  /** A new local of the given type; returns its index. */
  local(type: ValueType): number {
    this.localTypes.push(type);
    return this.paramCount + this.localTypes.length - 1;
  }

  emit(...instructions: number[][]): void {
    for (const bytes of instructions) this.code.push(...bytes);
  }

  /** The function body in binary form: local declarations (run-length by type), code, `end`. */
  encodeBody(): number[] {
    const runs: [number, ValueType][] = [];
    for (const type of this.localTypes) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === type) last[0]++;
      else runs.push([1, type]);
    }
    const body = [...vector(runs.map(([count, type]) => [...uleb(count), type])), ...this.code, ...op.end];
    return [...uleb(body.length), ...body];
  }
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** A name as length-prefixed bytes. Names here are ASCII identifiers, so no UTF-8 encoder is needed (the core
 * is type-checked without DOM or Node types, where TextEncoder is not declared). */
function name(text: string): number[] {
  const bytes = Array.from(text, (ch) => {
    const code = ch.charCodeAt(0);
    if (code > 0x7e || code < 0x20) throw new RangeError(`wasm names must be printable ASCII, got ${JSON.stringify(text)}`);
    return code;
  });
  return [...uleb(bytes.length), ...bytes];
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

/**
 * The module: a memory imported as env.memory (at least `minPages` pages of 64 KiB), the functions with
 * type (i32 × paramCount) → (), each exported under its name.
 */
export function assembleModule(functions: FunctionBuilder[], minPages: number): Uint8Array {
  const types = vector(functions.map((f) => [0x60, ...uleb(f.paramCount), ...new Array<number>(f.paramCount).fill(I32), 0]));
  const imports = vector([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(minPages)]]);
  const declarations = vector(functions.map((_, i) => uleb(i)));
  const exports = vector(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]));
  const code = vector(functions.map((f) => f.encodeBody()));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, types),
    ...section(2, imports),
    ...section(3, declarations),
    ...section(7, exports),
    ...section(10, code),
  ]);
}
