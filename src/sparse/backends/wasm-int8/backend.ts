import { UnsupportedError } from '../../../errors.ts';
import type { InferenceBackend } from '../../inference/backend.ts';
import { ConvNetworkModel } from '../../inference/conv-model.ts';
import { WasmArena } from '../wasm-simd/arena.ts';
import { compileWasmConvStage } from '../wasm-simd/conv.ts';
import { WASM_COST_MODEL } from '../wasm-simd/cost-model.ts';
import { instantiateKernels } from '../wasm-simd/kernels.ts';
import { INT8_COST_MODEL } from './cost-model.ts';
import { instantiateInt8Kernels, instantiateSharedInt8Kernels, int8KernelsSupported } from './kernels.ts';
import { Int8Model } from './model.ts';

/**
 * The int8 WebAssembly SIMD backend: weights quantized to int8 per row (exactly the codes of an int8 model
 * file), activations quantized per sample on the fly, int8 × int8 products summed in int32
 * (i32x4.dot_i16x8_s), bias and ReLU applied after rescaling. Results are within
 * 8-bit rounding of the float model, not bit-equal to it, which is why it is a backend of its own that a
 * user picks, rather than kernels that the float backend's 'auto' could choose behind the user's back.
 *
 * Convolution layers (a LeNet-5's first layers) run on the float32 WebAssembly SIMD convolution kernels
 * (wasm-simd/conv.ts) with the weights as given — for a quantized model file, the dequantized values, which
 * are exactly what its codes stand for — and only the fully connected layers after them run on int8 kernels.
 *
 * With `threads` > 1 (and an engine that can share memory) the model's memory is shared and a batch's panels
 * are split over the realm's threads, with the bits of one thread (model.ts); otherwise it runs on one.
 */
export const wasmInt8Backend: InferenceBackend<Int8Model> = {
  name: 'wasm-int8',
  description: 'WebAssembly SIMD kernels on int8 weights and activations (dynamic quantization; convolutions in float32)',
  requirement: 'WebAssembly with SIMD',
  supported: int8KernelsSupported,
  strategies: ['auto', 'dense', 'csr'],
  costModel: INT8_COST_MODEL,
  compile(layers, { strategy, maxPlans, threads = 1 }) {
    // Threads need an instance on a shared memory; without one (no SharedArrayBuffer) the model runs on one.
    const shared = threads > 1 ? instantiateSharedInt8Kernels(threads) : null;
    const instance = shared ?? instantiateInt8Kernels();
    if (instance === null) throw new UnsupportedError("backend 'wasm-int8' needs WebAssembly with SIMD, which this JavaScript engine does not provide");
    return new Int8Model(layers, strategy, new WasmArena(instance.memory), instance.kernels, maxPlans, shared?.setup ?? null);
  },
  compileConv(conv, rest, options) {
    // Float convolutions in a float kernel instance of their own; the fully connected rest on int8 kernels.
    const float = instantiateKernels();
    if (float === null) throw new UnsupportedError("backend 'wasm-int8' needs WebAssembly with SIMD, which this JavaScript engine does not provide");
    const stage = compileWasmConvStage(conv, options.strategy, new WasmArena(float.memory), float.kernels);
    const dense = rest.length === 0 ? null : wasmInt8Backend.compile(rest, options);
    return new ConvNetworkModel('wasm-int8', options.strategy, stage, dense, conv, WASM_COST_MODEL, options.maxPlans);
  },
};
