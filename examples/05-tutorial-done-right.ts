// The pruning tutorial you may have arrived with, done right.
//
// A widely copied TensorFlow/Keras tutorial trains a 784-128-64-32-10 MLP on MNIST and then "prunes" it in two
// listings. Neither runs as printed: `tf.gradient` does not exist (it is `tape.gradient`), `model.loss` is a
// function, not a tensor, float labels go into a *sparse* categorical loss (which wants integer classes), and
// the gradient list is indexed by variable (`grads[var]`). Its rules are odd, too:
//   listing 1, after training: zero a *whole* weight matrix when more than 70 % of its gradients are ≤ 1e-3,
//              with the count divided by the matrix's first dimension instead of its size;
//   listing 2, "sparse optimization": set every |w| ≤ 1e-3 to zero between epochs.
// Below: the same two experiments on the built-in digits, first as literally intended (a threshold per
// weight), then what the library does instead with the same budget — and why. About 15 s with the default
// 4 epochs: `npx tsx examples/05-tutorial-done-right.ts` (EPOCHS=1 for a quick look).
import {
  Adam, calibrateStdMultiple, cloneModel, collectGradientStats, evaluate, findTargets, fit, maskByThreshold, mlp, pruneTargets,
  Rng, runPruning, targetsSparsity, type Sequential, type TrainingHooks,
} from 'sparsegrad';
import { loadDigits } from 'sparsegrad/node';

const epochs = Number(process.env['EPOCHS'] ?? 4); // the tests run every example with EPOCHS=1
const epochsText = `${epochs} epoch${epochs === 1 ? '' : 's'}`;
const { train, test } = loadDigits(); // 8,000 training and 2,000 test images of real MNIST digits
const percent = (x: number): string => `${(x * 100).toFixed(1)}%`;
const accuracy = (model: Sequential): string => percent(evaluate(model, test).accuracy);
const trainFor = (model: Sequential, n: number, hooks: TrainingHooks[] = []): void =>
  void fit(model, train, { epochs: n, batchSize: 128, optimizer: new Adam(model.parameters(), { lr: 1e-3 }), seed: 0, hooks });

// ---- The tutorial's network, trained dense ---------------------------------------------------------------
// Integer labels and a cross-entropy on logits: what the tutorial's sparse categorical loss wanted.
const dense = mlp([784, 128, 64, 32, 10], { seed: 0 });
trainFor(dense, epochs);
console.log(`dense 784-128-64-32-10 after ${epochsText}: test accuracy ${accuracy(dense)}`);

// ---- Listing 1: prune by gradient magnitude ----------------------------------------------------------------
// |∂L/∂w| of the trained network for every weight, averaged over 10 mini-batches (one batch is a noisy
// estimate). Gathering these statistics does not change the weights.
const denseTargets = findTargets(dense); // the weight matrix of every Linear layer, named layers.<i>.weight
const stats = collectGradientStats(dense, denseTargets, train, { batches: 10, seed: 0 });
const gradients = new Map(denseTargets.map((t) => [t.name, stats.sum('absGrad', t.weight).map((g) => g / stats.batches)] as const));

// As written: whole matrices go. Keras stores a Dense kernel as [inputs, outputs], so dividing the count of
// small gradients by the first dimension divides by the number of inputs instead of the size: the "fraction"
// is inflated by the number of outputs, every matrix passes 70 %, and one zeroed matrix is enough to give
// every input the same logits. (Our weights are [outputs, inputs], as in PyTorch: the inputs are the columns.)
const literal = cloneModel(dense);
for (const t of findTargets(literal)) {
  const small = gradients.get(t.name)!.filter((g) => g <= 1e-3).length;
  const [outputs, inputs] = t.weight.value.shape as [number, number];
  const zeroed = small / inputs > 0.7;
  if (zeroed) t.weight.setMask(new Uint8Array(outputs * inputs));
  console.log(`  ${t.name} [${outputs}×${inputs}]: ${percent(small / (outputs * inputs))} of gradients ≤ 1e-3, "${percent(small / inputs)}" by the tutorial's count → ${zeroed ? 'whole matrix zeroed' : 'kept'}`);
}
console.log(`listing 1 as written: ${percent(targetsSparsity(findTargets(literal)))} sparse, test accuracy ${accuracy(literal)}`);

// As intended: prune each weight whose |∂L/∂w| ≤ 1e-3. The mask (1 = keep) goes to the Parameter, so the
// pruned weights are exactly zero and stay zero if the model is trained further.
const byGradient = cloneModel(dense);
for (const t of findTargets(byGradient)) t.weight.setMask(maskByThreshold(gradients.get(t.name)!, 1e-3, { pruneAtThreshold: true }));
const budget = targetsSparsity(findTargets(byGradient));
console.log(`listing 1 as intended, |∂L/∂w| ≤ 1e-3 per weight: ${percent(budget)} sparse, test accuracy ${accuracy(byGradient)}`);

