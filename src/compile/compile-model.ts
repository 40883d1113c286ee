import { ConfigError } from '../errors.ts';
import { Dropout, ReLU, Sigmoid, Tanh } from '../nn/activations.ts';
import { Conv2d } from '../nn/conv.ts';
import { Linear } from '../nn/linear.ts';
import { AvgPool2d, MaxPool2d } from '../nn/pool.ts';
import { Flatten, Reshape } from '../nn/shape-layers.ts';
import type { Conv2dSpec, Pool2dSpec } from '../nn/spec.ts';
import type { Sequential } from '../nn/sequential.ts';
import { compileInference, convLayerFrom, fuseConvActivation, fusePool, imageAfter, type Activation, type BackendModel, type BackendName, type CompileOptions, type ConvInferenceLayer, type InferenceLayer, type InferenceModel } from '../sparse/index.ts';

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
 * Dropout skipped; Conv2d + its activation + the MaxPool2d/AvgPool2d after it (conv-fuse.ts), with Reshape
 * and Flatten skipped. Throws ConfigError for any other layer, an activation that does not follow a Linear
 * or Conv2d layer, a pooling layer that does not follow a convolution, or a model without such layers.
 */
export function inferenceLayers(model: Sequential): (InferenceLayer | ConvInferenceLayer)[] {
  const layers: (InferenceLayer | ConvInferenceLayer)[] = [];
  let image: [number, number, number] | null = null;
  for (const [i, layer] of model.layers.entries()) {
    const before = image;
    image = imageAfter(image, layer.spec());
    if (layer instanceof Reshape || layer instanceof Flatten) continue;
    if (layer instanceof Conv2d) {
      const { weight, bias } = layer;
      layers.push(convLayerFrom(layer.spec() as Conv2dSpec, before, {
        dense: Float32Array.from(weight.value.data), ...(weight.mask === null ? {} : { mask: Uint8Array.from(weight.mask) }),
      }, bias === null ? null : Float32Array.from(bias.value.data), `layer ${i} (Conv2d)`));
      continue;
    }
    if (layer instanceof MaxPool2d || layer instanceof AvgPool2d) {
      fusePool(layers, layer.spec() as Pool2dSpec, `layer ${i} (${layer.constructor.name})`);
      continue;
    }
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
    if (previous !== undefined && 'kind' in previous) {
      fuseConvActivation(layers, activation, `layer ${i}`);
      continue;
    }
    if (previous === undefined || previous.activation !== 'none') {
      throw new ConfigError(`layer ${i}: an activation must follow a Linear layer to be compiled (got ${activation} after ${previous === undefined ? 'nothing' : previous.activation})`);
    }
    previous.activation = activation;
  }
  if (layers.length === 0) throw new ConfigError('the model has no Linear or Conv2d layers to compile');
  return layers;
}
