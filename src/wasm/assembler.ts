/*
 * A minimal WebAssembly binary writer, enough to hand-assemble the SIMD kernels (src/sparse/backends/wasm-simd/kernels.ts
 * and the training kernels in src/tensor/wasm) from TypeScript with no toolchain and no dependency: one imported memory
 * (optionally shared, for threads), functions whose parameters are i32 (sizes, flags and byte addresses) or f32
 * (scalars such as a learning rate) and that return nothing, exported by name.
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
  if: [0x04, 0x40], // [i32] → [], runs the instructions up to its `end` (or `else`) when non-zero
  else: [0x05], // inside an `if`: what runs when the condition was zero, up to the `end`
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
  // Added for the training kernels (src/tensor/wasm).
  return: [0x0f],
  drop: [0x1a],
  select: [0x1b], // [a, b, i32] → [a if the i32 is non-zero, else b]
  f32Const: (value: number) => [0x43, ...f32Bytes(value)],
  i32Store: (offset = 0) => [0x36, ...memarg(2, offset)], // [addr, i32] → []
  i32Eqz: [0x45],
  i32Eq: [0x46],
  i32Ne: [0x47],
  i32LtS: [0x48],
  i32LtU: [0x49],
  i32GtS: [0x4a],
  i32LeU: [0x4d],
  i32ShrU: [0x76],
  i32Or: [0x72],
  f32Sub: [0x93],
  f32Div: [0x95],
  f32Sqrt: [0x91],
  f32Gt: [0x5e],
  i32Load8U: (offset = 0) => [0x2d, ...memarg(0, offset)], // [addr] → [i32], one byte zero-extended
  v128Const: (bytes: readonly number[]) => [...simd(0x0c), ...bytes], // 16 bytes, lane 0 first
  i8x16Shuffle: (lanes: readonly number[]) => [...simd(0x0d), ...lanes], // [a, b] → [16 bytes picked from a‖b]
  f32x4Splat: simd(0x13), // [f32] → [v128]
  i32x4Ne: simd(0x38),
  f32x4Gt: simd(0x44), // lanes all ones where a > b (false for NaN)
  v128And: simd(0x4e),
  f32x4Sqrt: simd(0xe3),
  f32x4Sub: simd(0xe5),
  f32x4Div: simd(0xe7),
  // Added for the sparse inference kernels' gathers, lane-wise stores and input scan (src/sparse/backends/wasm-simd).
  i32Load16U: (offset = 0) => [0x2f, ...memarg(1, offset)], // [addr] → [i32], two bytes zero-extended
  v128Load32Zero: (offset = 0) => [...simd(0x5c), ...memarg(2, offset)], // [addr] → [f32 in lane 0, zeros]
  v128Load32Lane: (offset: number, lane: number) => [...simd(0x56), ...memarg(2, offset), lane], // [addr, v128] → [v128 with lane replaced]
  v128Store32Lane: (offset: number, lane: number) => [...simd(0x5a), ...memarg(2, offset), lane], // [addr, v128] → [], stores one lane
  i32x4ExtractLane: (lane: number) => [...simd(0x1b), lane], // [v128] → [i32]
  f32x4ReplaceLane: (lane: number) => [...simd(0x20), lane], // [v128, f32] → [v128]
  f32x4Ne: simd(0x42), // lanes all ones where a ≠ b (true for NaN)
  i32x4Add: simd(0xae),
  i32x4Sub: simd(0xb1),
  f32x4Pmax: simd(0xeb), // [a, b] → a < b ? b : a per lane (pseudo-maximum: a NaN in a stays; one maxps on x64)
  // Added for the int8 inference kernels (src/sparse/backends/wasm-int8): integer dot products and quantization.
  i32Load8S: (offset = 0) => [0x2c, ...memarg(0, offset)], // [addr] → [i32], one byte sign-extended
  f32ConvertI32S: [0xb2], // [i32] → [f32]
  f32Abs: [0x8b],
  i32x4Splat: simd(0x11), // [i32] → [v128]
  v128Load8x8S: (offset = 0) => [...simd(0x01), ...memarg(3, offset)], // [addr] → [8 bytes sign-extended to i16x8]
  v128Load8Splat: (offset = 0) => [...simd(0x07), ...memarg(0, offset)], // [addr] → [one byte in all 16 lanes]
  v128Load16Splat: (offset = 0) => [...simd(0x08), ...memarg(1, offset)], // [addr] → [one i16 in all 8 lanes]
  i8x16NarrowI16x8S: simd(0x65), // [a, b] → [a's 8 lanes then b's, each saturated to i8]
  f32x4Nearest: simd(0x6a), // round to nearest, ties to even
  i32x4ExtaddPairwiseI16x8S: simd(0x7e), // [v] → [v0+v1, v2+v3, v4+v5, v6+v7] as i32
  i16x8NarrowI32x4S: simd(0x85), // [a, b] → [a's 4 lanes then b's, each saturated to i16]
  i16x8Add: simd(0x8e),
  i16x8ExtmulLowI8x16S: simd(0x9c), // [a, b] → lanes 0–7 of a·b as i16 (exact for i8 inputs)
  i16x8ExtmulHighI8x16S: simd(0x9d), // lanes 8–15
  i32x4ExtendLowI16x8S: simd(0xa7), // [v] → lanes 0–3 sign-extended to i32
  i32x4ExtendHighI16x8S: simd(0xa8), // lanes 4–7
  i32x4DotI16x8S: simd(0xba), // [a, b] → [a0·b0 + a1·b1, a2·b2 + a3·b3, …] as i32 (pmaddwd on x64)
  f32x4Abs: simd(0xe0),
  i32x4TruncSatF32x4S: simd(0xf8), // [v] → i32 lanes, saturating; NaN → 0
  f32x4ConvertI32x4S: simd(0xfa),
  // Added for the int8 batch-1 swizzle kernel (src/sparse/backends/wasm-int8/kernels-int8-swizzle.ts).
  i8x16Swizzle: simd(0x0e), // [table, indices] → [table[indices[i]] per byte; 0 where an index is ≥ 16]
  v128AnyTrue: simd(0x53), // [v] → [i32 1 if any bit is set, else 0]
  i16x8ExtendLowI8x16S: simd(0x87), // [v] → bytes 0–7 sign-extended to i16
  i16x8ExtendHighI8x16S: simd(0x88), // bytes 8–15
};

/** The four little-endian bytes of a float32 (for f32.const). */
function f32Bytes(value: number): number[] {
  return Array.from(new Uint8Array(new Float32Array([value]).buffer));
}

