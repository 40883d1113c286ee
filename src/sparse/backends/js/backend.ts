import type { InferenceBackend } from '../../inference/backend.ts';
import { ConvNetworkModel } from '../../inference/conv-model.ts';
import type { CheckedLayer } from '../../inference/layers.ts';
import { compileJsConvStage } from './conv.ts';
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
  compile: (layers, { strategy, maxPlans }) => compileDense(layers, strategy === 'bsr4x1', strategy, maxPlans),
  compileConv: (conv, rest, { strategy, maxPlans }) => new ConvNetworkModel(
    'js', strategy, compileJsConvStage(conv, strategy),
    rest.length === 0 ? null : compileDense(rest, strategy === 'bsr4x1', strategy, maxPlans), conv, JS_COST_MODEL, maxPlans,
  ),
};

function compileDense(layers: readonly CheckedLayer[], forceBsr: boolean, strategy: Parameters<InferenceBackend['compile']>[1]['strategy'], maxPlans: number): SparseModel {
  return new SparseModel(layers.map((layer) => compileJsLayer(layer, forceBsr)), strategy, maxPlans);
}
