import { ConfigError } from '../errors.ts';
import type { ModelRecord } from '../io/model-file.ts';
import { convLayerFrom, fuseConvActivation, fusePool, imageAfter, type Activation, type ConvInferenceLayer, type CsrInferenceLayer, type InferenceLayer, type WindowSpecLike } from '../sparse/index.ts';

/*
 * A model file's record → the fused layers compiled inference runs, without building the training model:
 * a CSR-stored weight is handed over as CSR (it is never expanded to dense unless a kernel choice needs it),
 * a dense one as dense with its mask. Each linear layer takes the ReLU/Sigmoid/Tanh that follows it; dropout
 * is the identity at inference. A conv2d layer takes the activation and pooling layer after it (conv-fuse.ts);
 * reshape and flatten vanish.
 */

/**
 * The record's network as compileInference layers, input first. The record must be a checked one (what
 * deserializeModel returns). Throws ConfigError for an architecture compiled inference cannot fuse: an
 * activation before the first linear layer, or two different activations in a row.
 */
export function recordLayers(record: ModelRecord): (InferenceLayer | CsrInferenceLayer | ConvInferenceLayer)[] {
  const layers: (InferenceLayer | CsrInferenceLayer | ConvInferenceLayer)[] = [];
  let image: [number, number, number] | null = null;
  record.spec.layers.forEach((layer, i) => {
    const before = image;
    image = imageAfter(image, layer);
    if (layer.type === 'dropout' || layer.type === 'reshape' || layer.type === 'flatten') return;
    if (layer.type === 'conv2d') {
      const weight = record.params.get(`layers.${i}.weight`);
      const bias = layer.bias ? record.params.get(`layers.${i}.bias`)?.dense ?? null : null;
      if (weight === undefined || (layer.bias && bias === null)) throw new ConfigError(`layer ${i}: the record lacks its parameters`);
      layers.push(convLayerFrom(layer as WindowSpecLike, before, weight, bias, `layer ${i} (conv2d)`));
      return;
    }
    if (layer.type === 'maxpool2d' || layer.type === 'avgpool2d') {
      fusePool(layers, layer, `layer ${i} (${layer.type})`);
      return;
    }
    if (layer.type === 'linear') {
      const weight = record.params.get(`layers.${i}.weight`);
      const bias = layer.bias ? record.params.get(`layers.${i}.bias`)?.dense ?? null : null;
      if (weight === undefined || (layer.bias && bias === null)) throw new ConfigError(`layer ${i}: the record lacks its parameters`);
      if (weight.csr !== undefined) layers.push({ csr: weight.csr, bias, activation: 'none' });
      else {
        layers.push({
          weight: weight.dense!, inFeatures: layer.inFeatures, outFeatures: layer.outFeatures, bias, activation: 'none',
          ...(weight.mask === undefined ? {} : { mask: weight.mask }),
        });
      }
      return;
    }
    if (layer.type !== 'relu' && layer.type !== 'sigmoid' && layer.type !== 'tanh') {
      throw new ConfigError(`layer ${i} (${layer.type}) cannot be compiled for inference yet`);
    }
    const previous = layers[layers.length - 1];
    if (previous === undefined) throw new ConfigError(`layer ${i} (${layer.type}) comes before any linear layer; compiled inference fuses an activation into the linear layer before it`);
    if ('kind' in previous) {
      fuseConvActivation(layers, layer.type, `layer ${i}`);
      return;
    }
    if (previous.activation !== 'none' && previous.activation !== layer.type) {
      throw new ConfigError(`layer ${i}: ${layer.type} right after ${previous.activation} cannot be fused into one layer for compiled inference`);
    }
    previous.activation = layer.type satisfies Activation;
  });
  return layers;
}
