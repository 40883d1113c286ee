import { OPTIMIZERS, type OptimizerName } from '../../nn/optim/make.ts';
import type { LRSchedule } from '../../nn/optim/schedule.ts';
import type { Activation } from '../../nn/build.ts';
import { architectureSpec } from '../../nn/arch.ts';
import { specShapes } from '../../nn/spec-shapes.ts';
import { INIT_SCHEMES, type InitScheme } from '../../nn/init.ts';
import { evaluate } from '../../nn/train.ts';
import { holdoutRecord, TRAINING_SCHEDULES, trainingSchedule, trainWithRecipe, type TrainingRecipe, type TrainingScheduleName } from '../../study/recipe.ts';
import { numberFlag, optionalString, parseCommand, stringFlag, UsageError } from '../args.ts';
import { checkArchitecture, FOLLOW_SYMLINKS_HELP, FOLLOW_SYMLINKS_OPTION, loadData, outputFlag, outputOptions, parseEncoding, saveModelTo, threadsFlag, threadsHelp, trainingBackend, trainingBackendHelp, trainingReporter } from '../common.ts';
import { withThreads } from '../../tensor/threads.ts';
import { createOutput, kib, percent } from '../output.ts';

export const TRAIN_HELP = `usage: sparsegrad train [options]

Trains a network — a multi-layer perceptron or a convolutional net — and saves it (safetensors file).

  --data SPEC        digits (built-in, default), fashion-mnist, or a directory of IDX files
  --arch SPEC        the layers, input first, separated by '-' (default 784-300-100-10, LeNet-300-100):
                       784 or 1x28x28   the input: a row of features, or images (channels x height x width)
                       300              a linear layer of 300 outputs
                       c20k5            a convolution: 20 filters of 5x5; add s2 for stride 2, p1 for padding 1
                       m2, a2           2x2 max or average pooling (m3s2: a 3x3 window, stride 2)
                     the activation follows every convolution and every linear layer but the last;
                     presets: lenet5 (= 1x28x28-c20k5-m2-c50k5-m2-500-10, LeNet-5-Caffe), lenet300
  --activation NAME  relu (default), sigmoid or tanh
  --epochs N         default 20
  --batch B          mini-batch size, default 128
  --lr X             learning rate, default 0.001
  --optimizer NAME   adam (default), adamw or sgd (momentum 0.9)
  --schedule NAME    constant (default), cosine, or step (×0.1 every third of the epochs)
  --init NAME        he (default), glorot or torch
  --seed S           seed of initialisation and shuffling, default 0
  --holdout F        fraction of the training data kept out of training (seeded, stratified by label), default
                     0.1; recorded in the model file so prune, sweep and compare validate on exactly these
                     samples; 0 trains on all of it
  --holdout-seed S   seed of the holdout, default 0
${trainingBackendHelp(21)}
${threadsHelp(21)}
  --out FILE         where to save the model (atomic write; checked before training); omitted: not saved
${FOLLOW_SYMLINKS_HELP}  --json             print one JSON object (the result) as the last stdout line
  --quiet            no progress output
`;

