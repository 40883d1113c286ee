import { evaluate } from '../../nn/train.ts';
import { readHoldoutRecord, rebuildHoldout } from '../../study/recipe.ts';
import { withThreads } from '../../tensor/threads.ts';
import { listFlag, numberFlag, parseCommand, stringFlag, UsageError } from '../args.ts';
import { FOLLOW_SYMLINKS_HELP, FOLLOW_SYMLINKS_OPTION, loadData, outputFlag, outputOptions, parseEncoding, threadsFlag, threadsHelp, trainingBackend, trainingBackendHelp, trainingReporter } from '../common.ts';
import { createOutput, kib, percent, table } from '../output.ts';
import { compressionStages, parseEntropy, parseLayerBits, parseQuantizeFlag, quantizeExtras, quantizeForCli, quantizeLabel, saveQuantized, stageRows, type QuantizeChoice } from '../quantize-flags.ts';
import { loadModelWithTraining } from '../study-flags.ts';

export const QUANTIZE_HELP = `usage: sparsegrad quantize --model FILE --method int8|kmeans [options]

Quantizes a trained (and usually pruned) model and fine-tunes it with its weights kept quantized, then saves
it in the compact encodings: int8 codes with per-row scales, or a k-means codebook (weight sharing) with a
B-bit index per weight; sparse weights store their structure as relative indices; Huffman coding on top.
Masks are kept: pruned weights stay zero.

  --model FILE       trained model (from sparsegrad train or prune)
  --method NAME      int8 (symmetric, one scale per output row; fine-tuning is quantization-aware training
                     with a straight-through gradient) or kmeans (weight sharing with linear centroid
                     initialisation; fine-tuning trains the centroids: each one's gradient is the sum of
                     its members')
  --bits B           codebook bits for kmeans, 1…8 (default 5)
  --layer-bits LIST  kmeans: other widths for some layers, e.g. layers.0=3,layers.4=6 (Deep Compression
                     gives each layer its own)
  --float16          round every bias and every kmeans centroid to the nearest float16 value after
                     fine-tuning (int8 scales stay float32); the file stores them in 2 bytes instead of 4
  --epochs E         fine-tuning epochs, default 1 (0: post-training quantization only)
  --data SPEC        digits (default), fashion-mnist, or a directory of IDX files (fine-tuning data; the
                     model's recorded holdout stays out of it and reports the validation accuracy)
  --lr X             Adam learning rate, default 0.0001;  --batch B  default 128;  --seed N  default 0
${trainingBackendHelp(21)}
${threadsHelp(21)}
  --entropy NAME     huffman (default: Huffman-code codebook indices and gaps where smaller) or none
  --encoding NAME    auto (default: CSR where smaller), csr or dense
  --out FILE         where to save the quantized model (atomic write; checked before quantizing)
${FOLLOW_SYMLINKS_HELP}  --json             print one JSON object as the last stdout line, with the size after each stage
  --quiet            no progress output
`;

