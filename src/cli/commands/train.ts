import { makeOptimizer } from '../../nn/optim/make.ts';
import { constantLR, cosineLR, stepLR, type LRSchedule } from '../../nn/optim/schedule.ts';
import { mlp, mlpSpec, parseArchitecture, type Activation } from '../../nn/build.ts';
import type { InitScheme } from '../../nn/init.ts';
import { evaluate, fit } from '../../nn/train.ts';
import { withThreads } from '../../tensor/threads.ts';
import { numberFlag, optionalString, parseCommand, stringFlag, UsageError } from '../args.ts';
import { checkArchitecture, FOLLOW_SYMLINKS_HELP, FOLLOW_SYMLINKS_OPTION, loadData, outputFlag, outputOptions, parseEncoding, saveModelTo, threadsFlag, threadsHelp, trainingBackend, trainingBackendHelp, trainingReporter } from '../common.ts';
import { createOutput, kib, percent } from '../output.ts';

export const TRAIN_HELP = `usage: sparsegrad train [options]

Trains a multi-layer perceptron and saves it (safetensors file).

  --data SPEC        digits (built-in, default), fashion-mnist, or a directory of IDX files
  --arch W-W-...     layer widths, default 784-300-100-10 (LeNet-300-100)
  --activation NAME  relu (default), sigmoid or tanh
  --epochs N         default 20
  --batch B          mini-batch size, default 128
  --lr X             learning rate, default 0.001
  --optimizer NAME   adam (default), adamw or sgd (momentum 0.9)
  --schedule NAME    constant (default), cosine, or step (×0.1 every third of the epochs)
  --init NAME        he (default), glorot or torch
  --seed S           seed of initialisation and shuffling, default 0
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
    out: { type: 'string' }, encoding: { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' },
    ...FOLLOW_SYMLINKS_OPTION,
  });
  const out = createOutput({ json: values['json'] === true, quiet: values['quiet'] === true });
  const epochs = numberFlag(values, 'epochs', 20, { min: 1, integer: true });
  const batchSize = numberFlag(values, 'batch', 128, { min: 1, integer: true });
  const lr = numberFlag(values, 'lr', 0.001, { min: 0, exclusiveMin: true });
  const seed = numberFlag(values, 'seed', 0, { min: 0, integer: true });
  const widths = parseArchitecture(stringFlag(values, 'arch', '784-300-100-10'));
  const activation = stringFlag(values, 'activation', 'relu') as Activation;
  const init = stringFlag(values, 'init', 'he') as InitScheme;
  const encoding = parseEncoding(stringFlag(values, 'encoding', 'auto'));
  // Everything that can refuse the run is checked before the data is loaded and training starts.
  checkArchitecture(mlpSpec(widths, activation), '--arch');
  const outPath = outputFlag(values, 'out');
  const backend = trainingBackend(values, out);
  const threads = threadsFlag(values, out, backend);
  const data = loadData(stringFlag(values, 'data', 'digits'), out);
  if (widths[0] !== data.train.features) throw new UsageError(`--arch starts with ${widths[0]} inputs but ${data.train.name} has ${data.train.features} features`);
  if (widths[widths.length - 1]! < data.train.numClasses) throw new UsageError(`--arch ends with ${widths[widths.length - 1]} outputs but the data has ${data.train.numClasses} classes`);

  const model = mlp(widths, { seed, activation, init });
  const optimizer = makeOptimizer(stringFlag(values, 'optimizer', 'adam'), model.parameters(), lr);
  const schedule = makeSchedule(stringFlag(values, 'schedule', 'constant'), epochs);
  out.note(`training ${widths.join('-')} (${model.parameterCount()} parameters) for ${epochs} epochs, batch ${batchSize}, lr ${lr}, seed ${seed}, on ${backend} (${threads} thread${threads === 1 ? '' : 's'})`);
  const started = Date.now();
  const history = fit(model, data.train, { epochs, batchSize, optimizer, schedule, seed, backend, threads, ...trainingReporter(out, 'train') });
  const trainSeconds = (Date.now() - started) / 1000;
  out.endProgress();
  if (history.backend !== backend && history.backendNote !== undefined) out.note(history.backendNote);
  if (history.threadsNote !== undefined) out.note(history.threadsNote);
  const test = withThreads(threads, () => evaluate(model, data.test));
  const result: Record<string, unknown> = {
    testAccuracy: test.accuracy,
    testLoss: test.loss,
    epochs,
    secondsPerEpoch: trainSeconds / epochs,
    parameters: model.parameterCount(),
    architecture: widths.join('-'),
    data: data.train.name,
    seed,
    backend: history.backend,
    threads: history.threads,
    history: history.epochs.map((e) => ({ epoch: e.epoch, loss: e.loss, trainAccuracy: e.accuracy, seconds: e.seconds })),
  };
  if (outPath !== undefined) {
    const bytes = await saveModelTo(outPath, model, encoding, {
      training: { command: 'train', data: data.train.name, epochs, batchSize, lr, optimizer: values['optimizer'] ?? 'adam', seed, backend: history.backend, testAccuracy: test.accuracy },
      ...outputOptions(values),
    });
    result['out'] = outPath;
    result['fileBytes'] = bytes;
    out.note(`saved ${outPath} (${kib(bytes)})`);
  }
  out.result(`test accuracy ${percent(test.accuracy)} (loss ${test.loss.toFixed(4)}) after ${epochs} epochs, ${(trainSeconds / epochs).toFixed(2)} s/epoch`);
  out.emitJson(result);
}

export function makeSchedule(name: string, epochs: number): LRSchedule {
  switch (name) {
    case 'constant': return constantLR;
    case 'cosine': return cosineLR(epochs);
    case 'step': return stepLR(Math.max(1, Math.round(epochs / 3)), 0.1);
    default: throw new UsageError(`--schedule must be constant, cosine or step, got '${name}'`);
  }
}