/** i8x16.shuffle lanes that pick 32-bit lanes `picks` (0–3 from the first operand, 4–7 from the second). */
export function shuffle32(picks: readonly [number, number, number, number]): number[] {
  return picks.flatMap((lane) => [4 * lane, 4 * lane + 1, 4 * lane + 2, 4 * lane + 3]);
}

/**
 * One function: its parameters (all i32 unless `paramTypes` says otherwise), its extra locals (numbered
 * after the parameters) and its body.
 */
export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly localTypes: ValueType[] = [];
  readonly paramTypes: readonly ValueType[];

  constructor(readonly name: string, readonly paramCount: number, paramTypes?: readonly ValueType[]) {
    if (paramTypes !== undefined && paramTypes.length !== paramCount) throw new RangeError(`${name}: ${paramTypes.length} parameter types for ${paramCount} parameters`);
    this.paramTypes = paramTypes ?? new Array<ValueType>(paramCount).fill(I32);
  }

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

/** How the imported memory is declared: `shared` memories (for threads) must state a maximum. */
export interface MemoryImport {
  shared?: boolean;
  maxPages?: number;
}

/** The import section's payload: env.memory with the limits `memory` asks for. */
function memoryImport(minPages: number, memory: MemoryImport): number[] {
  if (memory.shared === true && memory.maxPages === undefined) throw new RangeError('a shared memory needs maxPages');
  // Limits: 0x00 min; 0x01 min, max; 0x03 shared min, max (the threads proposal).
  const limits = memory.maxPages === undefined ? [0x00, ...uleb(minPages)] : [memory.shared === true ? 0x03 : 0x01, ...uleb(minPages), ...uleb(memory.maxPages)];
  return vector([[...name('env'), ...name('memory'), 0x02, ...limits]]);
}

/**
 * The module: a memory imported as env.memory (at least `minPages` pages of 64 KiB; shared and/or with a
 * maximum when `memory` says so), the functions with type (paramTypes) → (), each exported under its name.
 */
export function assembleModule(functions: FunctionBuilder[], minPages: number, memory: MemoryImport = {}): Uint8Array {
  const types = vector(functions.map((f) => [0x60, ...uleb(f.paramCount), ...f.paramTypes, 0]));
  const imports = memoryImport(minPages, memory);
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

/**
 * The same module (made by assembleModule) with its memory import declared as `memory` says — e.g. shared,
 * so worker threads can instantiate it on one memory — and at least `minPages` pages.
 */
export function withMemoryImport(module: Uint8Array, minPages: number, memory: MemoryImport): Uint8Array {
  const out = Array.from(module.subarray(0, 8));
  for (let at = 8; at < module.length;) {
    const id = module[at]!;
    let size = 0;
    let shift = 0;
    let byte: number;
    let p = at + 1;
    do {
      byte = module[p++]!;
      size |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    out.push(...(id === 2 ? section(2, memoryImport(minPages, memory)) : Array.from(module.subarray(at, p + size))));
    at = p + size;
  }
  return new Uint8Array(out);
}
