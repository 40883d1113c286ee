/**
 * Issue 14's missed target, declared as a new study before it was run: a Fashion-MNIST LeNet-300-100 file
 * ≥ 100× smaller than the dense float32 file (1,067,280 bytes, so ≤ 10,672 bytes, header and float32 biases
 * included) at ≤ 1.0 point below the dense model's test accuracy.
 *
 *   npx tsx experiments/fashion-compression-100.ts [--data DIR] [--out DIR] [--dense FILE] [--resume]
 *                                                  [--subset N --epochs E --dense-epochs E]   (a quick smoke run)
 *
 * What the first study (experiments/fashion-compression.ts) showed: its chosen ≥ 100× file, gradual Taylor
 * 98 % + kmeans:5 (10,665 bytes), lost 1.38 test points, and pruning to 98 % in 8 epochs already cost ~1 point
 * of validation accuracy before any quantization. So this study spends its budget on better 97.5–98 % pruning
 * and lower bit widths, not on the quantizer.
 *
 * Sizes first (worked out before any training, from the file format): of the 10,672 bytes, the safetensors
 * header with the encodings is ~2,000 and the 410 float32 biases 1,640, which leaves ~7,000 bytes for
 * codebooks, codes and CSR gaps. A post-training k-means probe of one-shot global magnitude masks (sizes only,
 * no accuracy looked at) gave, in bytes after Huffman:
 *
 *   sparsity   2-bit    3-bit    4-bit    5-bit
 *   97 %      11,459   12,280   12,896   13,618   → cannot reach 100× at any width: not declared
 *   97.5 %    10,390   11,106   11,588   12,242   → only at 2–3 bits (Taylor masks have smaller gaps, ~−600 B)
 *   98 %       9,273    9,845   10,268   10,749   → at 2–5 bits (the first study's Taylor 98 % + 5-bit: 10,665)
 *
 * Deep Compression's LeNet-300-100 used 6-bit codebooks at 8 % kept; here the gaps alone take ~5 bits per kept
 * weight at 98 %, so the codes must be ≤ 5 bits and the sparsity ≥ 97.5 %.
 *
 * The declared set (2 sparsities × 2 epoch budgets × 2 losses = 8 pruned models, × 4 bit widths = 32
 * candidates), all from the first study's dense model (same recipe, same 6,000-image holdout):
 *   - pruning: gradual, Taylor criterion, lr 3e-3, 'hold-cosine' schedule, global scope, weight granularity,
 *     batch 128, seed 0 — the Fashion grid's best at 98 % on validation (experiments/fashion-grid.ts);
 *   - × sparsity 97.5 % and 98 % (the only ones that can reach 100×, see above);
 *   - × 8 epochs (the first study's budget, the control) and 24 epochs (three times as long: the 8-epoch
 *     schedule reaches its final sparsity at epoch 6 and leaves 2 epochs to recover);
 *   - × without and with knowledge distillation from the dense model (α 0.5, T 4), which raised the grid's
 *     98 % Taylor runs at constant lr (87.78 → 88.13 at lr 3e-3) but was never tried with 'hold-cosine';
 *   - then each pruned model quantized by k-means at 2, 3, 4 and 5 bits with trained quantization for
 *     3 epochs (the first study: 1) at lr 1e-4, with the same loss as its pruning run (distillation or not).
 *
 * Selection rule, as in the first study ('best-at-size'): among the candidates whose entropy-coded file is
 * ≥ 100× smaller than the dense file, the one with the best validation accuracy (ties: the first declared);
 * then the test set is touched once, for it and the dense model. Whether it meets ≤ 1.0 point is reported
 * as it comes out. Writes <out>/runs.ndjson (one line per finished run; --resume skips them),
 * <out>/summary.json, docs/fashion-compression-100.svg (validation accuracy against file size) and prints
 * the README rows.
 *
 * THIRD LOOK, declared 2026-11-30 before it ran: `--float16` (output experiments/results/fashion-compression-
 * 100-f16, chart docs/fashion-compression-100-f16.svg). This study chose a 98 % model at 4 bits (test −1.22)
 * because the fixed part of the file — header ~2,000 bytes and float32 biases 1,640 — left the more accurate
 * 97.5 % / 5-bit models outside the budget. The file format can now store the biases and codebook centroids
 * in float16 (quantizer option `float16`: rounded after trained quantization, which is otherwise unchanged).
 * The third look reruns exactly the declared 32 candidates above (same seeds and backend, so the same pruned
 * models: their validation accuracies must equal the second study's journal, which the script checks), with
 * float16 biases and centroids, and applies the same selection rule; the test set is touched once more, for
 * the chosen file. Nothing else changes: no new candidate, no new bit width, no per-layer widths. This is the
 * third test-set evaluation for this target (first study −1.38, second −1.22); the README reports all three.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { subset, type Dataset, type DataSplit } from '../src/data/dataset.ts';
import { modelFromRecord, modelToRecord } from '../src/io/model-adapter.ts';
import { serializeModel } from '../src/io/model-file.ts';
import { mlpSpec } from '../src/nn/build.ts';
import { cloneModel } from '../src/nn/clone.ts';
import { distillationLoss, type DistillationOptions } from '../src/nn/distillation.ts';
import type { Sequential } from '../src/nn/sequential.ts';
import { evaluate } from '../src/nn/train.ts';
import { FASHION_MNIST_DIR, loadIdxDirectory } from '../src/node/data.ts';
import { loadModelFile, saveModel } from '../src/node/model-io.ts';
import { runPruning, type PruneConfig } from '../src/prune/index.ts';
import { compressionStages, quantizeAndFineTune, type CompressionStages, type ModelQuantization } from '../src/quantize/index.ts';
import { compressionChart, type CompressionPoint } from '../src/report/index.ts';
import { holdoutRecord, readHoldoutRecord, trainWithRecipe, type TrainingRecipe } from '../src/study/recipe.ts';
import { holdoutValidation } from '../src/study/validation.ts';
import { DEFAULT_BACKEND } from '../src/tensor/backend.ts';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
/** The declared third look (see the file comment): float16 biases and codebook centroids. */
const FLOAT16 = args.includes('--float16');
const OUT = arg('out') ?? (FLOAT16 ? 'experiments/results/fashion-compression-100-f16' : 'experiments/results/fashion-compression-100');
const SECOND_STUDY_JOURNAL = 'experiments/results/fashion-compression-100/runs.ndjson';
const CHART = FLOAT16 ? 'docs/fashion-compression-100-f16.svg' : 'docs/fashion-compression-100.svg';
const DENSE = arg('dense') ?? 'experiments/results/fashion-compression/dense.safetensors';
const SUBSET = arg('subset') === undefined ? null : Number(arg('subset'));
const EPOCHS = arg('epochs') === undefined ? null : Number(arg('epochs'));
/** The first study's dense model and holdout, so both studies share one reference (trained here if missing). */
const HOLDOUT = { fraction: 0.1, seed: 0 };
const RECIPE: TrainingRecipe = { init: 'he', epochs: Number(arg('dense-epochs') ?? 15), batchSize: 128, lr: 1e-3, optimizer: 'adam', schedule: 'constant', seed: 0, backend: DEFAULT_BACKEND };
const TARGET = { ratio: 100, points: 1.0 };

