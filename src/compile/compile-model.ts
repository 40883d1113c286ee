import { ConfigError } from '../errors.ts';
import { Dropout, ReLU, Sigmoid, Tanh } from '../nn/activations.ts';
import { Linear } from '../nn/linear.ts';
import type { Sequential } from '../nn/sequential.ts';
import { compileInference, type Activation, type BackendModel, type BackendName, type CompileOptions, type InferenceLayer, type InferenceModel } from '../sparse/index.ts';

/*
 * The step from a trained model to a fast one: nn's Sequential becomes the plain fused layers that the
 * sparse engine compiles (src/sparse/inference). This is where pruning turns into smaller and faster.
 */

/**
 * Compiles a trained (dense, or pruned with zeros) model into an inference-only model: each Linear layer
 * with the activation that follows it becomes one fused layer, and the backend picks, per layer and batch
 * size, the dense or a sparse kernel by its measured cost model. Dropout disappears (inference); masked
 * zeros are dropped. Options as compileInference (`backend: 'wasm-simd'` for the WebAssembly SIMD kernels).
 * Throws ConfigError for a layer that cannot be compiled (see inferenceLayers) and compileInference's errors.
 *
 * @example
 * ```ts
 * import { compileModel, findTargets, mlp, predictClasses, pruneTargets, Rng } from 'sparsegrad';
 *
 * const model = mlp([784, 300, 100, 10], { seed: 0 }); // in practice trained and pruned: see fit, runPruning
 * pruneTargets(findTargets(model), 0.95, { criterion: 'magnitude', scope: 'global', granularity: { kind: 'weight' }, rng: new Rng(0) });
 * const fast = compileModel(model);                    // inference only; per layer and batch size the fastest kernel
 * const x = new Float32Array(64 * 784);                // 64 inputs, row-major
 * console.log(fast.kernels(64));                       // [ 'csr', 'csr', 'csr' ]
 * console.log(fast.predictClasses(x, 64).every((c, i) => c === predictClasses(model, x, 64)[i])); // true
 * ```
 */
export function compileModel<B extends BackendName>(model: Sequential, options: CompileOptions & { backend: B }): BackendModel<B>;
export function compileModel(model: Sequential, options?: CompileOptions): InferenceModel;
export function compileModel(model: Sequential, options: CompileOptions = {}): InferenceModel {
  return compileInference(inferenceLayers(model), options);
}

/**
 * The model as plain fused layers (weights and masks copied): Linear + the ReLU/Sigmoid/Tanh after it, with
 * Dropout skipped. Throws ConfigError for any other layer, an activation that does not follow a Linear
 * layer, or a model without Linear layers.
 */
export function inferenceLayers(model: Sequential): InferenceLayer[] {
  const layers: InferenceLayer[] = [];
  for (const [i, layer] of model.layers.entries()) {
    if (layer instanceof Linear) {
      const w = layer.weight;
      layers.push({
        weight: Float32Array.from(w.value.data),
        outFeatures: layer.outFeatures,
        inFeatures: layer.inFeatures,
        bias: layer.bias === null ? null : Float32Array.from(layer.bias.value.data),
        activation: 'none',
        ...(w.mask === null ? {} : { mask: Uint8Array.from(w.mask) }),
      });
      continue;
    }
    if (layer instanceof Dropout) continue;
    const activation: Activation | null = layer instanceof ReLU ? 'relu' : layer instanceof Sigmoid ? 'sigmoid' : layer instanceof Tanh ? 'tanh' : null;
    if (activation === null) throw new ConfigError(`layer ${i} (${layer.constructor.name}) cannot be compiled for sparse inference`);
    const previous = layers[layers.length - 1];
    if (previous === undefined || previous.activation !== 'none') {
      throw new ConfigError(`layer ${i}: an activation must follow a Linear layer to be compiled (got ${activation} after ${previous === undefined ? 'nothing' : previous.activation})`);
    }
    previous.activation = activation;
  }
  if (layers.length === 0) throw new ConfigError('the model has no Linear layers to compile');
  return layers;
}
