import { UnsupportedError } from '../../../errors.ts';
import type { InferenceBackend } from '../../inference/backend.ts';
import { WasmArena } from '../wasm-simd/arena.ts';
import { INT8_COST_MODEL } from './cost-model.ts';
import { instantiateInt8Kernels, int8KernelsSupported } from './kernels.ts';
import { Int8Model } from './model.ts';

/**
 * The int8 WebAssembly SIMD backend: weights quantized to int8 per row (exactly the codes of an int8 model
 * file), activations quantized per sample on the fly, int8 × int8 products summed in int32
 * (i32x4.dot_i16x8_s), bias and ReLU applied after rescaling. Results are within
 * 8-bit rounding of the float model, not bit-equal to it, which is why it is a backend of its own that a
 * user picks, rather than kernels that the float backend's 'auto' could choose behind the user's back.
 */
export const wasmInt8Backend: InferenceBackend<Int8Model> = {
  name: 'wasm-int8',
  description: 'WebAssembly SIMD kernels on int8 weights and activations (dynamic quantization; one thread)',
  requirement: 'WebAssembly with SIMD',
  supported: int8KernelsSupported,
  strategies: ['auto', 'dense', 'csr'],
  costModel: INT8_COST_MODEL,
  compile(layers, { strategy, maxPlans }) {
    const instance = instantiateInt8Kernels();
    if (instance === null) throw new UnsupportedError("backend 'wasm-int8' needs WebAssembly with SIMD, which this JavaScript engine does not provide");
    return new Int8Model(layers, strategy, new WasmArena(instance.memory), instance.kernels, maxPlans);
  },
};