/** `sparsegrad quantize`: load, quantize (+ fine-tune), report the stage sizes, save. */
export async function quantizeCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, {
    model: { type: 'string' }, method: { type: 'string' }, bits: { type: 'string' }, epochs: { type: 'string' }, data: { type: 'string' },
    'layer-bits': { type: 'string' }, float16: { type: 'boolean' }, lr: { type: 'string' }, batch: { type: 'string' }, seed: { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' },
    entropy: { type: 'string' }, encoding: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' }, ...FOLLOW_SYMLINKS_OPTION,
  });
  const out = createOutput({ json: values['json'] === true, quiet: values['quiet'] === true });
  const method = stringFlag(values, 'method');
  if (method !== 'int8' && method !== 'kmeans') throw new UsageError(`--method must be int8 or kmeans, got '${method}'`);
  if (method === 'int8' && values['bits'] !== undefined) throw new UsageError('--bits applies to --method kmeans (int8 is always 8 bits)');
  if (method === 'int8' && values['layer-bits'] !== undefined) throw new UsageError('--layer-bits applies to --method kmeans (int8 is always 8 bits)');
  const bits = method === 'int8' ? null : numberFlag(values, 'bits', 5, { min: 1, max: 8, integer: true });
  const float16 = values['float16'] === true;
  const choice: QuantizeChoice = bits === null ? { ...parseQuantizeFlag('int8'), float16 } : {
    method: 'kmeans', bits,
    layerBits: values['layer-bits'] === undefined ? null : parseLayerBits(listFlag(values, 'layer-bits', []), '--layer-bits'),
    float16,
  };
  const run = {
    epochs: numberFlag(values, 'epochs', 1, { min: 0, integer: true }),
    lr: numberFlag(values, 'lr', 1e-4, { min: 0, exclusiveMin: true }),
    batchSize: numberFlag(values, 'batch', 128, { min: 1, integer: true }),
    seed: numberFlag(values, 'seed', 0, { min: 0, integer: true }),
    backend: trainingBackend(values, out),
    threads: 1,
  };
  const entropy = parseEntropy(stringFlag(values, 'entropy', 'huffman'));
  const encoding = parseEncoding(stringFlag(values, 'encoding', 'auto'));
  const outPath = outputFlag(values, 'out');
  const threads = threadsFlag(values, out, run.backend);
  const { model, training } = await loadModelWithTraining(stringFlag(values, 'model'));
  const data = loadData(stringFlag(values, 'data', 'digits'), out);
  const holdout = readHoldoutRecord(training);
  const split = holdout === null ? null : rebuildHoldout(data.train, holdout);
  const train = split?.train ?? data.train;
  const before = evaluate(model, data.test);
  const floatStages = compressionStages(model, null);

  const reporter = trainingReporter(out, `quantize ${quantizeLabel(choice)}`);
  const callbacks = { onEpoch: reporter.onEpoch, onProgress: reporter.onProgress };
  const { quantization } = withThreads(threads, () => quantizeForCli(model, train, choice, { ...run, threads, callbacks }));
  out.endProgress();
  const after = evaluate(model, data.test);
  const validation = split === null ? null : evaluate(model, split.validation);
  const stages = { ...compressionStages(model, quantization), pruned: floatStages.pruned };
  const summary: Record<string, unknown> = {
    method: choice.method, bits: choice.bits ?? 8, ...quantizeExtras(choice), epochs: run.epochs, lr: run.lr, backend: run.backend,
    testAccuracy: after.accuracy, floatTestAccuracy: before.accuracy,
    ...(validation === null ? {} : { validationAccuracy: validation.accuracy }),
    stages: stageRows(stages),
  };
  if (outPath !== undefined) {
    const bytes = await saveQuantized(outPath, model, quantization, encoding, entropy, {
      training: { ...(training ?? {}), command: 'quantize', quantize: { method: choice.method, bits: choice.bits ?? 8, ...quantizeExtras(choice), epochs: run.epochs, lr: run.lr }, testAccuracy: after.accuracy },
      ...outputOptions(values),
    });
    summary['out'] = outPath;
    summary['fileBytes'] = bytes;
    out.note(`saved ${outPath} (${kib(bytes)}, ${(stages.dense / bytes).toFixed(1)}× smaller than dense float32)`);
  }
  out.result(table(stageRows(stages).map((r) => ({ stage: r.stage, bytes: r.bytes, 'vs dense': `${r.ratio.toFixed(1)}×` })), ['stage', 'bytes', 'vs dense']));
  if (validation !== null) out.result(`validation accuracy ${percent(validation.accuracy)} (the model's holdout)`);
  out.result(`test accuracy ${percent(after.accuracy)} after ${quantizeLabel(choice)} quantization (float: ${percent(before.accuracy)})`);
  out.emitJson(summary);
}
