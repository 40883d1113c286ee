import { join, resolve } from 'node:path';
import { architectureSpec } from '../../nn/arch.ts';
import type { ModelSpec } from '../../nn/spec.ts';
import { specShapes } from '../../nn/spec-shapes.ts';
import { loadDigits } from '../../node/data.ts';
import { writeFileAtomically } from '../../node/files.ts';
import { checkOutputPath, prepareOutputDirectory } from '../../node/output-path.ts';
import { renderReport } from '../../report/html.ts';
import { DEFAULT_BACKEND, resolveBackend } from '../../tensor/backend.ts';
import { backendFlag, numberFlag, numberListFlag, optionalString, parseCommand, stringFlag, UsageError } from '../args.ts';
import { checkArchitecture, FOLLOW_SYMLINKS_HELP, FOLLOW_SYMLINKS_OPTION, outputOptions, threadsFlag, threadsHelp } from '../common.ts';
import { demoReport } from '../demo-report.ts';
import { runDemo } from '../demo.ts';
import { bar, createOutput, percent, table } from '../output.ts';
import { parseQuantizeFlag, quantizeExtras } from '../quantize-flags.ts';

export const DEMO_HELP = `usage: sparsegrad demo [options]

The main job: trains LeNet-300-100 (or --arch) on the built-in digits, prunes it (gradual magnitude, iterative
gradient, gradual Taylor) at several sparsities, compiles each model to sparse kernels, times dense vs
sparse inference at batch 1 and 64, and writes a self-contained HTML report with its JSON.

  --out DIR          where to write index.html and report.json (default: report). Created if missing (its
                     parent must exist); checked, with the two files, before training
${FOLLOW_SYMLINKS_HELP}  --arch SPEC        the network, as in sparsegrad train --arch (default 784-300-100-10; lenet5 for LeNet-5,
                     about 7 minutes on 2 cores: fewer --sparsities or --prune-epochs make it shorter)
  --epochs N         dense training epochs, default 10
  --prune-epochs N   retraining epochs per pruned model, default 3
  --sparsities LIST  default 0.5,0.8,0.9,0.95,0.98
  --timing-ms MS     length of one timing sample, default 25
  --quantize Q       also quantize every pruned model for the compression chart: kmeans:B (default kmeans:5),
                     int8, or none (,LAYER=B and ,f16 as for prune);  --quantize-epochs E  fine-tuning epochs
                     after quantizing, default 1
  --backend NAME     kernels for training and the timed inference: js or wasm-simd (default ${DEFAULT_BACKEND})
${threadsHelp(21)}
  --seed S           default 0
  --quick            a fast smoke run (1 epoch, 2 sparsities, short timings)
  --json             print the summary as one JSON object on the last stdout line
  --quiet            no progress output
`;

