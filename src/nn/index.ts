export { Parameter } from './parameter.ts';
export { Module, Layer } from './module.ts';
export { Linear, type LinearOptions } from './linear.ts';
export { ReLU, Sigmoid, Tanh, Dropout } from './activations.ts';
export { Sequential } from './sequential.ts';
export { Conv2d, type Conv2dLayerOptions } from './conv.ts';
export { MaxPool2d, AvgPool2d, type Pool2dLayerOptions } from './pool.ts';
export { Flatten, Reshape } from './shape-layers.ts';
export { architectureSpec, ARCHITECTURE_PRESETS, ARCHITECTURE_GRAMMAR } from './arch.ts';
export { specShapes, layerFlops, formatLayer, type SpecShapes } from './spec-shapes.ts';
export { heNormal, glorotUniform, torchDefaultUniform, type InitScheme } from './init.ts';
export { buildModel, mlp, mlpSpec, parseArchitecture, ACTIVATIONS, type Activation } from './build.ts';
export type { LayerSpec, ModelSpec, LayerType, Conv2dSpec, Pool2dSpec } from './spec.ts';
export { Optimizer } from './optim/optimizer.ts';
export { SGD, type SGDOptions } from './optim/sgd.ts';
export { Adam, AdamW, type AdamOptions } from './optim/adam.ts';
export { makeOptimizer, OPTIMIZERS, type OptimizerName } from './optim/make.ts';
export { constantLR, stepLR, cosineLR, type LRSchedule } from './optim/schedule.ts';
export { crossEntropy, mse } from '../autograd/ops/losses.ts';
export {
  fit, evaluate, predict, predictClasses, type LossFn,
  type FitOptions, type TrainingHistory, type EpochStats, type StepContext, type TrainingHooks, type ProgressEvent, type Evaluation, type HoldoutInfo,
} from './train.ts';
export { cloneModel } from './clone.ts';
export { distillationLoss, type DistillationOptions } from './distillation.ts';
