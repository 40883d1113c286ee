import { LabelError, ShapeError } from '../../errors.ts';
import * as T from '../../tensor/ops.ts';
import { formatShape, shapesEqual } from '../../tensor/shape.ts';
import { allocateOverwritten, scalar, Tensor } from '../../tensor/tensor.ts';
import { record } from '../graph.ts';
import type { Var } from '../var.ts';

/** Integer class labels, one per row of a batch. */
export type Labels = Uint8Array | Int32Array | Uint16Array | readonly number[];

/**
 * Mean cross-entropy between softmax(logits) and integer labels, fused with the softmax:
 *   loss = −(1/B) Σ_i log softmax(logits_i)[y_i]
 * The fused backward is the stable (softmax − onehot)/B, never dividing by a probability.
 */
export function crossEntropy(logits: Var, labels: Labels): Var {
  if (logits.value.rank !== 2) throw new ShapeError(`crossEntropy needs logits of shape [batch, classes], got ${formatShape(logits.shape)}`);
  const [batch, classes] = logits.shape as [number, number];
  if (labels.length !== batch) throw new ShapeError(`crossEntropy: ${labels.length} labels for a batch of ${batch} (logits ${formatShape(logits.shape)})`);
  for (let i = 0; i < batch; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw new LabelError(`crossEntropy: label ${y} at position ${i} is out of range for ${classes} classes`);
    }
  }
  const logProbs = T.logSoftmax(logits.value, 1);
  let total = 0;
  for (let i = 0; i < batch; i++) total -= logProbs.data[i * classes + labels[i]!]!;
  const loss = scalar(batch === 0 ? 0 : total / batch, logits.value.dtype);
  return record('crossEntropy', loss, [logits], (dy) => {
    const scale = dy.data[0]! / batch;
    const dx = new Tensor(allocateOverwritten(logits.value.size, logits.value.dtype), logits.shape);
    for (let i = 0; i < logProbs.size; i++) dx.data[i] = Math.exp(logProbs.data[i]!) * scale;
    for (let i = 0; i < batch; i++) dx.data[i * classes + labels[i]!]! -= scale;
    return [dx];
  });
}

/**
 * Mean cross-entropy against soft targets (a probability distribution per row, e.g. a teacher's softened
 * predictions in knowledge distillation): loss = −(1/B) Σ_i Σ_c p_ic · log softmax(logits_i)_c.
 * Fused like crossEntropy: the backward is (softmax − p)/B. The targets are constants.
 */
export function softCrossEntropy(logits: Var, targets: Tensor): Var {
  if (logits.value.rank !== 2 || !shapesEqual(logits.shape, targets.shape)) {
    throw new ShapeError(`softCrossEntropy: logits ${formatShape(logits.shape)} and targets ${formatShape(targets.shape)} must both be [batch, classes]`);
  }
  const batch = logits.shape[0]!;
  const logProbs = T.logSoftmax(logits.value, 1);
  let total = 0;
  for (let i = 0; i < logProbs.size; i++) total -= targets.data[i]! * logProbs.data[i]!;
  const loss = scalar(batch === 0 ? 0 : total / batch, logits.value.dtype);
  return record('softCrossEntropy', loss, [logits], (dy) => {
    const scale = dy.data[0]! / batch;
    const dx = new Tensor(allocateOverwritten(logits.value.size, logits.value.dtype), logits.shape);
    for (let i = 0; i < dx.size; i++) dx.data[i] = (Math.exp(logProbs.data[i]!) - targets.data[i]!) * scale;
    return [dx];
  });
}

/** Mean squared error mean((prediction − target)²). d/dprediction = 2(prediction − target)/n. */
export function mse(prediction: Var, target: Var): Var {
  if (!shapesEqual(prediction.shape, target.shape)) {
    throw new ShapeError(`mse: prediction ${formatShape(prediction.shape)} and target ${formatShape(target.shape)} must have the same shape`);
  }
  const diff = T.sub(prediction.value, target.value);
  const n = diff.size;
  let total = 0;
  for (let i = 0; i < n; i++) total += diff.data[i]! * diff.data[i]!;
  const loss = scalar(n === 0 ? 0 : total / n, diff.dtype);
  return record('mse', loss, [prediction, target], (dy, needs) => {
    const g = T.scale(diff, (2 * dy.data[0]!) / n);
    return [needs[0] ? g : null, needs[1] ? T.neg(g) : null];
  });
}