/** The declared pruning runs (see the file comment). */
const DISTILL: DistillationOptions = { alpha: 0.5, temperature: 4 };
interface Pruning { readonly key: string; readonly sparsity: number; readonly epochs: number; readonly distill: boolean }
const PRUNINGS: Pruning[] = [0.975, 0.98].flatMap((sparsity) => [8, 24].flatMap((epochs) => [false, true].map((distill) => ({
  key: `taylor-hold-cosine@${sparsity}/${epochs}ep${distill ? '/distill' : ''}`, sparsity, epochs, distill,
}))));
const pruneConfig = (p: Pruning): PruneConfig => ({
  method: 'gradual', criterion: 'taylor', sparsity: p.sparsity, scope: 'global', granularity: { kind: 'weight' },
  epochs: EPOCHS ?? p.epochs, batchSize: 128, lr: 3e-3, lrSchedule: 'hold-cosine', seed: 0, ...(p.distill ? { distill: DISTILL } : {}),
});
/** The declared quantizations of every pruned model: k-means weight sharing, trained for 3 epochs. */
const BITS = [2, 3, 4, 5];
const QUANTIZE_EPOCHS = 3;
const QUANTIZE_LR = 1e-4;

interface Row {
  readonly key: string;
  readonly pruning: string;
  readonly sparsity: number;
  readonly epochs: number;
  readonly distill: boolean;
  /** Codebook bits, or null for the pruned float32 model. */
  readonly bits: number | null;
  readonly stages: CompressionStages;
  readonly validationAccuracy: number;
  readonly seconds: number;
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  let data: DataSplit = loadIdxDirectory(arg('data') ?? FASHION_MNIST_DIR, { name: 'fashion-mnist' });
  if (SUBSET !== null) {
    const first = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
    data = { train: subset(data.train, first(Math.min(SUBSET, data.train.count)), data.train.name), test: subset(data.test, first(Math.min(Math.ceil(SUBSET / 6), data.test.count)), data.test.name) };
  }

