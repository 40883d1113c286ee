import type { InferenceBackend } from '../../inference/backend.ts';
import { JS_COST_MODEL } from './cost-model.ts';
import { compileJsLayer } from './layer.ts';
import { SparseModel } from './model.ts';

/** The TypeScript backend: the reference kernels, float64 accumulation, runs on every JavaScript engine. */
export const jsBackend: InferenceBackend<SparseModel> = {
  name: 'js',
  description: 'the TypeScript kernels (the reference; every JavaScript engine)',
  requirement: 'nothing',
  supported: () => true,
  strategies: ['auto', 'autotune', 'dense', 'csr', 'bsr4x1'],
  costModel: JS_COST_MODEL,
  compile: (layers, { strategy, maxPlans }) => new SparseModel(layers.map((layer) => compileJsLayer(layer, strategy === 'bsr4x1')), strategy, maxPlans),
};
