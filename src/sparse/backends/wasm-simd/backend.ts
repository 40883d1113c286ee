import { UnsupportedError } from '../../../errors.ts';
import type { InferenceBackend } from '../../inference/backend.ts';
import { ConvNetworkModel } from '../../inference/conv-model.ts';
import { WasmArena } from './arena.ts';
import { compileWasmConvStage } from './conv.ts';
import { WASM_COST_MODEL } from './cost-model.ts';
import { instantiateKernels, wasmSimdSupported, type WasmKernels } from './kernels.ts';
import { placeLayers, WasmSparseModel } from './model.ts';
import { instantiateSharedKernels, type ThreadSetup } from './panel-threads.ts';
import { takePreparedInstance } from './prepared.ts';

/**
 * The WebAssembly SIMD backend: kernels the library assembles itself (kernels.ts), float32 weights and
 * accumulation in the model's own WebAssembly.Memory (shared with worker threads when `threads` > 1); needs
 * an engine with WebAssembly SIMD.
 */
export const wasmSimdBackend: InferenceBackend<WasmSparseModel> = {
  name: 'wasm-simd',
  description: 'WebAssembly SIMD kernels (float32; Node ≥ 16.4 and current browsers)',
  requirement: 'WebAssembly with SIMD',
  supported: wasmSimdSupported,
  strategies: ['auto', 'dense', 'csr', 'bsr4x1'],
  costModel: WASM_COST_MODEL,
  compile(layers, { strategy, maxPlans, threads = 1 }) {
    const { arena, kernels, setup } = newInstance(threads);
    return new WasmSparseModel(placeLayers(arena, layers, strategy === 'bsr4x1'), strategy, arena, kernels, maxPlans, setup);
  },
  compileConv(conv, rest, { strategy, maxPlans, threads = 1 }) {
    // One instance for both parts: the convolutions (on the calling thread) and the fully connected layers.
    const { arena, kernels, setup } = newInstance(threads);
    const stage = compileWasmConvStage(conv, strategy, arena, kernels);
    const dense = rest.length === 0 ? null : new WasmSparseModel(placeLayers(arena, rest, strategy === 'bsr4x1'), strategy, arena, kernels, maxPlans, setup);
    return new ConvNetworkModel('wasm-simd', strategy, stage, dense, conv, WASM_COST_MODEL, maxPlans);
  },
};

/**
 * A kernel instance and its arena. Threads need their own shared-memory instance; otherwise an instance
 * prepared asynchronously (prepareWasmSimd: the way browsers' main threads allow), else the synchronous path
 * (Node, workers).
 */
function newInstance(threads: number): { arena: WasmArena; kernels: WasmKernels; setup: ThreadSetup | null } {
  const shared = threads > 1 ? instantiateSharedKernels(threads) : null;
  const instance = shared ?? takePreparedInstance() ?? instantiateKernels();
  // compileInference checks supported() first; this guards a direct call.
  if (instance === null) throw new UnsupportedError("backend 'wasm-simd' needs WebAssembly with SIMD, which this JavaScript engine does not provide");
  return { arena: new WasmArena(instance.memory), kernels: instance.kernels, setup: shared?.setup ?? null };
}