  // 1. The dense model, trained without its holdout (the first study's file when it exists).
  if (!existsSync(DENSE)) {
    mkdirSync(dirname(DENSE), { recursive: true });
    const { model, history } = trainWithRecipe(mlpSpec([784, 300, 100, 10]), RECIPE, data.train, { holdout: HOLDOUT });
    const holdout = holdoutRecord(data.train, arg('data') ?? 'fashion-mnist', HOLDOUT.fraction, HOLDOUT.seed, history.holdout!);
    await saveModel(DENSE, modelToRecord(model, { training: { command: 'experiments/fashion-compression-100.ts', recipe: { ...RECIPE, backend: history.backend }, holdout, validationAccuracy: evaluate(model, history.holdout!.validation).accuracy } }));
  }
  const record = await loadModelFile(DENSE);
  const dense = modelFromRecord(record);
  const plan = holdoutValidation(data.train, readHoldoutRecord(record.training)!);
  const train = subset(data.train, plan.folds[0]!.trainIndices, `${data.train.name}/fit`);
  const validation = subset(data.train, plan.folds[0]!.validationIndices!, `${data.train.name}/validation`);
  const denseValidation = evaluate(dense, validation).accuracy;
  console.error(`validation: ${plan.description}; dense validation accuracy ${pct(denseValidation)}`);

  // 2. Every declared configuration, scored on the holdout only (resumable).
  const journalPath = join(OUT, 'runs.ndjson');
  const done = new Map<string, Row>();
  if (args.includes('--resume') && existsSync(journalPath)) {
    for (const line of readFileSync(journalPath, 'utf8').split('\n')) if (line.trim() !== '') done.set((JSON.parse(line) as Row).key, JSON.parse(line) as Row);
  } else writeFileSync(journalPath, '');
  const models = new Map<string, { model: Sequential; quantization: ModelQuantization }>();
  const remember = (row: Row): void => {
    done.set(row.key, row);
    appendFileSync(journalPath, `${JSON.stringify(row)}\n`);
  };
  for (const p of PRUNINGS) {
    if ([p.key, ...BITS.map((b) => `${p.key}+kmeans${b}`)].every((key) => done.has(key))) continue;
    let started = Date.now();
    const pruned = runPruning(cloneModel(dense), { train }, pruneConfig(p)).model;
    const prunedRow: Row = { key: p.key, pruning: p.key, sparsity: p.sparsity, epochs: p.epochs, distill: p.distill, bits: null, stages: compressionStages(pruned, null), validationAccuracy: evaluate(pruned, validation).accuracy, seconds: (Date.now() - started) / 1000 };
    remember(prunedRow);
    if (FLOAT16 && SUBSET === null && EPOCHS === null) checkSameModel(prunedRow); // fail fast, before quantizing
    console.error(`${p.key}: validation ${pct(prunedRow.validationAccuracy)}, ${prunedRow.stages.pruned} bytes (${prunedRow.seconds.toFixed(0)} s)`);
    for (const bits of BITS) {
      started = Date.now();
      const { model, quantization } = quantize(pruned, p, bits, train, dense);
      const stages = { ...compressionStages(model, quantization), pruned: prunedRow.stages.pruned };
      const row: Row = { ...prunedRow, key: `${p.key}+kmeans${bits}`, bits, stages, validationAccuracy: evaluate(model, validation).accuracy, seconds: (Date.now() - started) / 1000 };
      remember(row);
      models.set(row.key, { model, quantization });
      console.error(`  + kmeans${bits}: validation ${pct(row.validationAccuracy)}, ${stages.quantized} → ${stages.entropyCoded} bytes (${ratio(stages).toFixed(1)}×, ${row.seconds.toFixed(0)} s)`);
    }
  }
  const rows = [...done.values()];

