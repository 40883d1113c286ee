import { noGrad } from '../autograd/graph.ts';
import { add, mul } from '../autograd/ops/arithmetic.ts';
import { crossEntropy, softCrossEntropy } from '../autograd/ops/losses.ts';
import { constant, type Var } from '../autograd/var.ts';
import { ConfigError } from '../errors.ts';
import * as T from '../tensor/ops.ts';
import type { Module } from './module.ts';
import type { LossFn } from './train.ts';

/** Settings of `distillationLoss` (and of `PruneConfig.distill`). */
export interface DistillationOptions {
  /** Weight of the hard-label loss; 1 − alpha goes to matching the teacher (default 0.5). */
  alpha?: number;
  /** Softmax temperature for both teacher and student (default 4). */
  temperature?: number;
}

/**
 * Knowledge distillation (Hinton, Vinyals & Dean 2015): the student also learns from the teacher's
 * softened predictions, which carry more information per sample than the labels (which wrong classes are
 * nearly right). Loss = α·CE(student, labels) + (1 − α)·T²·CE(softmax(student/T), softmax(teacher/T));
 * the T² keeps the soft term's gradient scale independent of T. Used to retrain a pruned network with its
 * own dense original as the teacher.
 */
export function distillationLoss(teacher: Module, options: DistillationOptions = {}): LossFn {
  const alpha = options.alpha ?? 0.5;
  const temperature = options.temperature ?? 4;
  if (!(alpha >= 0 && alpha <= 1)) throw new ConfigError(`distillation alpha must be in [0, 1], got ${alpha}`);
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new ConfigError(`distillation temperature must be positive, got ${temperature}`);
  teacher.eval();
  return (logits: Var, labels, inputs) => {
    const soft = noGrad(() => T.softmax(T.scale(teacher.forward(constant(inputs)).value, 1 / temperature)));
    const hard = crossEntropy(logits, labels);
    const matched = softCrossEntropy(mul(logits, 1 / temperature), soft.as(logits.value.dtype));
    return add(mul(hard, alpha), mul(matched, (1 - alpha) * temperature * temperature));
  };
}
