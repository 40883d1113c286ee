import { predict } from '../../nn/train.ts';
import { compileModel } from '../../compile/index.ts';
import { defaultBackendName, findInferenceBackend, inferenceBackends, KERNELS, type InferenceStrategy } from '../../sparse/index.ts';
import { backendFlag, numberListFlag, optionalString, parseCommand, stringFlag, UsageError } from '../args.ts';
import { checkFiniteOutputs, FOLLOW_SYMLINKS_HELP, FOLLOW_SYMLINKS_OPTION, loadData, loadModel, outputFlag, outputOptions, saveModelTo, threadsFlag, threadsHelp } from '../common.ts';

/** Largest --batch: a plan holds a few activations of batch × layer width floats. */
const MAX_BATCH = 65536;
import { createOutput, kib, percent, table } from '../output.ts';

/** One entry per registered backend: its name, what runs, and the strategies it takes. */
function backendsHelp(): string {
  const indent = ' '.repeat(24);
  return inferenceBackends().map((b) => `${indent}${b.name.padEnd(10)}  ${b.description}\n${indent}${' '.repeat(12)}strategies: ${b.strategies.join(', ')}`).join('\n');
}

export const COMPILE_HELP = `usage: sparsegrad compile --model FILE [options]

Compiles a model (dense, or pruned with zeros) for sparse inference and shows, per layer and batch size,
the kernel the measured cost model picks, with nnz, density, bytes and FLOPs dense vs sparse.

  --model FILE        a model file
  --batch LIST        batch sizes to plan for, default 1,64 (each from 1 to ${MAX_BATCH})
  --strategy NAME     auto (the backend's cost model, default), autotune (time each kernel here), or one
                      kernel for every layer (${KERNELS.join(', ')}); each backend takes those listed below
  --backend NAME      which kernels run the model (default ${defaultBackendName()}):
${backendsHelp()}
${threadsHelp(22)}
  --data SPEC         also check on this data's test split that the compiled model predicts exactly the
                      classes of the dense model (digits, fashion-mnist or an IDX directory)
  --out FILE          save the model with CSR-encoded weights (the compact file to ship)
${FOLLOW_SYMLINKS_HELP}  --json              print one JSON object as the last stdout line
`;

export async function compileCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, {
    model: { type: 'string' }, batch: { type: 'string' }, strategy: { type: 'string' }, backend: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' },
    threads: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' }, ...FOLLOW_SYMLINKS_OPTION,
  });
  const out = createOutput({ json: values['json'] === true, quiet: values['quiet'] === true });
  const strategy = stringFlag(values, 'strategy', 'auto');
  // Any registered inference backend (wasm-int8 too), not only the training backends of backendFlag.
  const backend = values['backend'] === 'wasm-int8' ? 'wasm-int8' : backendFlag(values);
  const allowed: readonly string[] = findInferenceBackend(backend).strategies;
  if (!allowed.includes(strategy)) throw new UsageError(`--strategy must be one of ${allowed.join(', ')} with --backend ${backend}, got '${strategy}'`);
  const batches = numberListFlag(values, 'batch', [1, 64]);
  for (const b of batches) if (!Number.isSafeInteger(b) || b < 1 || b > MAX_BATCH) throw new UsageError(`--batch sizes must be integers from 1 to ${MAX_BATCH}, got ${b}`);
  const outPath = outputFlag(values, 'out');
  const requestedThreads = threadsFlag(values, out, backend);
  const model = await loadModel(stringFlag(values, 'model'));
  const compiled = compileModel(model, { backend, strategy: strategy as InferenceStrategy, batch: batches[0]!, threads: requestedThreads });
  const threads = compiled.threads;
  const plans = batches.map((batch) => ({ batch, layers: compiled.report(batch) }));
  for (const plan of plans) {
    out.result(`batch ${plan.batch}:`);
    out.result(table(plan.layers.map((l) => ({
      layer: l.index, shape: `${l.outFeatures}x${l.inFeatures}`, nnz: l.nnz, density: percent(l.density), kernel: l.kernel,
      'KiB dense': (l.denseBytes / 1024).toFixed(1), 'KiB CSR': (l.csrBytes / 1024).toFixed(1), 'FLOPs dense/sparse': `${l.denseFlops}/${l.sparseFlops}`,
    })), ['layer', 'shape', 'nnz', 'density', 'kernel', 'KiB dense', 'KiB CSR', 'FLOPs dense/sparse']));
  }
  out.note(`compiled for ${backend} on ${threads} thread${threads === 1 ? '' : 's'}`);
  const result: Record<string, unknown> = { backend, strategy, threads, plans };
  const dataSpec = optionalString(values, 'data');
  if (dataSpec !== undefined) {
    const { test } = loadData(dataSpec, out);
    const dense = predict(model, test.x, test.count);
    const classes = dense.shape[1]!;
    const sparseLogits = compiled.predict(test.x, test.count);
    checkFiniteOutputs(dense.data, classes, 'the model');
    checkFiniteOutputs(sparseLogits, classes, 'the compiled model');
    let mismatches = 0;
    // Largest logit difference relative to the largest logit magnitude (elementwise ratios are
    // meaningless for logits near zero).
    let maxDifference = 0;
    let maxMagnitude = 0;
    for (let i = 0; i < test.count; i++) {
      let a = 0;
      let b = 0;
      for (let c = 1; c < classes; c++) {
        if (dense.data[i * classes + c]! > dense.data[i * classes + a]!) a = c;
        if (sparseLogits[i * classes + c]! > sparseLogits[i * classes + b]!) b = c;
      }
      if (a !== b) mismatches++;
      for (let c = 0; c < classes; c++) {
        const d = dense.data[i * classes + c]!;
        maxDifference = Math.max(maxDifference, Math.abs(sparseLogits[i * classes + c]! - d));
        maxMagnitude = Math.max(maxMagnitude, Math.abs(d));
      }
    }
    const maxRelative = maxDifference / Math.max(maxMagnitude, Number.MIN_VALUE);
    result['check'] = { samples: test.count, mismatches, maxRelativeDifference: maxRelative };
    out.result(`check on ${test.name}: ${mismatches} of ${test.count} predictions differ from the dense model; max relative logit difference ${maxRelative.toExponential(2)}`);
    // int8 inference rounds weights and activations to 8 bits: a few differing classes are its expected cost
    // (reported above), not a failed check.
    if (mismatches > 0 && backend !== 'wasm-int8') process.exitCode = 1;
  }
  if (outPath !== undefined) {
    const bytes = await saveModelTo(outPath, model, 'csr', { training: { command: 'compile' }, ...outputOptions(values) });
    result['out'] = outPath;
    result['fileBytes'] = bytes;
    out.note(`saved ${outPath} with CSR weights (${kib(bytes)})`);
  }
  out.emitJson(result);
}