  // 3. The best validation accuracy among files ≥ 100× smaller; then the test set, once.
  const denseTest = evaluate(dense, data.test).accuracy;
  const eligible = rows.filter((r) => r.bits !== null && ratio(r.stages) >= TARGET.ratio);
  let chosen = null;
  if (eligible.length > 0) {
    const best = eligible.reduce((a, b) => (b.validationAccuracy > a.validationAccuracy ? b : a));
    let entry = models.get(best.key);
    if (entry === undefined) { // resumed: rebuild it (same seeds, same backend: the same bits)
      const p = PRUNINGS.find((x) => x.key === best.pruning)!;
      entry = quantize(runPruning(cloneModel(dense), { train }, pruneConfig(p)).model, p, best.bits!, train, dense);
    }
    const bytes = serializeModel(modelToRecord(entry.model, { quantization: entry.quantization }), { indices: 'gaps', huffman: true });
    writeFileSync(join(OUT, 'chosen-100x.safetensors'), bytes);
    const test = evaluate(entry.model, data.test).accuracy;
    const fileRatio = best.stages.dense / bytes.length;
    chosen = { ...best, testAccuracy: test, ratio: fileRatio, fileBytes: bytes.length, candidates: eligible.length, met: fileRatio >= TARGET.ratio && 100 * (denseTest - test) <= TARGET.points };
  }
  const summary = { holdout: plan.description, subset: SUBSET, target: TARGET, dense: { validationAccuracy: denseValidation, testAccuracy: denseTest, bytes: rows[0]?.stages.dense ?? null }, configurations: rows.length, chosen, rows };
  writeFileSync(join(OUT, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

  // 4. The chart: validation accuracy against the entropy-coded size, one series per bit width.
  const series = new Map<string, CompressionPoint[]>();
  const add = (name: string, point: CompressionPoint): void => void (series.get(name) ?? series.set(name, []).get(name)!).push(point);
  for (const r of rows) if (r.bits !== null) add(`kmeans ${r.bits}-bit + Huffman`, { bytes: r.stages.entropyCoded!, accuracy: r.validationAccuracy });
  if (SUBSET === null) {
    writeFileSync(CHART, compressionChart({
      title: `Fashion-MNIST LeNet-300-100 at 97.5–98 % sparsity${FLOAT16 ? ', float16 biases and centroids' : ''}: validation accuracy against file size`,
      yLabel: 'validation accuracy (%, 6,000 held-out images)',
      series,
      dense: { bytes: rows[0]?.stages.dense ?? 1, accuracy: denseValidation },
    }));
  }

  console.log(`dense: validation ${pct(denseValidation)}, test ${pct(denseTest)}, ${summary.dense.bytes} bytes; ${rows.length} runs scored on the holdout, ${eligible.length} candidates ≥ ${TARGET.ratio}× smaller`);
  console.log('| configuration | pruned bytes | quantized → Huffman bytes | × smaller | validation |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.key} | ${r.stages.pruned} | ${r.bits === null ? '' : `${r.stages.quantized} → ${r.stages.entropyCoded}`} | ${r.bits === null ? '' : ratio(r.stages).toFixed(1)} | ${pct(r.validationAccuracy)} |`);
  if (chosen === null) console.log(`no candidate is ≥ ${TARGET.ratio}× smaller`);
  else console.log(`chosen: ${chosen.key} (of ${chosen.candidates}): ${chosen.stages.dense} → ${chosen.stages.pruned} → ${chosen.stages.quantized} → ${chosen.fileBytes} bytes, ${chosen.ratio.toFixed(1)}× smaller; validation ${pct(chosen.validationAccuracy)}, test ${pct(chosen.testAccuracy)} (${(100 * (chosen.testAccuracy - denseTest)).toFixed(2)} vs dense); target ${chosen.met ? 'met' : 'missed'}`);
}

/** k-means weight sharing of a copy of `pruned` at `bits`, trained with the loss its pruning run used. */
function quantize(pruned: Sequential, p: Pruning, bits: number, train: Dataset, teacher: Sequential): { model: Sequential; quantization: ModelQuantization } {
  const model = cloneModel(pruned);
  const epochs = EPOCHS === null ? QUANTIZE_EPOCHS : Math.min(EPOCHS, QUANTIZE_EPOCHS);
  const fit = p.distill ? { loss: distillationLoss(teacher, DISTILL) } : {};
  const { quantization } = quantizeAndFineTune(model, train, { method: 'kmeans', bits, epochs, lr: QUANTIZE_LR, seed: 0, fit, float16: FLOAT16 });
  return { model, quantization };
}

/**
 * The third look must rerun the second study's models, not new ones: a pruned model's validation accuracy
 * (measured before any quantization, so untouched by float16) and size must equal the second study's journal.
 */
function checkSameModel(row: Row): void {
  const before = readFileSync(SECOND_STUDY_JOURNAL, 'utf8').split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as Row).find((r) => r.key === row.key);
  if (before === undefined || before.validationAccuracy !== row.validationAccuracy || before.stages.pruned !== row.stages.pruned) {
    throw new Error(`${row.key}: not the second study's model (validation ${row.validationAccuracy} vs ${before?.validationAccuracy}, ${row.stages.pruned} vs ${before?.stages.pruned} bytes)`);
  }
  console.error(`${row.key}: the second study's model (validation and size equal)`);
}

function ratio(stages: CompressionStages): number {
  return stages.dense / (stages.entropyCoded ?? stages.pruned);
}

function pct(x: number): string {
  return (100 * x).toFixed(2);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
