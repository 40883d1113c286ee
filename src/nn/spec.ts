/**
 * Plain-data description of a model's architecture. It is what a model file stores next to the weights,
 * and what the sparse compiler and the ONNX exporter read. Parameters of layer i are named
 * `layers.<i>.weight` (shape [outFeatures, inFeatures]) and `layers.<i>.bias` (shape [outFeatures]).
 */
export type LayerSpec =
  | { readonly type: 'linear'; readonly inFeatures: number; readonly outFeatures: number; readonly bias: boolean }
  | { readonly type: 'relu' }
  | { readonly type: 'sigmoid' }
  | { readonly type: 'tanh' }
  | { readonly type: 'dropout'; readonly p: number };

/** A model's architecture: its layers in order, input first (see LayerSpec). */
export interface ModelSpec {
  readonly layers: readonly LayerSpec[];
}

export type LayerType = LayerSpec['type'];
export const LAYER_TYPES: readonly LayerType[] = ['linear', 'relu', 'sigmoid', 'tanh', 'dropout'];