export async function demoCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, {
    out: { type: 'string' }, arch: { type: 'string' }, epochs: { type: 'string' }, 'prune-epochs': { type: 'string' }, sparsities: { type: 'string' }, 'timing-ms': { type: 'string' },
    seed: { type: 'string' }, backend: { type: 'string' }, quantize: { type: 'string' }, 'quantize-epochs': { type: 'string' }, threads: { type: 'string' }, quick: { type: 'boolean' }, json: { type: 'boolean' }, quiet: { type: 'boolean' },
    ...FOLLOW_SYMLINKS_OPTION,
  });
  const out = createOutput({ json: values['json'] === true, quiet: values['quiet'] === true });
  const quick = values['quick'] === true;
  const requestedDir = resolve(stringFlag(values, 'out', 'report'));
  const output = outputOptions(values);
  const options = {
    epochs: numberFlag(values, 'epochs', quick ? 1 : 10, { min: 1, integer: true }),
    pruneEpochs: numberFlag(values, 'prune-epochs', quick ? 1 : 3, { min: 1, integer: true }),
    sparsities: numberListFlag(values, 'sparsities', quick ? [0.5, 0.95] : [0.5, 0.8, 0.9, 0.95, 0.98]),
    timingMs: numberFlag(values, 'timing-ms', quick ? 5 : 25, { min: 1 }),
    seed: numberFlag(values, 'seed', 0, { min: 0, integer: true }),
    backend: backendFlag(values),
    threads: 1,
  };
  const quantizeText = stringFlag(values, 'quantize', 'kmeans:5');
  const quantizeChoice = quantizeText === 'none' ? null : parseQuantizeFlag(quantizeText);
  const quantize = quantizeChoice === null ? undefined : {
    method: quantizeChoice.method, ...(quantizeChoice.bits === null ? {} : { bits: quantizeChoice.bits }), ...quantizeExtras(quantizeChoice), epochs: numberFlag(values, 'quantize-epochs', 1, { min: 0, integer: true }),
  };
  options.threads = threadsFlag(values, out, resolveBackend(options.backend).backend);
  const archText = optionalString(values, 'arch');
  const architecture = archText === undefined ? undefined : demoArchitecture(archText);
  // The network must fit the data before anything is created on disk.
  const data = loadDigits();
  if (architecture !== undefined) checkArchitectureFits(architecture.spec, data.train.features, data.train.numClasses);
  // The report folder (created if missing) and both files in it are checked before minutes of training, and
  // again when written.
  const outDir = prepareOutputDirectory(requestedDir, output);
  for (const name of ['index.html', 'report.json']) checkOutputPath(join(outDir, name), output);
  const ran = resolveBackend(options.backend).backend;
  out.note(`running on ${ran} with ${options.threads} thread${options.threads === 1 ? '' : 's'}`);
  let stageNumber = 0;
  const result = runDemo(data, {
    ...options,
    ...(architecture === undefined ? {} : { architecture }),
    ...(quantize === undefined ? {} : { quantize }),
    onStage: (text) => out.note(`[${++stageNumber}] ${text}`),
    onProgress: (e, label) => out.progress(`  ${label} epoch ${e.epoch}/${e.epochs} ${bar(e.batch / e.batches)} loss ${e.loss.toFixed(4)}`),
  });
  out.endProgress();

  const report = demoReport(result, { date: new Date().toISOString(), command: `sparsegrad demo ${argv.join(' ')}`.trim() });
  const htmlPath = join(outDir, 'index.html');
  const jsonPath = join(outDir, 'report.json');
  await writeFileAtomically(htmlPath, renderReport(report), output);
  await writeFileAtomically(jsonPath, JSON.stringify(result, null, 2) + '\n', output);

  out.result(table(result.runs.map((r) => ({
    method: r.label, sparsity: percent(r.sparsity, 1), 'test acc': percent(r.testAccuracy), 'file KiB': (r.fileBytes / 1024).toFixed(1),
    'speedup b1': `${r.latency[0]!.speedup.toFixed(1)}×`, 'speedup b64': `${r.latency[1]!.speedup.toFixed(1)}×`, ideal: `${(1 / (1 - r.sparsity)).toFixed(1)}×`,
    ...(r.compression === undefined ? {} : { 'quantized+Huffman KiB': (r.compression.stages.entropyCoded! / 1024).toFixed(1), 'quantized acc': percent(r.compression.testAccuracy) }),
  })), ['method', 'sparsity', 'test acc', 'file KiB', 'speedup b1', 'speedup b64', 'ideal', ...(quantize === undefined ? [] : ['quantized+Huffman KiB', 'quantized acc'])]));
  out.result(`dense: ${percent(result.dense.testAccuracy)}, ${(result.dense.fileBytes / 1024).toFixed(1)} KiB, ${result.dense.latency.map((l) => `batch ${l.batch} ${l.denseUs.toFixed(1)} µs`).join(', ')}`);
  out.result(`report: ${htmlPath} (data: ${jsonPath}); ${result.seconds.toFixed(0)} s in all`);
  out.emitJson({ report: htmlPath, data: jsonPath, dense: result.dense, runs: result.runs, seconds: result.seconds });
}

/** `--arch` as in `train`: a preset name (lenet5) or the layer grammar; the report names it by what was typed. */
function demoArchitecture(text: string): { name: string; spec: ModelSpec } {
  const spec = architectureSpec(text);
  checkArchitecture(spec, '--arch');
  return { name: text === 'lenet5' ? 'LeNet-5' : text, spec };
}

/** The network must take the data's features and give at least one output per class (as `train` checks). */
function checkArchitectureFits(spec: ModelSpec, features: number, classes: number): void {
  const shapes = specShapes(spec);
  const outputs = shapes.outputs[shapes.outputs.length - 1]!;
  if (shapes.inputFeatures !== features) throw new UsageError(`--arch starts with ${shapes.inputFeatures} inputs but the digits have ${features} features`);
  if (outputs.length !== 1 || outputs[0]! < classes) throw new UsageError(`--arch ends with [${outputs.join(', ')}] outputs but the data has ${classes} classes`);
}