// Why that is a weak criterion: training drives ∂L/∂w towards 0 for *every* weight that has converged,
// large or small, so |∂L/∂w| says how much the loss would change if w moved a little — not what removing w
// costs. Removing w moves it by −w, which changes the loss by about |w·∂L/∂w| (first-order Taylor). The
// weights with the smallest gradients include many that matter. (What it does get right: the connections
// from pixels that are blank in every image have a gradient of exactly 0 and are useless; |w·∂L/∂w| prunes
// them first too, |w| alone does not.)
// The same budget — the same number of weights removed, still without any retraining — by each score, the
// fraction removed chosen across all layers at once (scope 'global'); then a harder budget, 90 %, where the
// difference grows. 'gradient' is listing 1's score (mean |∂L/∂w| over 10 batches), ranked instead of
// thresholded.
const SCORES = { gradient: '|∂L/∂w|', magnitude: '|w|', taylor: '|w·∂L/∂w|' } as const;
for (const sparsity of [budget, 0.9]) {
  const results = Object.entries(SCORES).map(([criterion, score]) => {
    const model = cloneModel(dense);
    const targets = findTargets(model);
    const gradientStats = criterion === 'magnitude' ? null : collectGradientStats(model, targets, train, { batches: 10, seed: 0 });
    pruneTargets(targets, sparsity, { criterion, scope: 'global', granularity: { kind: 'weight' }, stats: gradientStats, rng: new Rng(0) });
    return `${score} ${accuracy(model)}`;
  });
  console.log(`  one-shot to ${percent(sparsity)}, no retraining, test accuracy by score: ${results.join(', ')}`);
}

// What fixes it for good is to let the network adapt: prune gradually while training (Zhu & Gupta 2017), a
// little at a time, by |w·∂L/∂w|, for as many epochs as the dense model trained.
for (const sparsity of [budget, 0.9]) {
  const gradual = runPruning(cloneModel(dense), { train }, {
    method: 'gradual', criterion: 'taylor', sparsity, scope: 'global', granularity: { kind: 'weight' },
    epochs, batchSize: 128, lr: 1e-3, seed: 0,
  });
  console.log(`  gradual pruning by |w·∂L/∂w| to ${percent(gradual.sparsity)} in ${epochsText}: test accuracy ${accuracy(gradual.model)}`);
}

// ---- Listing 2: "sparse optimization" ----------------------------------------------------------------------
// As intended: train from scratch, and after every epoch set each |w| ≤ 1e-3 to zero. No mask remembers the
// zeros, so the next optimizer step moves them again; and 1e-3 is tiny next to these weights (the first
// layer's start with a standard deviation of √(2/784) ≈ 0.05), so hardly any weight is that small anyway.
const zeroSmallWeights: TrainingHooks = {
  afterEpoch(_stats, model) {
    for (const t of findTargets(model as Sequential)) t.weight.value.data.forEach((w, i, data) => void (Math.abs(w) <= 1e-3 && (data[i] = 0)));
  },
};
const thresholded = mlp([784, 128, 64, 32, 10], { seed: 0 });
const zerosAfter: number[] = [];
trainFor(thresholded, epochs, [zeroSmallWeights, { afterEpoch: () => void zerosAfter.push(targetsSparsity(findTargets(thresholded))) }]);
console.log(`listing 2 as intended, |w| ≤ 1e-3 zeroed after every epoch: ${zerosAfter.map(percent).join(', ')} sparse after each zeroing, test accuracy ${accuracy(thresholded)}`);
const stillZero = cloneModel(thresholded);
trainFor(stillZero, 1);
// Almost all that stay zero are weights no gradient ever reaches: from pixels that are blank in every image,
// or into units that never fire.
console.log(`  one more epoch without the rule: ${percent(targetsSparsity(findTargets(stillZero)))} still zero (nothing kept the others there)`);

// Sparse optimization that works (Han et al. 2015's rule, the `threshold` method): a threshold relative to
// each layer's spread, τ = q·std(w), applied after every optimizer step through the masks, so a pruned
// weight stays exactly zero unless its gradient pushes it back past τ. Scale-free: q = 1 means "smaller
// than typical for this layer", whatever the layer's size. Here q is the one that would remove listing 1's
// budget from the trained dense weights; the sparsity reached is an outcome of training.
const q = calibrateStdMultiple(dense, budget);
const sparseOptimization = runPruning(mlp([784, 128, 64, 32, 10], { seed: 0 }), { train }, {
  method: 'threshold', sparsity: 0, scope: 'layer', granularity: { kind: 'weight' }, epochs, batchSize: 128, lr: 1e-3, seed: 0,
  options: { threshold: q },
});
console.log(`threshold |w| < ${q.toFixed(2)}·std(w) after every step, from scratch: ${percent(sparseOptimization.sparsity)} sparse, test accuracy ${accuracy(sparseOptimization.model)}`);

// Or fix the budget instead of the threshold: keep exactly the largest |w| after every step (iterative hard
// thresholding, the `topk` method) — listing 1's budget, exactly.
const topk = runPruning(mlp([784, 128, 64, 32, 10], { seed: 0 }), { train }, {
  method: 'topk', sparsity: budget, scope: 'global', granularity: { kind: 'weight' }, epochs, batchSize: 128, lr: 1e-3, seed: 0,
});
console.log(`top-k |w| kept after every step, from scratch: ${percent(topk.sparsity)} sparse, test accuracy ${accuracy(topk.model)}`);

// What to take away:
// - Prune weights, not matrices, and install masks: a zeroed weight that nothing keeps at zero comes back.
// - Rank by what removing a weight costs, |w·∂L/∂w| (or simply |w|), not by |∂L/∂w|, which training drives
//   towards zero for every weight.
// - Choose the budget (a sparsity) rather than an absolute threshold, or a threshold relative to each
//   layer's scale; and prune while training, so the network adapts to what it lost.