export async function trainCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, {
    data: { type: 'string' }, arch: { type: 'string' }, activation: { type: 'string' }, epochs: { type: 'string' }, batch: { type: 'string' },
    lr: { type: 'string' }, optimizer: { type: 'string' }, schedule: { type: 'string' }, init: { type: 'string' }, seed: { type: 'string' },
    holdout: { type: 'string' }, 'holdout-seed': { type: 'string' },
    out: { type: 'string' }, encoding: { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' }, ...FOLLOW_SYMLINKS_OPTION,
  });
  const out = createOutput({ json: values['json'] === true, quiet: values['quiet'] === true });
  const epochs = numberFlag(values, 'epochs', 20, { min: 1, integer: true });
  const batchSize = numberFlag(values, 'batch', 128, { min: 1, integer: true });
  const lr = numberFlag(values, 'lr', 0.001, { min: 0, exclusiveMin: true });
  const seed = numberFlag(values, 'seed', 0, { min: 0, integer: true });
  const holdoutFraction = numberFlag(values, 'holdout', 0.1, { min: 0, max: 1, exclusiveMax: true });
  const holdoutSeed = numberFlag(values, 'holdout-seed', 0, { min: 0, integer: true });
  const optimizer = stringFlag(values, 'optimizer', 'adam');
  if (!(OPTIMIZERS as readonly string[]).includes(optimizer)) throw new UsageError(`--optimizer must be ${OPTIMIZERS.join(', ')}, got '${optimizer}'`);
  const scheduleName = stringFlag(values, 'schedule', 'constant');
  makeSchedule(scheduleName, epochs);
  const archText = stringFlag(values, 'arch', '784-300-100-10');
  const activation = stringFlag(values, 'activation', 'relu') as Activation;
  const spec = architectureSpec(archText, activation);
  const shapes = specShapes(spec);
  const outputs = shapes.outputs[shapes.outputs.length - 1]!;
  const init = stringFlag(values, 'init', 'he') as InitScheme;
  if (!INIT_SCHEMES.includes(init)) throw new UsageError(`--init must be ${INIT_SCHEMES.join(', ')}, got '${init}'`);
  const encoding = parseEncoding(stringFlag(values, 'encoding', 'auto'));
  // Everything that can refuse the run is checked before the data is loaded and training starts.
  checkArchitecture(spec, '--arch');
  const outPath = outputFlag(values, 'out');
  const backend = trainingBackend(values, out);
  const threads = threadsFlag(values, out, backend);
  const dataSpec = stringFlag(values, 'data', 'digits');
  const data = loadData(dataSpec, out);
  if (shapes.inputFeatures !== data.train.features) throw new UsageError(`--arch starts with ${shapes.inputFeatures} inputs but ${data.train.name} has ${data.train.features} features`);
  if (outputs.length !== 1 || outputs[0]! < data.train.numClasses) throw new UsageError(`--arch ends with [${outputs.join(', ')}] outputs but the data has ${data.train.numClasses} classes`);

  const recipe: TrainingRecipe = { init, epochs, batchSize, lr, optimizer: optimizer as OptimizerName, schedule: scheduleName as TrainingScheduleName, seed, backend };
  const holdout = holdoutFraction > 0 ? { fraction: holdoutFraction, seed: holdoutSeed } : undefined;
  const parameterCount = spec.layers.reduce((n, l) => n + (l.type === 'linear' ? (l.inFeatures + (l.bias ? 1 : 0)) * l.outFeatures
    : l.type === 'conv2d' ? ((l.inChannels / l.groups) * l.kernelSize[0] * l.kernelSize[1] + (l.bias ? 1 : 0)) * l.outChannels : 0), 0);
  const heldOut = holdout === undefined ? 'no holdout' : `holding out ${holdoutFraction * 100} % (seed ${holdoutSeed})`;
  out.note(`training ${archText} (${parameterCount} parameters) for ${epochs} epochs, batch ${batchSize}, lr ${lr}, seed ${seed}, ${heldOut}, on ${backend} (${threads} thread${threads === 1 ? '' : 's'})`);
  const started = Date.now();
  const { model, history } = withThreads(threads, () => trainWithRecipe(spec, recipe, data.train, { ...(holdout === undefined ? {} : { holdout }), ...trainingReporter(out, 'train') }));
  const trainSeconds = (Date.now() - started) / 1000;
  out.endProgress();
  if (history.backend !== backend && history.backendNote !== undefined) out.note(history.backendNote);
  if (history.threadsNote !== undefined) out.note(history.threadsNote);
  const test = withThreads(threads, () => evaluate(model, data.test));
  const held = history.holdout;
  const record = held === undefined ? null : holdoutRecord(data.train, dataSpec, held.fraction, held.seed, held);
  const validation = held === undefined ? null : evaluate(model, held.validation);
  const result: Record<string, unknown> = {
    testAccuracy: test.accuracy,
    testLoss: test.loss,
    epochs,
    secondsPerEpoch: trainSeconds / epochs,
    parameters: model.parameterCount(),
    architecture: archText,
    data: data.train.name,
    seed,
    backend: history.backend,
    threads: history.threads,
    holdout: record === null ? null : { fraction: record.fraction, seed: record.seed, trainCount: record.trainCount, validationCount: record.validationCount, validationAccuracy: validation!.accuracy },
    history: history.epochs.map((e) => ({ epoch: e.epoch, loss: e.loss, trainAccuracy: e.accuracy, seconds: e.seconds, ...(e.validation === undefined ? {} : { validationAccuracy: e.validation.accuracy }) })),
  };
  if (outPath !== undefined) {
    const bytes = await saveModelTo(outPath, model, encoding, {
      training: {
        command: 'train', data: data.train.name, epochs, batchSize, lr, optimizer, seed, backend: history.backend, testAccuracy: test.accuracy,
        recipe: { ...recipe, backend: history.backend },
        ...(record === null ? {} : { holdout: record, validationAccuracy: validation!.accuracy }),
      },
      ...outputOptions(values),
    });
    result['out'] = outPath;
    result['fileBytes'] = bytes;
    out.note(`saved ${outPath} (${kib(bytes)})`);
  }
  if (validation !== null) out.result(`holdout accuracy ${percent(validation.accuracy)} on ${record!.validationCount} samples never trained on (trained on ${record!.trainCount})`);
  out.result(`test accuracy ${percent(test.accuracy)} (loss ${test.loss.toFixed(4)}) after ${epochs} epochs, ${(trainSeconds / epochs).toFixed(2)} s/epoch`);
  out.emitJson(result);
}

/** The learning-rate schedule `--schedule NAME` names; a usage error for any other name. */
export function makeSchedule(name: string, epochs: number): LRSchedule {
  if (!(TRAINING_SCHEDULES as readonly string[]).includes(name)) throw new UsageError(`--schedule must be ${TRAINING_SCHEDULES.join(', ')}, got '${name}'`);
  return trainingSchedule(name, epochs);
}
