/**
 * Training speed: seconds per epoch of LeNet-300-100 (784-300-100-10, ReLU, Adam lr 1e-3, batch 64) on
 * 60,000 samples, sparsegrad vs tfjs-layers on TensorFlow.js's pure-JavaScript CPU backend, same
 * architecture, batch and optimizer, in one run.
 *
 * Both sides train on the same data (Fashion-MNIST's 60,000 training images when installed, otherwise the
 * built-in digits repeated to 60,000). sparsegrad runs a full epoch; tfjs runs `tfjsBatches` batches
 * (default 150, a full epoch takes it ~2.5 minutes here) and its per-batch time is scaled to 938 batches —
 * say so when quoting. Usage: tsx bench/run.ts train [--quick] [--json] [tfjsBatches=N] [ourBatches=N]
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Dataset } from '../src/data/dataset.ts';
import { subset } from '../src/data/dataset.ts';
import { Adam, fit, mlp } from '../src/nn/index.ts';
import { FASHION_MNIST_DIR, loadDigits, loadIdxDirectory } from '../src/node/data.ts';
import { formatTable, say, type BenchOptions } from './harness.ts';

const SAMPLES = 60_000;
const BATCH = 64;

function trainingData(): Dataset {
  if (existsSync(FASHION_MNIST_DIR)) return loadIdxDirectory(FASHION_MNIST_DIR, { name: 'fashion-mnist' }).train;
  const digits = loadDigits().train;
  return subset(digits, Int32Array.from({ length: SAMPLES }, (_, i) => i % digits.count), 'digits×7.5');
}

function argNumber(args: readonly string[], key: string, fallback: number): number {
  const a = args.find((x) => x.startsWith(`${key}=`));
  return a === undefined ? fallback : Number(a.slice(key.length + 1));
}

export async function run(options: BenchOptions): Promise<Record<string, unknown>> {
  const data = trainingData();
  const batchesPerEpoch = Math.ceil(data.count / BATCH);
  const ourBatches = Math.min(argNumber(options.args, 'ourBatches', options.quick ? 60 : batchesPerEpoch), batchesPerEpoch);
  const tfjsBatches = argNumber(options.args, 'tfjsBatches', options.quick ? 20 : 150);
  say(options, `data: ${data.name}, ${data.count} samples; sparsegrad trains ${ourBatches} batches, tfjs ${tfjsBatches} batches (batch ${BATCH})`);

  // sparsegrad
  const ours = subset(data, Int32Array.from({ length: ourBatches * BATCH }, (_, i) => i % data.count), data.name);
  const model = mlp([784, 300, 100, 10], { seed: 0 });
  const started = performance.now();
  const history = fit(model, ours, { epochs: 1, batchSize: BATCH, optimizer: new Adam(model.parameters(), { lr: 1e-3 }), seed: 0 });
  const ourSeconds = (performance.now() - started) / 1000;
  const ourPerBatch = ourSeconds / ourBatches;
  say(options, `sparsegrad: ${(ourPerBatch * 1000).toFixed(2)} ms/batch, loss ${history.epochs[0]!.loss.toFixed(3)}`);

  // tfjs-layers, cpu backend
  await tf.setBackend('cpu');
  const net = tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 300, activation: 'relu', inputShape: [784] }),
      tfl.layers.dense({ units: 100, activation: 'relu' }),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  net.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const n = tfjsBatches * BATCH;
  const xs = tf.tensor2d(data.x.subarray(0, n * 784), [n, 784]);
  const ys = tf.oneHot(tf.tensor1d(Array.from(data.y.subarray(0, n)), 'int32'), 10);
  // One warm-up batch outside the timing (kernel setup), then the timed batches.
  await net.fit(tf.slice(xs, [0, 0], [BATCH, 784]), tf.slice(ys, [0, 0], [BATCH, 10]), { batchSize: BATCH, epochs: 1, shuffle: false, verbose: 0 });
  const tfStarted = performance.now();
  await net.fit(xs, ys, { batchSize: BATCH, epochs: 1, shuffle: true, verbose: 0, yieldEvery: 'never' });
  const tfPerBatch = (performance.now() - tfStarted) / 1000 / tfjsBatches;
  say(options, `tfjs-layers (cpu): ${(tfPerBatch * 1000).toFixed(2)} ms/batch`);
  tf.dispose([xs, ys]);

  const rows = [
    { impl: 'sparsegrad', batchesTimed: ourBatches, msPerBatch: ourPerBatch * 1000, secondsPerEpoch: ourPerBatch * batchesPerEpoch, measured: ourBatches === batchesPerEpoch ? 'full epoch' : 'scaled' },
    { impl: 'tfjs-layers-cpu', batchesTimed: tfjsBatches, msPerBatch: tfPerBatch * 1000, secondsPerEpoch: tfPerBatch * batchesPerEpoch, measured: 'scaled' },
  ];
  const speedup = tfPerBatch / ourPerBatch;
  say(options, '\n' + formatTable(rows, ['impl', 'batchesTimed', 'msPerBatch', 'secondsPerEpoch', 'measured']));
  say(options, `sparsegrad is ${speedup.toFixed(2)}× faster per batch than tfjs-layers on the cpu backend (target ≥ 4×)`);
  return { data: data.name, samples: data.count, batch: BATCH, rows, speedup };
}
