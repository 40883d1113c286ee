/**
 * Quantize, then fine-tune: one call that runs quantizeModel and `fit` with the matching hooks (trained
 * quantization for 'kmeans', quantization-aware training for 'int8'; see trained.ts) and returns the final
 * codes. With 0 epochs it is post-training quantization. The `float16` option rounds biases and centroids
 * after the training run, which is bit for bit the run without it.
 */

import { ConfigError } from '../errors.ts';
import type { Dataset } from '../data/dataset.ts';
import type { Sequential } from '../nn/sequential.ts';
import { Adam } from '../nn/optim/adam.ts';
import { fit, type FitOptions, type TrainingHistory } from '../nn/train.ts';
import { checkFloat16Biases, roundToFloat16Model } from './float16.ts';
import { quantizeModel, type ModelQuantization, type QuantizeOptions } from './quantize-model.ts';
import { Int8AwareTraining, SharedWeightTraining } from './trained.ts';

/** Settings of quantizeAndFineTune: the quantizer's, plus the training run's. */
export interface FineTuneQuantizedOptions extends QuantizeOptions {
  /** Fine-tuning epochs (0 = post-training quantization only). */
  readonly epochs: number;
  /** Adam's learning rate (default 1e-4: the weights are trained already). */
  readonly lr?: number;
  /** Mini-batch size (default 128). */
  readonly batchSize?: number;
  /** Shuffling seed (default 0). */
  readonly seed?: number;
  /** Anything else `fit` accepts (validation, holdout, backend, threads, callbacks). */
  readonly fit?: Omit<FitOptions, 'epochs' | 'batchSize' | 'optimizer' | 'seed' | 'hooks'>;
}

/** What quantizeAndFineTune returns: the codes of every weight and the training history (null for 0 epochs). */
export interface FineTuneQuantizedResult {
  readonly quantization: ModelQuantization;
  readonly history: TrainingHistory | null;
}

/**
 * Quantizes `model` in place and fine-tunes it on `data` with its weights kept quantized (see the file
 * comment). Masks are kept and pruned weights stay 0. ConfigError for bad settings (and fit's errors).
 */
export function quantizeAndFineTune(model: Sequential, data: Dataset, options: FineTuneQuantizedOptions): FineTuneQuantizedResult {
  const { epochs } = options;
  if (!Number.isInteger(epochs) || epochs < 0) throw new ConfigError(`quantizeAndFineTune: epochs must be a non-negative integer, got ${epochs}`);
  if (epochs === 0) return { quantization: quantizeModel(model, options), history: null };
  if (options.float16 !== undefined && typeof options.float16 !== 'boolean') throw new ConfigError(`quantizeAndFineTune: float16 must be true or false, got ${String(options.float16)}`);
  if (options.float16 === true) checkFloat16Biases(model); // fail before training, not after
  // Rounding to float16 comes after training, so the run is exactly the one without it.
  const finish = (quantization: ModelQuantization): ModelQuantization => (options.float16 === true ? roundToFloat16Model(model, quantization) : quantization);
  if (options.method === 'int8') {
    // QAT starts from the float weights: the hooks keep them as shadows and fake-quantize the live copy.
    const qat = new Int8AwareTraining(model);
    const history = fit(model, data, trainingOptions(model, options, qat));
    return { quantization: finish(qat.result()), history };
  }
  const quantization = quantizeModel(model, { ...options, float16: false });
  const shared = new SharedWeightTraining(model, quantization);
  const history = fit(model, data, trainingOptions(model, options, shared));
  return { quantization: finish(shared.result()), history };
}

function trainingOptions(model: Sequential, options: FineTuneQuantizedOptions, hooks: Int8AwareTraining | SharedWeightTraining): FitOptions {
  return {
    ...options.fit,
    epochs: options.epochs,
    batchSize: options.batchSize ?? 128,
    seed: options.seed ?? 0,
    optimizer: new Adam(model.parameters(), { lr: options.lr ?? 1e-4 }),
    hooks,
  };
}
