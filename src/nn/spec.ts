/**
 * Plain-data description of a model's architecture. It is what a model file stores next to the weights,
 * and what the sparse compiler and the ONNX exporter read. Parameters of layer i are named
 * `layers.<i>.weight` and `layers.<i>.bias`: a linear weight is [outFeatures, inFeatures], a conv2d weight
 * [outChannels, inChannels/groups, kh, kw], a bias [outFeatures] or [outChannels].
 *
 * Activations between layers are per sample: [features] for linear layers, [channels, height, width] for
 * conv2d and the pooling layers. A model's input is always a row of features per sample, so a convolutional
 * model starts with a `reshape` to [channels, height, width], and `flatten` turns a [C, H, W] activation back
 * into C·H·W features for a linear layer (spec-shapes.ts checks that the layers chain).
 */
export type LayerSpec =
  | { readonly type: 'linear'; readonly inFeatures: number; readonly outFeatures: number; readonly bias: boolean }
  | { readonly type: 'relu' }
  | { readonly type: 'sigmoid' }
  | { readonly type: 'tanh' }
  | { readonly type: 'dropout'; readonly p: number }
  | Conv2dSpec
  | Pool2dSpec
  | { readonly type: 'flatten' }
  | { readonly type: 'reshape'; readonly shape: readonly number[] };

/** A 2-D convolution layer: sizes as [height, width] pairs (see Conv2d in conv.ts). */
export interface Conv2dSpec {
  readonly type: 'conv2d';
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly groups: number;
  readonly bias: boolean;
}

/** A 2-D max or average pooling layer (see MaxPool2d, AvgPool2d in pool.ts). */
export interface Pool2dSpec {
  readonly type: 'maxpool2d' | 'avgpool2d';
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
}

/** A model's architecture: its layers in order, input first (see LayerSpec). */
export interface ModelSpec {
  readonly layers: readonly LayerSpec[];
}

export type LayerType = LayerSpec['type'];
export const LAYER_TYPES: readonly LayerType[] = ['linear', 'relu', 'sigmoid', 'tanh', 'dropout', 'conv2d', 'maxpool2d', 'avgpool2d', 'flatten', 'reshape'];
